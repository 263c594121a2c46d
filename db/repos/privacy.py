"""Consent records, the audit trail, one person's data (to show or erase) and retention."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.base import utcnow
from db.models.core import Conversation, InboxEvent, ProcessedUpdate, User
from db.models.drafts import Draft, DraftEvent
from db.models.events import OutboxMessage, Subscription
from db.models.faq import UnansweredQuestion
from db.models.handoff import Lead, Ticket
from db.models.privacy import AuditEntry, Consent
from db.repos.inbox import DONE, FAILED

# Drafts the owner has not handed over to staff yet: erased outright on request.
NOT_SUBMITTED = ("in_progress", "abandoned", "draft")
# Columns of a submitted draft that identify the person or hold what they wrote freely;
# cleared on request. The rest (support type, place, sector, workers, amounts, status and
# its history) stays for the centre's record of the requests it received.
PERSONAL_DRAFT_FIELDS = (
    "facility_name",
    "reg_no",
    "owner_name",
    "phone",
    "products",
    "plan",
    "expected_results",
)
# The users row that owns anonymised drafts: they no longer point at anyone's chat.
ANONYMOUS = ("-", "anonymous")
HANDLED_INBOX = (DONE, FAILED)  # a finished event; open ones belong to a worker

# Outbox rows still on their way: left to the sender (it would resend a deleted claim).
IN_FLIGHT = ("sending",)


class ConsentRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def current(self, channel: str, chat_id: str, purpose: str = "intake") -> Consent | None:
        """The chat's latest answer to the notice for ``purpose`` (None: never asked)."""
        return await self.session.scalar(
            select(Consent)
            .where(
                Consent.channel == channel,
                Consent.chat_id == chat_id,
                Consent.purpose == purpose,
            )
            .order_by(Consent.at.desc(), Consent.id.desc())
            .limit(1)
        )

    async def given(self, channel: str, chat_id: str, purpose: str = "intake") -> bool:
        row = await self.current(channel, chat_id, purpose)
        return row is not None and row.agreed and row.withdrawn_at is None

    async def record(
        self,
        channel: str,
        chat_id: str,
        *,
        version: str,
        agreed: bool,
        now: datetime,
        purpose: str = "intake",
    ) -> Consent:
        row = Consent(
            channel=channel,
            chat_id=chat_id,
            purpose=purpose,
            version=version,
            agreed=agreed,
            at=now,
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def withdraw(self, channel: str, chat_id: str, now: datetime) -> int:
        """Mark every standing consent of the chat withdrawn; how many there were."""
        result = await self.session.execute(
            update(Consent)
            .where(
                Consent.channel == channel,
                Consent.chat_id == chat_id,
                Consent.agreed.is_(True),
                Consent.withdrawn_at.is_(None),
            )
            .values(withdrawn_at=now)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


class AuditRepo:
    """Who did what, when, to which record: never the personal data itself."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(
        self,
        *,
        actor: str,
        action: str,
        subject: str | None = None,
        detail: str | None = None,
        now: datetime | None = None,
    ) -> AuditEntry:
        row = AuditEntry(
            at=now or utcnow(),
            actor=actor[:100],
            action=action[:64],
            subject=subject[:100] if subject else None,
            detail=detail[:500] if detail else None,
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def list(self, action: str | None = None) -> Sequence[AuditEntry]:
        query = select(AuditEntry).order_by(AuditEntry.at, AuditEntry.id)
        if action:
            query = query.where(AuditEntry.action == action)
        return (await self.session.scalars(query)).all()


@dataclass
class PersonalData:
    """Everything stored about one chat."""

    user: User | None
    consents: list[Consent] = field(default_factory=list)
    drafts: list[Draft] = field(default_factory=list)
    subscription: Subscription | None = None
    questions: list[UnansweredQuestion] = field(default_factory=list)
    tickets: list[Ticket] = field(default_factory=list)  # questions sent to staff
    leads: int = 0  # facilities this chat (a collaborator) registered
    outbox_pending: int = 0
    conversation: Conversation | None = None


@dataclass
class Erased:
    """What an erasure did (counts only: this is what the audit trail keeps)."""

    drafts_deleted: int = 0
    drafts_anonymised: list[int] = field(default_factory=list)
    subscriptions: int = 0
    questions: int = 0
    outbox: int = 0
    consents: int = 0
    leads: int = 0  # leads kept for the centre, no longer linked to this chat
    messages: int = 0  # handled incoming messages emptied (their ids stay, see erase)

    def summary(self) -> str:
        return (
            f"drafts_deleted={self.drafts_deleted} "
            f"drafts_anonymised={len(self.drafts_anonymised)} "
            f"subscriptions={self.subscriptions} questions={self.questions} "
            f"outbox={self.outbox} consents={self.consents} leads_unlinked={self.leads} "
            f"messages={self.messages}"
        )


class PersonalDataRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def collect(self, channel: str, chat_id: str) -> PersonalData:
        s = self.session
        user = await s.scalar(select(User).where(User.channel == channel, User.chat_id == chat_id))
        data = PersonalData(user=user)
        data.consents = list(
            (
                await s.scalars(
                    select(Consent)
                    .where(Consent.channel == channel, Consent.chat_id == chat_id)
                    .order_by(Consent.at, Consent.id)
                )
            ).all()
        )
        if user is not None:
            data.drafts = list(
                (
                    await s.scalars(
                        select(Draft).where(Draft.user_id == user.id).order_by(Draft.id)
                    )
                ).all()
            )
            data.subscription = await s.scalar(
                select(Subscription).where(Subscription.user_id == user.id)
            )
        data.questions = list(
            (
                await s.scalars(
                    select(UnansweredQuestion)
                    .where(
                        UnansweredQuestion.channel == channel,
                        UnansweredQuestion.chat_id == chat_id,
                    )
                    .order_by(UnansweredQuestion.id)
                )
            ).all()
        )
        data.tickets = list(
            (
                await s.scalars(
                    select(Ticket)
                    .where(Ticket.channel == channel, Ticket.chat_id == chat_id)
                    .order_by(Ticket.id)
                )
            ).all()
        )
        data.leads = int(
            await s.scalar(
                select(func.count())
                .select_from(Lead)
                .where(Lead.channel == channel, Lead.chat_id == chat_id)
            )
            or 0
        )
        data.outbox_pending = int(
            await s.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(
                    OutboxMessage.channel == channel,
                    OutboxMessage.chat_id == chat_id,
                    OutboxMessage.status == "pending",
                )
            )
            or 0
        )
        data.conversation = await s.get(Conversation, (channel, chat_id))
        return data

    async def _anonymous_user(self) -> int:
        s = self.session
        found = await s.scalar(
            select(User.id).where(User.channel == ANONYMOUS[0], User.chat_id == ANONYMOUS[1])
        )
        if found is not None:
            return int(found)
        row = User(
            channel=ANONYMOUS[0],
            chat_id=ANONYMOUS[1],
            user_id="",
            role="anonymous",
            unreachable=True,
            first_seen=utcnow(),
            last_seen=utcnow(),
        )
        s.add(row)
        await s.flush()
        return row.id

    async def erase(self, channel: str, chat_id: str, now: datetime) -> Erased:
        """Delete the chat's personal data; submitted drafts are kept anonymised.

        The users row stays (the chat goes on talking to the bot) without name, phone or
        language; the conversation state is left to the caller (the engine saves it).
        """
        s = self.session
        done = Erased()
        user = await s.scalar(select(User).where(User.channel == channel, User.chat_id == chat_id))
        if user is not None:
            drafts = (await s.scalars(select(Draft).where(Draft.user_id == user.id))).all()
            for draft in drafts:
                if draft.status in NOT_SUBMITTED:
                    await s.delete(draft)
                    done.drafts_deleted += 1
                    continue
                for name in PERSONAL_DRAFT_FIELDS:
                    setattr(draft, name, None)
                draft.answers = {}
                draft.user_id = await self._anonymous_user()
                draft.channel, draft.chat_id = ANONYMOUS
                draft.updated_at = now
                done.drafts_anonymised.append(draft.id)
                # Notifications quote the facility; the owner's own actions name the chat.
                await s.execute(
                    update(DraftEvent)
                    .where(DraftEvent.draft_id == draft.id, DraftEvent.kind == "notification")
                    .values(note=None)
                )
                await s.execute(
                    update(DraftEvent)
                    .where(DraftEvent.draft_id == draft.id, DraftEvent.actor.like("owner:%"))
                    .values(actor="owner")
                )
            result = await s.execute(delete(Subscription).where(Subscription.user_id == user.id))
            done.subscriptions = int(result.rowcount)  # type: ignore[attr-defined]
            user.display_name = None
            user.phone = None
            user.language = None
            user.user_id = ""
        result = await s.execute(
            delete(UnansweredQuestion).where(
                UnansweredQuestion.channel == channel, UnansweredQuestion.chat_id == chat_id
            )
        )
        done.questions = int(result.rowcount)  # type: ignore[attr-defined]
        # Their questions to staff (handlers/tickets) are questions too.
        result = await s.execute(
            delete(Ticket).where(Ticket.channel == channel, Ticket.chat_id == chat_id)
        )
        done.questions += int(result.rowcount)  # type: ignore[attr-defined]
        # Facilities a collaborator registered are the centre's records of those facilities:
        # they stay, no longer linked to the collaborator who erased their data.
        result = await s.execute(
            update(Lead)
            .where(Lead.channel == channel, Lead.chat_id == chat_id)
            .values(chat_id="-", collaborator=None)
        )
        done.leads = int(result.rowcount)  # type: ignore[attr-defined]
        result = await s.execute(
            delete(OutboxMessage).where(
                OutboxMessage.channel == channel,
                OutboxMessage.chat_id == chat_id,
                OutboxMessage.status.not_in(IN_FLIGHT),
            )
        )
        done.outbox = int(result.rowcount)  # type: ignore[attr-defined]
        result = await s.execute(
            delete(Consent).where(Consent.channel == channel, Consent.chat_id == chat_id)
        )
        done.consents = int(result.rowcount)  # type: ignore[attr-defined]
        # What they typed is kept in the inbox until its retention ends; emptied now. The
        # rows themselves stay so a platform's redelivery of an old update is still seen
        # as handled (and not answered twice); rows still open are the worker's.
        result = await s.execute(
            update(InboxEvent)
            .where(
                InboxEvent.channel == channel,
                InboxEvent.chat_id == chat_id,
                InboxEvent.state.in_(HANDLED_INBOX),
            )
            .values(incoming={}, raw=None, error=None)
        )
        done.messages = int(result.rowcount)  # type: ignore[attr-defined]
        await s.flush()
        return done


class RetentionRepo:
    """Rows past their keeping time: counted (dry run) or deleted."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _apply(self, model: type, where: list[Any], dry_run: bool) -> int:
        if dry_run:
            count = await self.session.scalar(select(func.count()).select_from(model).where(*where))
            return int(count or 0)
        result = await self.session.execute(delete(model).where(*where))
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def questions(self, before: datetime, dry_run: bool) -> int:
        unanswered = await self._apply(
            UnansweredQuestion, [UnansweredQuestion.created_at < before], dry_run
        )
        # Questions sent to staff (handlers/tickets), by their last change.
        return unanswered + await self._apply(Ticket, [Ticket.updated_at < before], dry_run)

    async def outbox(self, before: datetime, dry_run: bool) -> int:
        """Rows done with (sent, failed for good, cancelled) last touched before ``before``."""
        return await self._apply(
            OutboxMessage,
            [
                OutboxMessage.status.in_(("sent", "failed", "cancelled")),
                OutboxMessage.updated_at < before,
            ],
            dry_run,
        )

    async def leads(self, before: datetime, dry_run: bool) -> int:
        """Facilities registered by collaborators that never led to a draft and were not
        touched since ``before`` (they hold a third person's name and phone)."""
        return await self._apply(Lead, [Lead.draft_id.is_(None), Lead.updated_at < before], dry_run)

    async def abandoned_drafts(self, before: datetime, dry_run: bool) -> int:
        """Unfinished or given-up drafts not touched since ``before``."""
        return await self._apply(
            Draft,
            [Draft.status.in_(("in_progress", "abandoned")), Draft.updated_at < before],
            dry_run,
        )

    async def conversations(self, before: datetime, dry_run: bool) -> int:
        """Dialogue states (answers typed halfway) not touched since ``before``."""
        return await self._apply(Conversation, [Conversation.updated_at < before], dry_run)

    async def update_ids(self, before: datetime, dry_run: bool) -> int:
        return await self._apply(ProcessedUpdate, [ProcessedUpdate.received_at < before], dry_run)
