"""Reminders: which (event, subscriber, offset) is due at an instant, queued in the outbox.

An event starting on local day D is reminded at ``send_hour`` (08:00 Asia/Ho_Chi_Minh) on
D-7 and D-1 (``KCBOT_REMINDER_OFFSETS_DAYS``), and trade fairs also get a morning note on
D itself. The outbox campaign ``rem:<event_id>:<offset>`` makes each (event, user, offset)
queued once and sent once. When the bot was down at a reminder's moment, the next pass
queues it if the event is still ahead (only the most recent missed offset: nobody gets
"7 days left" and "tomorrow" together) and drops it otherwise. An event imported less than
7 days ahead, whose 7-day and 1-day reminders would go out at the same moment or on the
same day, gets one message, not two identical «Ngày mai». Nothing is sent at night:
outside the send window (07:00–21:00 local) the message waits for the next 08:00.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.settings import Settings
from db.models.events import Event, OutboxMessage, Subscription
from db.repos.events import EventRepo, SubscriptionRepo
from db.repos.outbox import PENDING, SENT, NewMessage, OutboxRepo
from knowledge.formats import (
    LOCAL_TZ,
    at_local,
    date_text,
    local_day,
    time_text,
    to_local,
    weekday_date,
)
from knowledge.normalize import fold_key
from knowledge.places import CITY, all_provinces, match_province
from knowledge.vocabulary import vocabulary

EVENT_KINDS = tuple(term.key for term in vocabulary().event_kinds)
KIND_LABELS = {term.key: term.label for term in vocabulary().event_kinds}
KIND_ICONS = {term.key: term.icon for term in vocabulary().event_kinds}


def _display_name(official: str) -> str:
    """ "Thành phố Hà Nội" → "Hà Nội"; Hồ Chí Minh keeps "TP." (it is also a person)."""
    bare = official.removeprefix("Thành phố ").removeprefix("Tỉnh ")
    return "TP. Hồ Chí Minh" if bare == "Hồ Chí Minh" else bare


# The 34 provinces and centrally-run cities since 1 July 2025, from the administrative data
# the intake uses too (knowledge.places); the six cities first, as staff list them.
PROVINCES = [_display_name(p.name) for p in sorted(all_provinces(), key=lambda p: p.kind != CITY)]

# Sector keys (stored in subscriptions) → label, from the shared vocabulary.
SECTORS = {term.key: term.label for term in vocabulary().sectors}


def province_key(name: str) -> str:
    """A province's folded name without "tỉnh"/"thành phố"/"TP."."""
    key = fold_key(name)
    for prefix in ("thanh pho ", "tinh ", "tp "):
        if key.startswith(prefix):
            key = key[len(prefix) :]
    return {
        "hcm": "ho chi minh",
        "tphcm": "ho chi minh",
        "sai gon": "ho chi minh",
        "thua thien hue": "hue",
        "hn": "ha noi",
    }.get(key, key)


def find_province(text: str) -> str | None:
    """The province the user typed (any spelling, old pre-2025 names too), or None."""
    matches = match_province(text, limit=1)
    if not matches or matches[0].score < 80:
        return None
    return _display_name(matches[0].name)


def sector_keys(texts: list[str]) -> set[str]:
    """The sector keys an event's free-text sectors name."""
    keys: set[str] = set()
    for text in texts:
        keys |= vocabulary().sector_keys_in(text)
    return keys


def matches(event: Event, sub: Subscription) -> bool:
    """Does this event concern this subscriber? Empty lists mean "all"."""
    if sub.kinds and event.kind not in sub.kinds:
        return False
    provinces = [
        p for p in event.provinces or [] if fold_key(p) not in {"all", "tat ca", "ca nuoc"}
    ]
    if (
        provinces
        and sub.province
        and province_key(sub.province) not in {province_key(p) for p in provinces}
    ):
        return False
    if event.sectors and sub.sectors:
        keys = sector_keys(list(event.sectors))
        wanted = {t.key for s in sub.sectors if (t := vocabulary().sector(s)) is not None}
        if keys and not keys & wanted:
            return False
    return True


# --- configuration ----------------------------------------------------------------------


@dataclass(frozen=True)
class ReminderConfig:
    offsets_days: tuple[int, ...] = (7, 1)
    opening_day_kinds: frozenset[str] = frozenset({"trade_fair"})
    send_hour: int = 8
    window_start: time = time(7, 0)
    window_end: time = time(21, 0)

    @classmethod
    def from_settings(cls, settings: Settings) -> ReminderConfig:
        """From the KCBOT_REMINDER_* settings (validated by bot.settings)."""
        offsets = settings.reminder_offsets_days.replace(";", ",").split(",")
        kinds = settings.reminder_opening_day_kinds.split(",")
        start, _, end = settings.send_window.partition("-")
        return cls(
            offsets_days=tuple(sorted({int(x) for x in offsets if int(x) > 0}, reverse=True)),
            opening_day_kinds=frozenset(k.strip() for k in kinds if k.strip()),
            send_hour=settings.reminder_hour,
            window_start=time.fromisoformat(start.strip().zfill(5)),
            window_end=time.fromisoformat(end.strip().zfill(5)),
        )


# --- time -------------------------------------------------------------------------------


def next_send_moment(now: datetime, cfg: ReminderConfig) -> datetime:
    """``now`` if inside the send window, else the next ``send_hour`` local."""
    local = now.astimezone(LOCAL_TZ)
    if cfg.window_start <= local.time() < cfg.window_end:
        return now
    day = local.date() if local.time() < cfg.window_start else local.date() + timedelta(days=1)
    return at_local(day, cfg.send_hour)


def moments(event: Event, cfg: ReminderConfig) -> list[tuple[int, datetime]]:
    """(offset in days, when) for each reminder of the event."""
    start_day = local_day(event.starts_at)
    result = [(d, at_local(start_day - timedelta(days=d), cfg.send_hour)) for d in cfg.offsets_days]
    if event.kind in cfg.opening_day_kinds:
        result.append((0, at_local(start_day, cfg.send_hour)))
    return result


def _still_ahead(event: Event, offset: int, moment: datetime, cfg: ReminderConfig) -> bool:
    if offset > 0:
        return moment < event.starts_at
    # the opening-day note: any time on the opening day, while the event is on
    end_of_day = at_local(local_day(event.starts_at) + timedelta(days=1), 0)
    if event.ends_at is not None and not event.all_day:
        end_of_day = min(end_of_day, event.ends_at)
    return moment < end_of_day


def due_offset(event: Event, now: datetime, cfg: ReminderConfig) -> tuple[int, datetime] | None:
    """The reminder due at ``now`` (the latest whose moment passed) and when to send it."""
    if event.cancelled:
        return None
    send_at = next_send_moment(now, cfg)
    # A moment that falls by the time the message goes out counts as passed: the later
    # reminder is sent instead of the earlier one, not both at the same moment.
    passed = [(d, m) for d, m in moments(event, cfg) if m <= send_at]
    if not passed:
        return None
    offset, _moment = min(passed, key=lambda x: x[0])
    if not _still_ahead(event, offset, send_at, cfg):
        return None
    return offset, send_at


# --- texts ------------------------------------------------------------------------------


def format_when(event: Event) -> str:
    start = to_local(event.starts_at)
    text = weekday_date(start)
    if not event.all_day:
        text = f"{time_text(start)}, {text}"
    if event.ends_at is not None:
        end = to_local(event.ends_at)
        if end.date() != start.date():
            text += f" → {weekday_date(end)}"
        elif not event.all_day and end.time() != start.time():
            text += f" – {time_text(end)}"
    return text


def reminder_text(event: Event, offset: int, send_at: datetime) -> str:
    icon = KIND_ICONS.get(event.kind, "📌")
    days = (local_day(event.starts_at) - local_day(send_at)).days
    if offset == 0 or days <= 0:
        head = "🎉 Hôm nay khai mạc:" if event.kind == "trade_fair" else "📣 Hôm nay:"
    elif days == 1:
        head = "⏰ Ngày mai là hạn nộp:" if event.kind == "deadline" else "⏰ Ngày mai:"
    else:
        head = (
            f"⏰ Còn {days} ngày đến hạn nộp:"
            if event.kind == "deadline"
            else f"⏰ Còn {days} ngày:"
        )
    lines = [head, f"{icon} {event.title}", f"🗓️ {format_when(event)}"]
    if event.place:
        lines.append(f"📍 {event.place}")
    if event.contact:
        lines.append(f"☎️ {event.contact}")
    return "\n".join(lines)[:3500]


def cancel_text(event: Event) -> str:
    return (
        f"❗ Sự kiện «{event.title}» ngày {date_text(event.starts_at)} đã bị HỦY.\n"
        "Mình đã nhắc bạn trước đó, nay báo lại để bạn không mất công chuẩn bị. "
        "Nếu có lịch mới mình sẽ nhắn bạn."
    )[:3500]


REMINDER_BUTTONS = [
    [["📋 Sự kiện sắp tới", "reminders:list"]],
    [["🔕 Tắt nhắc lịch", "reminders:stop"]],
]


# --- queueing ---------------------------------------------------------------------------


async def _existing(session: AsyncSession, campaign: str) -> set[tuple[str, str]]:
    rows = await session.execute(
        select(OutboxMessage.channel, OutboxMessage.chat_id).where(
            OutboxMessage.campaign == campaign
        )
    )
    return {(c, i) for c, i in rows.all()}


async def _same_day(session: AsyncSession, event: Event, send_at: datetime) -> set[tuple[str, str]]:
    """Chats that got (or will get) another reminder of this event on the same local day:
    an event imported less than 7 days ahead must not bring two identical «Ngày mai»."""
    day = local_day(send_at)
    rows = await session.execute(
        select(OutboxMessage.channel, OutboxMessage.chat_id, OutboxMessage.not_before).where(
            OutboxMessage.campaign.startswith(f"rem:{event.id}:", autoescape=True),
            OutboxMessage.status.in_((PENDING, SENT, "sending")),
        )
    )
    return {(c, i) for c, i, at in rows.all() if local_day(at) == day}


async def enqueue_due(
    session: AsyncSession,
    now: datetime,
    cfg: ReminderConfig | None = None,
    *,
    event_ids: list[int] | None = None,
) -> int:
    """Queue every reminder due at ``now``; returns how many messages were new."""
    cfg = cfg or ReminderConfig()
    horizon = max(cfg.offsets_days, default=0) + 1
    events = await EventRepo(session).find(
        after=now - timedelta(days=2),
        before=now + timedelta(days=horizon),
        include_cancelled=False,
        ids=event_ids,
    )
    due = [(e, d) for e in events if (d := due_offset(e, now, cfg)) is not None]
    if not due:
        return 0
    subscribers = await SubscriptionRepo(session).active_with_users()
    total = 0
    for event, (offset, send_at) in due:
        campaign = f"rem:{event.id}:{offset}"
        done = await _existing(session, campaign) | await _same_day(session, event, send_at)
        text = reminder_text(event, offset, send_at)
        messages = [
            NewMessage(campaign, user.channel, user.chat_id, text, REMINDER_BUTTONS, send_at)
            for sub, user in subscribers
            if (user.channel, user.chat_id) not in done and matches(event, sub)
        ]
        total += await OutboxRepo(session).enqueue_many(messages, now)
    return total


async def event_changed(
    session: AsyncSession, event: Event, now: datetime, cfg: ReminderConfig | None = None
) -> dict[str, int]:
    """After an edit, re-import or cancellation: bring queued reminders in line.

    Pending (unsent) reminders of the event are rebuilt from its new details; if it was
    cancelled they are cancelled instead and the users already reminded get a notice.
    """
    cfg = cfg or ReminderConfig()
    outbox = OutboxRepo(session)
    prefix = f"rem:{event.id}:"
    if event.cancelled:
        cancelled = await outbox.cancel(campaign_prefix=prefix, now=now)
        reminded = await outbox.recipients(prefix, SENT)
        send_at = next_send_moment(now, cfg)
        text = cancel_text(event)
        notices = [
            NewMessage(f"cancel:{event.id}", ch, chat, text, [], send_at)
            for ch, chat in sorted(reminded)
        ]
        notified = await outbox.enqueue_many(notices, now)
        return {"cancelled": cancelled, "notified": notified}
    removed = await outbox.delete_pending(prefix)
    # an event put back on: the cancel notices not sent yet are moot
    await outbox.cancel(campaign_prefix=f"cancel:{event.id}", now=now)
    queued = await enqueue_due(session, now, cfg, event_ids=[event.id])
    return {"rebuilt": removed, "queued": queued}


async def stop_for_chat(session: AsyncSession, channel: str, chat_id: str, now: datetime) -> int:
    """The user stopped reminders: drop their queued, unsent reminders."""
    return await OutboxRepo(session).cancel(
        campaign_prefix="rem:", now=now, channel=channel, chat_id=chat_id
    )


__all__ = [
    "EVENT_KINDS",
    "KIND_ICONS",
    "KIND_LABELS",
    "PENDING",
    "PROVINCES",
    "SECTORS",
    "ReminderConfig",
    "enqueue_due",
    "event_changed",
    "find_province",
    "matches",
    "stop_for_chat",
]
