"""What the chat and the command line both do with tickets: notify staff, reply, close,
and the periodic check for questions nobody answered in 24 working hours.

Messages to another chat than the one being answered go through the outbox (bulk rows,
one key per message), in the caller's transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.types import Button
from db.models.handoff import Ticket
from db.repos.handoff import TicketRepo, staff_chats
from db.repos.outbox import NewMessage, OutboxRepo
from db.repos.privacy import AuditRepo
from handlers.tickets.hours import parse_hours
from knowledge.formats import datetime_text

NAME = "tickets"
WORKING_HOURS_LIMIT = 24
MAX_QUESTION = 2000
MAX_REPLY = 3500


def _b(label: str, action: str, arg: str = "") -> Button:
    return Button(label, f"{NAME}:{action}" + (f":{arg}" if arg else ""))


def staff_buttons(ticket_id: int) -> list[list[Button]]:
    return [[_b("✋ Nhận", "take", str(ticket_id)), _b("✍️ Trả lời", "reply", str(ticket_id))]]


def owner_buttons(ticket_id: int) -> list[list[Button]]:
    return [[_b("✅ Đã xong", "close", str(ticket_id))], [Button("🏠 Menu", "menu:home")]]


def channel_label(channel: str) -> str:
    return {"telegram": "Telegram", "zalo": "Zalo", "terminal": "máy tính", "web": "web"}.get(
        channel, channel
    )


def key(ticket_id: int, kind: str, unique: str | None = None) -> str:
    return f"tk:{ticket_id}:{kind}:{unique or uuid.uuid4().hex[:12]}"[:128]


def notice_text(ticket: Ticket) -> str:
    lines = [
        f"🙋 Câu hỏi #{ticket.id} từ {ticket.name or 'người dùng'} "
        f"({channel_label(ticket.channel)}, {datetime_text(ticket.created_at)}):",
        f"«{ticket.question[:1500]}»",
    ]
    if ticket.phone:
        lines.append(f"📞 {ticket.phone}")
    if ticket.context:
        lines.append(f"Trước đó: {ticket.context[:600]}")
    return "\n".join(lines)


async def send(
    session: AsyncSession,
    now: datetime,
    key_: str,
    channel: str,
    chat_id: str,
    text: str,
    buttons: Sequence[Sequence[Button]] = (),
) -> int:
    rows = [[[b.label, b.payload] for b in row] for row in buttons]
    message = NewMessage(key_, channel, chat_id, text, rows, now)
    return await OutboxRepo(session).enqueue_many([message], now)


async def notify_staff(
    session: AsyncSession, ticket: Ticket, now: datetime, *, skip: tuple[str, str] | None = None
) -> int:
    """Every staff chat gets the question with «Nhận» and «Trả lời»."""
    sent = 0
    for staff in await staff_chats(session):
        if skip == (staff.channel, staff.chat_id):
            continue
        sent += await send(
            session,
            now,
            key(ticket.id, "new", "n"),
            staff.channel,
            staff.chat_id,
            notice_text(ticket),
            staff_buttons(ticket.id),
        )
    return sent


async def reply(
    session: AsyncSession,
    ticket: Ticket,
    text: str,
    *,
    staff_name: str,
    actor: str,
    now: datetime,
    unique: str | None = None,
) -> bool:
    """A staff answer to the owner, through the outbox, as «💬 Cán bộ … trả lời: …».

    False when the same ``unique`` answer was queued before (a form posted twice): nothing
    is sent or recorded again."""
    body = text.strip()[:MAX_REPLY]
    queued = await send(
        session,
        now,
        key(ticket.id, "r", unique),
        ticket.channel,
        ticket.chat_id,
        f"💬 Cán bộ {staff_name} trả lời (câu hỏi #{ticket.id}):\n{body}",
        owner_buttons(ticket.id),
    )
    if not queued:
        return False
    if ticket.status == "open":
        ticket.status = "taken"
        ticket.staff_name = ticket.staff_name or staff_name
    ticket.answered_at = ticket.answered_at or now
    ticket.updated_at = now
    await AuditRepo(session).record(
        actor=actor, action="ticket.reply", subject=f"ticket:{ticket.id}", now=now
    )
    await session.flush()
    return True


async def close(
    session: AsyncSession, ticket: Ticket, *, actor: str, now: datetime, by_owner: bool
) -> None:
    """Close, and tell the other side (the owner, or the staff member who took it)."""
    ticket.status = "closed"
    ticket.closed_at = now
    ticket.updated_at = now
    if by_owner and ticket.staff_channel and ticket.staff_chat_id:
        await send(
            session,
            now,
            key(ticket.id, "closed", "o"),
            ticket.staff_channel,
            ticket.staff_chat_id,
            f"✅ {ticket.name or 'Người hỏi'} đã đóng câu hỏi #{ticket.id}.",
        )
    elif not by_owner:
        await send(
            session,
            now,
            key(ticket.id, "closed", "s"),
            ticket.channel,
            ticket.chat_id,
            f"✅ Cán bộ đã đóng câu hỏi #{ticket.id}. Bạn cần hỏi thêm thì bấm «☎️ Liên hệ cán bộ».",
            [[Button("☎️ Liên hệ cán bộ", "menu:contact"), Button("🏠 Menu", "menu:home")]],
        )
    await AuditRepo(session).record(
        actor=actor, action="ticket.close", subject=f"ticket:{ticket.id}", now=now
    )
    await session.flush()


async def check_overdue(sessions: Any, now: datetime, settings: Any) -> int:
    """Questions sent to staff with no answer after 24 working hours: the owner is told and
    given the centre's phone, the staff are reminded. Once per ticket; returns how many."""
    hours = parse_hours(settings.centre_hours)
    async with sessions() as session, session.begin():
        repo = TicketRepo(session)
        flagged = 0
        for ticket in await repo.unanswered_since(now):
            if ticket.source != "contact":
                continue
            if hours.add_working(ticket.created_at, WORKING_HOURS_LIMIT) > now:
                continue
            phone = f" Bạn gọi {settings.centre_phone}" if settings.centre_phone else " Bạn liên hệ"
            await send(
                session,
                now,
                key(ticket.id, "late", "o"),
                ticket.channel,
                ticket.chat_id,
                f"😔 Xin lỗi, cán bộ chưa trả lời được câu hỏi #{ticket.id} của bạn."
                f"{phone} {settings.centre_name} ({settings.centre_hours}) để được hỗ trợ ngay "
                "nhé. Câu hỏi vẫn được giữ để cán bộ trả lời.",
                owner_buttons(ticket.id),
            )
            targets = await staff_chats(session)
            if ticket.staff_channel and ticket.staff_chat_id:
                targets = [
                    s
                    for s in targets
                    if (s.channel, s.chat_id) == (ticket.staff_channel, ticket.staff_chat_id)
                ] or targets
            for staff in targets:
                await send(
                    session,
                    now,
                    key(ticket.id, "late", "s"),
                    staff.channel,
                    staff.chat_id,
                    f"⏰ Câu hỏi #{ticket.id} chưa được trả lời sau {WORKING_HOURS_LIMIT} giờ "
                    f"làm việc.\n{notice_text(ticket)}",
                    staff_buttons(ticket.id),
                )
            ticket.overdue_at = now
            flagged += 1
        return flagged


async def from_faq(
    session: AsyncSession,
    *,
    channel: str,
    chat_id: str,
    name: str | None,
    question: str,
    source: str,
    context: str | None,
    now: datetime,
) -> Ticket:
    """An FAQ question the bot could not answer, or a «chưa đúng ý»: in the staff queue,
    with nobody notified (staff see it in «Câu hỏi chờ trả lời» and `kcbot tickets list`)."""
    return await TicketRepo(session).add(
        channel=channel,
        chat_id=chat_id,
        name=name,
        question=question[:MAX_QUESTION],
        source=source,
        context=context,
        status="open",
        created_at=now,
        updated_at=now,
    )
