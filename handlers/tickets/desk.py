"""The staff desk: what staff do with the questions waiting for them, from any place.

The chat (``handlers.tickets``), the staff web pages and ``kcbot tickets`` all call these
functions, so the rules live once: who may answer a question another staff member took,
what a reply does (outbox, status, audit), what closing tells the user. Each returns an
``Outcome`` whose message is the Vietnamese sentence to show the staff member.

A staff member is a ``Staff``: the name the user sees, the audit actor, and their chat when
they have one. A web login not linked to a chat holds a question under ``login:<username>``
(no channel), so nothing is forwarded to a chat that does not exist: what the user adds
while waiting is appended to the question, which the page shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.handoff import Ticket
from db.repos.handoff import TicketRepo
from db.repos.privacy import AuditRepo
from handlers.tickets import service as svc

STATUS_LABELS = {"open": "chờ nhận", "taken": "đã nhận", "closed": "đã xong"}
SOURCE_LABELS = {
    "contact": "hỏi cán bộ",
    "unsure": "bot chưa trả lời được",
    "feedback": "chưa đúng ý",
}
# Filters of the queue (query-string values → labels), the first one the default.
STATUS_FILTERS = {
    "waiting": "Chờ trả lời",
    "open": "Chưa xong",
    "closed": "Đã xong",
    "all": "Tất cả",
}
SOURCE_FILTERS = {"all": "Mọi nguồn", **{k: v.capitalize() for k, v in SOURCE_LABELS.items()}}

TAKEN_OWNER = "🙋 Cán bộ {staff} đã nhận câu hỏi #{id} của bạn."


@dataclass(frozen=True)
class Staff:
    """Who acts: ``name`` is what the user reads, ``actor`` what the audit log records."""

    name: str
    actor: str
    channel: str | None = None
    chat_id: str | None = None
    # May answer or close a question another staff member took (admins, the command line).
    override: bool = False

    @property
    def holder(self) -> tuple[str | None, str | None]:
        return (self.channel, self.chat_id)


def web_staff(
    username: str,
    role: str,
    actor: str,
    channel: str | None = None,
    chat_id: str | None = None,
) -> Staff:
    """A web login: linked to a chat, it holds questions as that chat (so the user's
    follow-ups reach it there); otherwise as ``login:<username>``. Admins may answer or
    close a question a colleague took."""
    admin = role == "admin"
    if channel and chat_id:
        return Staff(username, actor, channel, chat_id, override=admin)
    return Staff(username, actor, None, f"login:{username}", override=admin)


@dataclass(frozen=True)
class Outcome:
    ok: bool
    message: str


def holder_of(ticket: Ticket) -> tuple[str | None, str | None]:
    return (ticket.staff_channel, ticket.staff_chat_id)


def refusal(ticket: Ticket, staff: Staff) -> str | None:
    """Why ``staff`` may not act on ``ticket`` now, or None."""
    if ticket.status == "closed":
        return f"Câu hỏi #{ticket.id} đã xong rồi."
    if ticket.status == "taken" and holder_of(ticket) != staff.holder and not staff.override:
        return f"Câu hỏi #{ticket.id} đã có cán bộ {ticket.staff_name or ''} nhận."
    return None


async def take(session: AsyncSession, ticket: Ticket, staff: Staff, now: datetime) -> bool:
    """First to take owns it (a conditional update); recorded, and the asker is told who."""
    won = await TicketRepo(session).take(ticket.id, staff.channel, staff.chat_id, staff.name, now)
    if not won:
        return False
    await AuditRepo(session).record(
        actor=staff.actor, action="ticket.take", subject=f"ticket:{ticket.id}", now=now
    )
    if ticket.source == "contact":
        await svc.send(
            session,
            now,
            svc.key(ticket.id, "taken", "o"),
            ticket.channel,
            ticket.chat_id,
            TAKEN_OWNER.format(staff=staff.name, id=ticket.id),
        )
    return True


async def _locked(session: AsyncSession, ticket_id: int) -> Ticket | None:
    return await TicketRepo(session).get(ticket_id, lock=True)


async def take_ticket(
    session: AsyncSession, ticket_id: int, staff: Staff, now: datetime
) -> Outcome:
    ticket = await _locked(session, ticket_id)
    if ticket is None:
        return Outcome(False, f"Không có câu hỏi #{ticket_id}.")
    if ticket.status == "taken" and holder_of(ticket) == staff.holder:
        return Outcome(True, f"Bạn đã nhận câu hỏi #{ticket.id} rồi.")
    reason = refusal(ticket, _plain(staff))
    if reason is not None:
        return Outcome(False, reason)
    if not await take(session, ticket, staff, now):
        fresh = await TicketRepo(session).get(ticket_id)
        return Outcome(False, (fresh and refusal(fresh, _plain(staff))) or "Không nhận được.")
    return Outcome(True, f"Bạn đã nhận câu hỏi #{ticket.id}.")


def _plain(staff: Staff) -> Staff:
    """Taking is never forced: even an admin does not take a question from a colleague."""
    return Staff(staff.name, staff.actor, staff.channel, staff.chat_id, override=False)


async def answer(
    session: AsyncSession,
    ticket_id: int,
    text: str,
    staff: Staff,
    now: datetime,
    *,
    unique: str | None = None,
) -> Outcome:
    """Reply to the asker in their chat (through the outbox). An open question is taken by
    the one answering first; the command line (no chat, no login) answers for the centre
    without owning it."""
    body = text.strip()
    if not body:
        return Outcome(False, "Bạn chưa gõ nội dung trả lời.")
    if len(body) > svc.MAX_REPLY:
        return Outcome(False, f"Câu trả lời dài quá {svc.MAX_REPLY} ký tự ({len(body)}).")
    ticket = await _locked(session, ticket_id)
    if ticket is None:
        return Outcome(False, f"Không có câu hỏi #{ticket_id}.")
    reason = refusal(ticket, staff)
    if reason is not None:
        return Outcome(False, reason)
    name = staff.name
    if ticket.status == "open" and staff.chat_id is not None:
        if not await take(session, ticket, staff, now):
            fresh = await TicketRepo(session).get(ticket_id)
            return Outcome(False, (fresh and refusal(fresh, staff)) or "Không trả lời được.")
        ticket = await TicketRepo(session).get(ticket_id)
        assert ticket is not None
    elif staff.override and holder_of(ticket) != staff.holder:
        name = ticket.staff_name or staff.name
    sent = await svc.reply(
        session, ticket, body, staff_name=name, actor=staff.actor, now=now, unique=unique
    )
    if not sent:
        return Outcome(True, f"Câu trả lời này đã được gửi cho câu hỏi #{ticket.id}.")
    return Outcome(True, f"Đã gửi câu trả lời cho câu hỏi #{ticket.id} tới người hỏi.")


async def close_ticket(
    session: AsyncSession, ticket_id: int, staff: Staff, now: datetime
) -> Outcome:
    """Close; the asker is told in their chat."""
    ticket = await _locked(session, ticket_id)
    if ticket is None:
        return Outcome(False, f"Không có câu hỏi #{ticket_id}.")
    if ticket.status == "closed":
        return Outcome(True, f"Câu hỏi #{ticket.id} đã xong rồi.")
    reason = refusal(ticket, staff)
    if reason is not None:
        return Outcome(False, reason)
    await svc.close(session, ticket, actor=staff.actor, now=now, by_owner=False)
    return Outcome(True, f"Đã đóng câu hỏi #{ticket.id} và báo người hỏi.")


# --- the queue -------------------------------------------------------------------------


def _filters(status: str, source: str) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if status == "waiting":
        where += [Ticket.status != "closed", Ticket.answered_at.is_(None)]
    elif status == "open":
        where.append(Ticket.status != "closed")
    elif status == "closed":
        where.append(Ticket.status == "closed")
    if source in SOURCE_LABELS:
        where.append(Ticket.source == source)
    return where


def status_filter(value: str | None) -> str:
    """A status filter from the query string; unknown values mean the default."""
    return value if value in STATUS_FILTERS else next(iter(STATUS_FILTERS))


def source_filter(value: str | None) -> str:
    return value if value in SOURCE_FILTERS else "all"


async def queue(
    session: AsyncSession, status: str, source: str, offset: int, limit: int
) -> tuple[int, Sequence[Ticket]]:
    """Questions matching the filters, newest first: (how many in all, this page)."""
    return await TicketRepo(session).page(
        _filters(status_filter(status), source_filter(source)), offset, limit
    )


@dataclass(frozen=True)
class HistoryLine:
    at: datetime
    who: str
    text: str
    state: str = ""


_ACTIONS = {"ticket.take": "nhận câu hỏi", "ticket.reply": "trả lời", "ticket.close": "đóng"}
_DELIVERY = {
    "pending": "chờ gửi",
    "sending": "đang gửi",
    "sent": "đã gửi",
    "failed": "gửi lỗi",
    "cancelled": "đã hủy",
}


def actor_label(actor: str) -> str:
    """Who, in words: a web login (``staff:web:lan``), a chat (``staff:telegram:123``,
    ``user:7``), the command line (``os:login``)."""
    parts = actor.split(":")
    if len(parts) == 3 and parts[1] == "web":
        return f"cán bộ {parts[2]} (trang quản trị)"
    if len(parts) == 3 and parts[0] in ("staff", "admin"):
        return f"cán bộ ({svc.channel_label(parts[1])})"
    if parts[0] == "os":
        return f"dòng lệnh ({':'.join(parts[1:])})"
    if parts[0] == "user":
        return "qua chat"
    return actor


async def history(session: AsyncSession, ticket: Ticket) -> list[HistoryLine]:
    """What happened to a question: staff actions and what the asker was sent, by time."""
    repo = TicketRepo(session)
    lines = [
        HistoryLine(a.at, actor_label(a.actor), _ACTIONS.get(a.action, a.action))
        for a in await repo.audit(ticket.id)
    ]
    for m in await repo.messages(ticket.id):
        if (m.channel, m.chat_id) != (ticket.channel, ticket.chat_id):
            continue
        state = _DELIVERY.get(m.status, m.status)
        lines.append(HistoryLine(m.created_at, "gửi người hỏi", m.text, state))
    return sorted(lines, key=lambda line: line.at)
