"""Tickets (questions for staff), leads, and who the staff are."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.core import User
from db.models.events import OutboxMessage
from db.models.handoff import Lead, Ticket
from db.models.privacy import AuditEntry
from db.repos.staff import STAFF_ROLES, RoleRepo


@dataclass(frozen=True)
class StaffChat:
    channel: str
    chat_id: str
    name: str | None


async def is_staff(session: AsyncSession, channel: str, chat_id: str) -> bool:
    """The chat's role is staff or admin (roles live in ``db.repos.staff``)."""
    return await RoleRepo(session).role_of(channel, chat_id) in STAFF_ROLES


async def staff_chats(session: AsyncSession) -> list[StaffChat]:
    """Every reachable staff member's chat."""
    rows = await session.execute(
        select(User.channel, User.chat_id, User.display_name)
        .where(User.role.in_(STAFF_ROLES), User.unreachable.is_(False))
        .order_by(User.id)
    )
    return [StaffChat(c, i, n) for c, i, n in rows.all()]


class TicketRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, **values: object) -> Ticket:
        row = Ticket(**values)
        self.session.add(row)
        await self.session.flush()
        return row

    async def get(self, ticket_id: int, lock: bool = False) -> Ticket | None:
        stmt = select(Ticket).where(Ticket.id == ticket_id)
        if lock:
            stmt = stmt.with_for_update()
        return await self.session.scalar(stmt.execution_options(populate_existing=True))

    async def open_for(self, channel: str, chat_id: str) -> Ticket | None:
        """The user's ticket still open (the newest)."""
        return await self.session.scalar(
            select(Ticket)
            .where(Ticket.channel == channel, Ticket.chat_id == chat_id, Ticket.status != "closed")
            .order_by(Ticket.id.desc())
            .limit(1)
        )

    async def take(
        self,
        ticket_id: int,
        channel: str | None,
        chat_id: str | None,
        name: str | None,
        now: datetime,
    ) -> bool:
        """The first staff member to take a ticket owns it: a conditional update, so two
        taking at once cannot both win."""
        result = await self.session.execute(
            update(Ticket)
            .where(Ticket.id == ticket_id, Ticket.status == "open")
            .values(
                status="taken",
                staff_channel=channel,
                staff_chat_id=chat_id,
                staff_name=name,
                updated_at=now,
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def list(self, open_only: bool = False, limit: int = 200) -> Sequence[Ticket]:
        stmt = select(Ticket).order_by(Ticket.id.desc()).limit(limit)
        if open_only:
            stmt = stmt.where(Ticket.status != "closed")
        return (await self.session.scalars(stmt)).all()

    async def count_open(self) -> int:
        """Questions waiting for an answer (as «🙋 Câu hỏi chờ trả lời» lists them)."""
        stmt = (
            select(func.count())
            .select_from(Ticket)
            .where(Ticket.status != "closed", Ticket.answered_at.is_(None))
        )
        return int(await self.session.scalar(stmt) or 0)

    async def page(
        self, where: Sequence[ColumnElement[bool]], offset: int, limit: int
    ) -> tuple[int, Sequence[Ticket]]:
        """One page of tickets matching ``where`` (newest first) and how many match."""
        total = await self.session.scalar(select(func.count()).select_from(Ticket).where(*where))
        stmt = select(Ticket).where(*where).order_by(Ticket.id.desc()).offset(offset).limit(limit)
        return int(total or 0), (await self.session.scalars(stmt)).all()

    async def messages(self, ticket_id: int) -> Sequence[OutboxMessage]:
        """What the bot sent about a ticket (keys ``tk:<id>:…``), oldest first."""
        stmt = (
            select(OutboxMessage)
            .where(OutboxMessage.campaign.like(f"tk:{ticket_id}:%"))
            .order_by(OutboxMessage.id)
        )
        return (await self.session.scalars(stmt)).all()

    async def audit(self, ticket_id: int) -> Sequence[AuditEntry]:
        """Who took, answered and closed a ticket, oldest first."""
        stmt = (
            select(AuditEntry)
            .where(AuditEntry.subject == f"ticket:{ticket_id}")
            .order_by(AuditEntry.at, AuditEntry.id)
        )
        return (await self.session.scalars(stmt)).all()

    async def unanswered_since(self, before: datetime) -> Sequence[Ticket]:
        """Tickets not closed, never answered, created before ``before``, not yet flagged."""
        stmt = select(Ticket).where(
            Ticket.status != "closed",
            Ticket.answered_at.is_(None),
            Ticket.overdue_at.is_(None),
            Ticket.created_at < before,
        )
        return (await self.session.scalars(stmt.order_by(Ticket.id))).all()


class LeadRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, **values: object) -> Lead:
        row = Lead(**values)
        self.session.add(row)
        await self.session.flush()
        return row

    async def get(self, lead_id: int) -> Lead | None:
        return await self.session.get(Lead, lead_id)

    async def by_phone(self, phone: str) -> Lead | None:
        return await self.session.scalar(
            select(Lead).where(Lead.phone == phone).order_by(Lead.id).limit(1)
        )

    async def in_commune(self, commune_code: int) -> Sequence[Lead]:
        stmt = select(Lead).where(Lead.commune_code == commune_code).order_by(Lead.id)
        return (await self.session.scalars(stmt)).all()

    async def of_collaborator(self, channel: str, chat_id: str, limit: int = 20) -> Sequence[Lead]:
        stmt = (
            select(Lead)
            .where(Lead.channel == channel, Lead.chat_id == chat_id)
            .order_by(Lead.id.desc())
            .limit(limit)
        )
        return (await self.session.scalars(stmt)).all()

    async def list(self) -> Sequence[Lead]:
        return (await self.session.scalars(select(Lead).order_by(Lead.id))).all()

    async def count_open(self) -> int:
        stmt = select(func.count()).select_from(Lead).where(Lead.status == "new")
        return int(await self.session.scalar(stmt) or 0)

    async def link_drafts(self) -> int:
        """Leads whose phone appears on a confirmed draft: linked and marked «đã nộp hồ sơ»."""
        from db.models.drafts import Draft

        open_leads = (
            await self.session.scalars(
                select(Lead).where(Lead.draft_id.is_(None), Lead.status != "ineligible")
            )
        ).all()
        linked = 0
        for lead in open_leads:
            draft_id = await self.session.scalar(
                select(Draft.id)
                .where(Draft.phone == lead.phone, Draft.confirmed_at.is_not(None))
                .order_by(Draft.id)
                .limit(1)
            )
            if draft_id is not None:
                lead.draft_id = draft_id
                lead.status = "applied"
                linked += 1
        await self.session.flush()
        return linked
