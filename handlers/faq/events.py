"""Live events in FAQ answers: «hội chợ nào sắp tới», «hạn nộp hồ sơ khi nào», «có lớp tập
huấn nào không» are answered from the events table (the nearest few for the user's province
and sectors) before the general knowledge-base entry.

Reads the events with its own small query on the models of ``db.models.events``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.events import Event, Subscription
from knowledge.normalize import fold_key, tokens

__all__ = ["EventQuestion", "event_question", "format_events", "upcoming_for"]

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SHOWN = 3
# How far ahead an answer looks.
HORIZON = timedelta(days=366)

# Folded phrases naming an event kind, longest first.
_KIND_WORDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("han", "nop"), "deadline"),
    (("han", "chot"), "deadline"),
    (("het", "han"), "deadline"),
    (("hoi", "cho"), "trade_fair"),
    (("trien", "lam"), "trade_fair"),
    (("tap", "huan"), "training"),
    (("lop", "hoc"), "training"),
    (("khoa", "hoc"), "training"),
    (("lop",), "training"),
    (("binh", "chon"), "selection"),
    (("hoi", "nghi"), "conference"),
    (("hoi", "thao"), "conference"),
)
# Words that ask about dates or a list, not about the programme ("hội chợ được hỗ trợ gì").
_WHEN = (
    ("sap", "toi"),
    ("sap",),
    ("toi", "day"),
    ("khi", "nao"),
    ("bao", "gio"),
    ("luc", "nao"),
    ("ngay", "nao"),
    ("thang", "nao"),
    ("lich",),
    ("nao",),
    ("sap", "dien", "ra"),
    ("con", "han"),
    ("dot", "nay"),
    ("nam", "nay"),
    ("thang", "nay"),
)
# «hội chợ nào được hỗ trợ» asks about support, not dates.
_NOT_WHEN = (("ho", "tro"), ("kinh", "phi"), ("dieu", "kien"), ("bao", "nhieu"), ("thu", "tuc"))

_SECTOR_WORDS = {
    "food": ("che bien", "thuc pham", "nong san", "thuy san", "nong lam"),
    "craft": ("thu cong", "my nghe", "lang nghe", "tcmn"),
    "mech": ("co khi", "dien", "may moc"),
    "textile": ("det", "may mac", "da giay"),
    "material": ("vat lieu", "vlxd"),
}


@dataclass(frozen=True)
class EventQuestion:
    kinds: tuple[str, ...]


def _has(toks: list[str], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(tuple(toks[i : i + n]) == phrase for i in range(len(toks) - n + 1))


def event_question(text: str) -> EventQuestion | None:
    """The event kinds a question asks dates of, or None when it is not such a question."""
    from knowledge.matcher import strip_filler

    toks = strip_filler(tokens(text))
    kinds: list[str] = []
    for phrase, kind in _KIND_WORDS:
        if _has(toks, phrase) and kind not in kinds:
            kinds.append(kind)
    if not kinds:
        return None
    if any(_has(toks, p) for p in _NOT_WHEN) or not any(_has(toks, p) for p in _WHEN):
        return None
    if kinds == ["training"] and not any(_has(toks, p) for p in (("tap", "huan"), ("lop",))):
        return None
    return EventQuestion(tuple(kinds))


def _province_key(name: str) -> str:
    key = fold_key(name)
    for prefix in ("thanh pho ", "tinh ", "tp "):
        key = key.removeprefix(prefix)
    return {"hcm": "ho chi minh", "tphcm": "ho chi minh", "thua thien hue": "hue"}.get(key, key)


def _sector_keys(texts: list[str]) -> set[str]:
    keys = set()
    for text in texts:
        folded = f" {fold_key(text)} "
        for key, words in _SECTOR_WORDS.items():
            if fold_key(text) == key or any(f" {w} " in folded for w in words):
                keys.add(key)
    return keys


def _concerns(event: Event, province: str | None, sectors: list[str]) -> bool:
    provinces = [
        p for p in event.provinces or [] if fold_key(str(p)) not in {"all", "tat ca", "ca nuoc"}
    ]
    wanted = {_province_key(str(p)) for p in provinces}
    if provinces and province and _province_key(province) not in wanted:
        return False
    if event.sectors and sectors:
        keys = _sector_keys([str(s) for s in event.sectors])
        if keys and not keys & set(sectors):
            return False
    return True


async def _draft_province(session: AsyncSession, user_id: int) -> str | None:
    """The province of the user's latest draft application, if the intake has one."""
    try:
        from db.models.drafts import Draft
    except ImportError:  # pragma: no cover - intake not installed
        return None
    return await session.scalar(
        select(Draft.province)
        .where(Draft.user_id == user_id, Draft.province.is_not(None))
        .order_by(Draft.id.desc())
        .limit(1)
    )


async def upcoming_for(
    session: AsyncSession, user_id: int, kinds: tuple[str, ...], now: datetime
) -> list[Event]:
    """The nearest events of these kinds that are not over, for the user's province and
    sectors (from their reminder settings, if any)."""
    sub = await session.scalar(select(Subscription).where(Subscription.user_id == user_id))
    province = sub.province if sub is not None else None
    sectors = list(sub.sectors or []) if sub is not None else []
    if province is None:
        province = await _draft_province(session, user_id)
    stmt = (
        select(Event)
        .where(
            Event.cancelled.is_(False),
            Event.kind.in_(kinds),
            or_(Event.starts_at >= now, Event.ends_at >= now),
            Event.starts_at <= now + HORIZON,
        )
        .order_by(Event.starts_at, Event.id)
        .limit(50)
    )
    events = list((await session.scalars(stmt)).all())
    return [e for e in events if _concerns(e, province, sectors)][:SHOWN]


def _day(value: datetime) -> str:
    return value.astimezone(LOCAL_TZ).strftime("%d/%m/%Y")


def format_events(events: list[Event]) -> str:
    lines = ["📅 Sắp tới:"]
    for e in events:
        when = _day(e.starts_at)
        if e.ends_at is not None and _day(e.ends_at) != when:
            when = f"{when} – {_day(e.ends_at)}"
        if not e.all_day:
            when += " lúc " + e.starts_at.astimezone(LOCAL_TZ).strftime("%H:%M")
        line = f"• {when}: {e.title}"
        if e.place:
            line += f" ({e.place})"
        lines.append(line)
    return "\n".join(lines)
