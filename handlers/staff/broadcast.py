"""Announcements (thông báo): the audience, queueing one outbox row per recipient
(campaign ``bc:<id>``), progress to the staff chat, the delivery report, cancel.

Used by the staff chat dialogue and by ``kcbot broadcast``; neither holds rules of its own.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import update

from db.models.events import OutboxMessage
from db.models.staff import Broadcast
from db.repos.outbox import NewMessage, OutboxRepo
from db.repos.privacy import AuditRepo
from db.repos.staff import BroadcastRepo, Profile, profiles
from knowledge.formats import LOCAL_TZ, datetime_text
from knowledge.normalize import fold_key
from knowledge.places import match_province, province_by_code
from knowledge.vocabulary import vocabulary

# Kinds of facility, as the intake stores them (drafts.facility_kind).
FACILITY_KINDS = {
    "hkd": "Hộ kinh doanh",
    "tht": "Tổ hợp tác",
    "coop": "Hợp tác xã",
    "sme": "Doanh nghiệp nhỏ và vừa",
    "large": "Doanh nghiệp lớn",
    "person": "Cá nhân chưa đăng ký kinh doanh",
}
# Owners whose drafts are in a status (the statuses staff move drafts through).
DRAFT_STATUSES = {
    "draft": "Đã xác nhận (chưa nộp)",
    "submitted": "Đã nộp",
    "under_review": "Đang xem xét",
    "approved": "Được duyệt",
    "rejected": "Không được duyệt",
    "needs_changes": "Cần bổ sung",
}
# The one optional button of an announcement: label and payload (through the menu, which
# says «đang được xây dựng» if the feature is not installed).
BUTTONS = {
    "intake": ("📝 Tạo hồ sơ", "menu:intake"),
    "reminders": ("📅 Nhắc lịch & hội chợ", "menu:reminders"),
    "faq": ("❓ Hỏi đáp", "menu:faq"),
}
MAX_TEXT = 3500


class AudienceError(ValueError):
    """A filter value that names nothing (message in Vietnamese)."""


def province_code(text: str) -> int | None:
    """A province typed any way (old pre-2025 names too) → its code, or None."""
    found = match_province(text, limit=1)
    if not found or found[0].score < 80:
        return None
    return found[0].code


def province_name(code: int) -> str:
    p = province_by_code(code)
    return p.name if p else str(code)


def sector_keys(text: str) -> set[str]:
    return vocabulary().sector_keys_in(text)


def sector_key(text: str) -> str:
    vocab = vocabulary()
    if vocab.sector(text) is not None:
        return text
    folded = fold_key(text)
    for term in vocab.sectors:
        if folded in (fold_key(term.label), term.key):
            return term.key
    keys = vocab.sector_keys_in(text)
    if len(keys) == 1:
        return next(iter(keys))
    raise AudienceError(f"Không nhận ra ngành «{text}».")


def kind_key(text: str) -> str:
    folded = fold_key(text)
    for key, label in FACILITY_KINDS.items():
        if folded in (key, fold_key(label)):
            return key
    raise AudienceError(
        f"Không nhận ra loại hình «{text}» (một trong: {', '.join(FACILITY_KINDS)})."
    )


@dataclass
class Audience:
    """Filters combine with AND; several values of one filter with OR; none = everyone."""

    provinces: list[int] = field(default_factory=list)
    sectors: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    subscribers: bool = False
    collaborators: bool = False

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Audience:
        data = data or {}
        return cls(
            provinces=[int(p) for p in data.get("provinces") or []],
            sectors=list(data.get("sectors") or []),
            kinds=list(data.get("kinds") or []),
            statuses=list(data.get("statuses") or []),
            subscribers=bool(data.get("subscribers")),
            collaborators=bool(data.get("collaborators")),
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def matches(self, p: Profile) -> bool:
        if self.collaborators and p.role != "collaborator":
            return False
        if self.subscribers and not p.subscribed:
            return False
        if self.provinces and not p.provinces & set(self.provinces):
            return False
        if self.sectors and not p.sectors & set(self.sectors):
            return False
        if self.kinds and not p.kinds & set(self.kinds):
            return False
        return not (self.statuses and not p.statuses & set(self.statuses))

    def describe(self) -> str:
        parts = []
        if self.collaborators:
            parts.append("cộng tác viên")
        if self.subscribers:
            parts.append("người bật nhắc lịch")
        if self.provinces:
            parts.append("tỉnh " + ", ".join(province_name(c) for c in self.provinces))
        if self.sectors:
            labels = [(t.label if (t := vocabulary().sector(s)) else s) for s in self.sectors]
            parts.append("ngành " + ", ".join(labels))
        if self.kinds:
            parts.append("loại hình " + ", ".join(FACILITY_KINDS.get(k, k) for k in self.kinds))
        if self.statuses:
            labels = [DRAFT_STATUSES.get(s, s) for s in self.statuses]
            parts.append("hồ sơ " + ", ".join(labels))
        return "; ".join(parts) if parts else "mọi người"


async def recipients(session: Any, audience: Audience) -> list[tuple[str, str]]:
    cache: dict[str, int | None] = {}

    def code(text: str) -> int | None:
        if text not in cache:
            cache[text] = province_code(text)
        return cache[text]

    everyone = await profiles(session, code, sector_keys)
    return [(p.channel, p.chat_id) for p in everyone if audience.matches(p)]


async def count_by_channel(session: Any, audience: Audience) -> dict[str, int]:
    return dict(Counter(channel for channel, _ in await recipients(session, audience)))


def counts_text(counts: dict[str, int]) -> str:
    total = sum(counts.values())
    if not total:
        return "0 người nhận"
    per = ", ".join(f"{channel}: {n}" for channel, n in sorted(counts.items()))
    return f"{total} người nhận ({per})"


def parse_window(text: str) -> tuple[time, time]:
    start, _, end = text.partition("-")
    return time.fromisoformat(start.strip().zfill(5)), time.fromisoformat(end.strip().zfill(5))


def within_window(moment: datetime, window: tuple[time, time]) -> datetime:
    """``moment`` if inside the send window (local), else the window's next opening."""
    local = moment.astimezone(LOCAL_TZ)
    start, end = window
    if start <= local.time() < end:
        return moment
    day = local.date() if local.time() < start else local.date() + timedelta(days=1)
    return datetime.combine(day, start, LOCAL_TZ).astimezone(moment.tzinfo)


def spread(send_at: datetime, count: int, rate: float, window: tuple[time, time]) -> list[datetime]:
    """When each of ``count`` rows may go, at ``rate`` a second from ``send_at``: the rows
    that could not go out before the window closes wait for its next opening (an
    announcement started at 20:50 does not go on sending at night)."""
    if rate <= 0 or count == 0:
        return [send_at] * count
    moments: list[datetime] = []
    start = send_at
    while len(moments) < count:
        local = start.astimezone(LOCAL_TZ)
        end = datetime.combine(local.date(), window[1], LOCAL_TZ)
        if window[1] <= window[0]:  # a window over midnight: no closing to respect
            return moments + [start] * (count - len(moments))
        room = max(1, int((end - local).total_seconds() * rate))
        moments += [start] * min(room, count - len(moments))
        start = within_window(end.astimezone(send_at.tzinfo), window)
    return moments


def buttons_for(button: str | None) -> list[Any]:
    if not button or button not in BUTTONS:
        return []
    label, payload = BUTTONS[button]
    return [[[label, payload]]]


@dataclass
class Queued:
    broadcast: Broadcast
    count: int
    send_at: datetime


async def create(
    session: Any,
    *,
    text: str,
    audience: Audience,
    actor: str,
    now: datetime,
    window: tuple[time, time],
    button: str | None = None,
    at: datetime | None = None,
    report_to: tuple[str, str] | None = None,
    rate: float = 30.0,
) -> Queued:
    """Record the announcement and queue one outbox row per recipient, in one transaction."""
    send_at = within_window(max(at or now, now), window)
    who = await recipients(session, audience)
    broadcast = await BroadcastRepo(session).add(
        Broadcast(
            text=text,
            button=button,
            audience=audience.to_json(),
            created_by=actor,
            created_at=now,
            send_at=send_at,
            status="queued",
            total=len(who),
            report_channel=report_to[0] if report_to else None,
            report_chat=report_to[1] if report_to else None,
            progress=0,
        )
    )
    campaign = f"bc:{broadcast.id}"
    buttons = buttons_for(button)
    moments = spread(send_at, len(who), rate, window)
    messages = [
        NewMessage(campaign, ch, chat, text, buttons, at)
        for (ch, chat), at in zip(who, moments, strict=True)
    ]
    count = await OutboxRepo(session).enqueue_many(messages, now)
    await AuditRepo(session).record(
        actor=actor,
        action="broadcast.send",
        subject=campaign,
        detail=f"{count} người nhận; {audience.describe()}"[:500],
        now=now,
    )
    return Queued(broadcast, count, send_at)


async def cancel(session: Any, broadcast_id: int, actor: str, now: datetime) -> int | None:
    """Cancel what is unsent; None if there is no such announcement."""
    repo = BroadcastRepo(session)
    if await repo.get(broadcast_id) is None:
        return None
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.campaign == f"bc:{broadcast_id}", OutboxMessage.status == "pending")
        .values(status="cancelled", updated_at=now, claimed_by=None)
    )
    await repo.set_status(broadcast_id, "cancelled")
    n = int(result.rowcount or 0)
    await AuditRepo(session).record(
        actor=actor, action="broadcast.cancel", subject=f"bc:{broadcast_id}", detail=str(n), now=now
    )
    return n


STATUS_LABELS = {"queued": "đang gửi", "done": "đã gửi xong", "cancelled": "đã hủy"}
REPORT_LABELS = {
    "total": "Tổng",
    "sent": "Đã gửi",
    "failed": "Lỗi",
    "unreachable": "Chặn bot/không liên lạc được",
    "outside_window": "Ngoài 7 ngày của Zalo",
    "pending": "Chờ gửi",
    "cancelled": "Đã hủy",
}


def report_text(broadcast: Broadcast, report: dict[str, int]) -> str:
    lines = [
        f"📣 Thông báo #{broadcast.id} ({STATUS_LABELS.get(broadcast.status, broadcast.status)}),"
        f" gửi từ {datetime_text(broadcast.send_at)}:"
    ]
    lines += [
        f"• {REPORT_LABELS[k]}: {report[k]}" for k in REPORT_LABELS if k == "total" or report[k]
    ]
    return "\n".join(lines)


async def tick(session: Any, now: datetime) -> int:
    """Progress of the announcements being sent, to the staff chat that sent them, at
    25/50/75/100%; an announcement with nothing pending is done. Returns messages queued."""
    repo = BroadcastRepo(session)
    queued = 0
    for b in await repo.active():
        report = await repo.report(b.id)
        total = report["total"]
        finished = total - report["pending"]
        quarter = 4 if total == 0 else finished * 4 // total
        if report["pending"] == 0:
            await repo.set_status(b.id, "done")
            b.status = "done"
            quarter = 4
        if not quarter or not await repo.set_progress(b.id, quarter):
            continue
        if b.report_channel and b.report_chat:
            if quarter < 4:
                text = (
                    f"📣 Thông báo #{b.id}: đã xử lý {quarter * 25}% "
                    f"({finished}/{total}, đã gửi {report['sent']})."
                )
                rows: list[Any] = [[["✖️ Dừng gửi", f"staff:cancel:{b.id}"]]]
            else:
                text = report_text(b, report)
                rows = []
            msg = NewMessage(
                f"bcp:{b.id}:{quarter}", b.report_channel, b.report_chat, text, rows, now
            )
            queued += await OutboxRepo(session).enqueue_many([msg], now)
    return queued
