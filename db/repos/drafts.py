"""Draft applications: the owner's in-progress answers, confirmed drafts, staff workflow."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.base import utcnow
from db.models.drafts import STATUSES, Draft, DraftEvent

# Columns a handler may set from the answers.
FIELDS = (
    "step",
    "support_type",
    "facility_name",
    "facility_kind",
    "reg_no",
    "owner_name",
    "phone",
    "province",
    "province_code",
    "commune",
    "commune_code",
    "sector",
    "products",
    "workers",
    "plan",
    "estimated_cost",
    "counterpart_funds",
    "estimated_support",
    "expected_results",
    "needs_review",
    "review_notes",
)


UNFINISHED = ("in_progress", "abandoned")


@dataclass(frozen=True)
class DraftCriteria:
    """What staff filter drafts by. ``status`` None: every confirmed draft; "all": every
    draft. Times are UTC bounds, ``created_before`` exclusive."""

    status: str | None = None
    province_code: int | None = None
    support_type: str | None = None
    created_from: datetime | None = None
    created_before: datetime | None = None

    def apply(self, query: Select[Any]) -> Select[Any]:
        if self.status == "all":
            pass
        elif self.status:
            query = query.where(Draft.status == self.status)
        else:
            query = query.where(Draft.status.not_in(UNFINISHED))
        if self.province_code is not None:
            query = query.where(Draft.province_code == self.province_code)
        if self.support_type:
            query = query.where(Draft.support_type == self.support_type)
        if self.created_from is not None:
            query = query.where(Draft.created_at >= self.created_from)
        if self.created_before is not None:
            query = query.where(Draft.created_at < self.created_before)
        return query


class DraftRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, draft_id: int, lock: bool = False) -> Draft | None:
        """``lock``: hold the row (PostgreSQL ``FOR UPDATE``) until the transaction ends,
        read fresh from the database."""
        if lock:
            return await self.session.get(
                Draft, draft_id, with_for_update=True, populate_existing=True
            )
        return await self.session.get(Draft, draft_id)

    async def in_progress(self, user_id: int) -> Draft | None:
        """The user's unfinished application (at most one is kept)."""
        return await self.session.scalar(
            select(Draft)
            .where(Draft.user_id == user_id, Draft.status == "in_progress")
            .order_by(Draft.id.desc())
            .limit(1)
        )

    async def start(self, user_id: int, channel: str, chat_id: str) -> Draft:
        draft = Draft(
            user_id=user_id,
            channel=channel,
            chat_id=chat_id,
            status="in_progress",
            needs_review=False,
            review_notes=[],
            answers={},
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        self.session.add(draft)
        await self.session.flush()
        return draft

    def update(self, draft: Draft, answers: Mapping[str, Any], fields: Mapping[str, Any]) -> None:
        """Store every answer as given and the columns derived from them."""
        draft.answers = dict(answers)
        for name, value in fields.items():
            if name not in FIELDS:
                raise ValueError(f"not a draft field: {name}")
            setattr(draft, name, value)
        draft.updated_at = utcnow()

    async def for_user(self, user_id: int) -> Sequence[Draft]:
        return (
            await self.session.scalars(
                select(Draft)
                .where(Draft.user_id == user_id, Draft.status != "abandoned")
                .order_by(Draft.id.desc())
            )
        ).all()

    async def list(self, status: str | None = None) -> Sequence[Draft]:
        """Drafts for staff; by default every confirmed one (not in progress or abandoned)."""
        return await self.matching(DraftCriteria(status=status))

    async def matching(self, criteria: DraftCriteria) -> Sequence[Draft]:
        """Every draft matching, oldest first (exports)."""
        query = criteria.apply(select(Draft)).order_by(Draft.id)
        return (await self.session.scalars(query)).all()

    async def page(
        self, criteria: DraftCriteria, offset: int, limit: int
    ) -> tuple[Sequence[Draft], int]:
        """One page of the matching drafts, newest first, and how many match in all."""
        total = await self.session.scalar(criteria.apply(select(func.count()).select_from(Draft)))
        query = criteria.apply(select(Draft)).order_by(Draft.id.desc()).offset(offset).limit(limit)
        return (await self.session.scalars(query)).all(), int(total or 0)

    async def with_phone(self, phone: str, limit: int = 50) -> Sequence[Draft]:
        """Drafts giving this phone (national form), newest first, abandoned ones left out."""
        query = (
            select(Draft)
            .where(Draft.phone == phone, Draft.status != "abandoned")
            .order_by(Draft.id.desc())
            .limit(limit)
        )
        return (await self.session.scalars(query)).all()

    async def count_by_status(self) -> dict[str, int]:
        rows = await self.session.execute(select(Draft.status, func.count()).group_by(Draft.status))
        return {status: int(n) for status, n in rows.all()}

    async def set_status(
        self, draft: Draft, status: str, *, actor: str, note: str | None = None
    ) -> DraftEvent:
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        event = DraftEvent(
            draft_id=draft.id,
            at=utcnow(),
            actor=actor,
            kind="status",
            from_status=draft.status,
            to_status=status,
            note=note,
        )
        draft.status = status
        draft.updated_at = event.at
        if status == "draft" and draft.confirmed_at is None:
            draft.confirmed_at = event.at
        if status != "in_progress":
            draft.step = None
        self.session.add(event)
        await self.session.flush()
        return event

    async def record(self, draft: Draft, *, kind: str, actor: str, note: str) -> DraftEvent:
        event = DraftEvent(draft_id=draft.id, at=utcnow(), actor=actor, kind=kind, note=note)
        self.session.add(event)
        await self.session.flush()
        return event

    async def history(self, draft_id: int) -> Sequence[DraftEvent]:
        return (
            await self.session.scalars(
                select(DraftEvent)
                .where(DraftEvent.draft_id == draft_id)
                .order_by(DraftEvent.at, DraftEvent.id)
            )
        ).all()
