"""Announcements (thông báo): the audience, queueing one outbox row per recipient
(campaign ``bc:<id>``), progress to the staff chat, the delivery report, cancel.

Used by the staff chat dialogue and by ``kcbot broadcast``; neither holds rules of its own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, time, timedelta
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
# Roles an announcement can be limited to (db.repos.staff.ROLES), as staff call them.
ROLE_LABELS = {
    "owner": "Chủ cơ sở",
    "collaborator": "Cộng tác viên",
    "staff": "Cán bộ",
    "admin": "Quản trị",
}


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
    channels: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)

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
            channels=list(data.get("channels") or []),
            roles=list(data.get("roles") or []),
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def matches(self, p: Profile) -> bool:
        if self.collaborators and p.role != "collaborator":
            return False
        if self.channels and p.channel not in self.channels:
            return False
        if self.roles and p.role not in self.roles:
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
        if self.roles:
            parts.append("vai trò " + ", ".join(ROLE_LABELS.get(r, r) for r in self.roles))
        if self.channels:
            parts.append("kênh " + ", ".join(self.channels))
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


# --- composing from a form or the command line; the list of past announcements ---------


class ComposeError(AudienceError):
    """What is wrong with an announcement, by field, in Vietnamese."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(" ".join(errors.values()))
        self.errors = errors


def check_text(text: str) -> str:
    text = text.strip()
    if not 5 <= len(text) <= MAX_TEXT:
        raise ComposeError({"text": f"Nội dung phải dài từ 5 đến {MAX_TEXT} ký tự."})
    return text


def parse_audience(
    *,
    provinces: list[str] | tuple[str, ...] = (),
    sectors: list[str] | tuple[str, ...] = (),
    kinds: list[str] | tuple[str, ...] = (),
    statuses: list[str] | tuple[str, ...] = (),
    channels: list[str] | tuple[str, ...] = (),
    roles: list[str] | tuple[str, ...] = (),
    subscribers: bool = False,
    collaborators: bool = False,
) -> Audience:
    """Filter values as typed or picked → ``Audience``; ``ComposeError`` names each field
    whose value names nothing."""
    errors: dict[str, str] = {}
    codes: list[int] = []
    for name in provinces:
        code = province_code(name) if name.strip() else None
        if code is None:
            errors["provinces"] = f"Không nhận ra tỉnh «{name.strip()[:40]}»."
        elif code not in codes:
            codes.append(code)
    sector_list: list[str] = []
    for text in sectors:
        try:
            sector_list.append(sector_key(text))
        except AudienceError as exc:
            errors["sectors"] = str(exc)
    kind_list: list[str] = []
    for text in kinds:
        try:
            kind_list.append(kind_key(text))
        except AudienceError as exc:
            errors["kinds"] = str(exc)
    for status in statuses:
        if status not in DRAFT_STATUSES:
            errors["statuses"] = (
                f"Trạng thái «{status[:40]}» không có (một trong: {', '.join(DRAFT_STATUSES)})."
            )
    for channel in channels:
        if not channel.replace("_", "").isalnum() or len(channel) > 16:
            errors["channels"] = f"Không có kênh «{channel[:40]}»."
    for role in roles:
        if role not in ROLE_LABELS:
            errors["roles"] = (
                f"Vai trò «{role[:40]}» không có (một trong: {', '.join(ROLE_LABELS)})."
            )
    if errors:
        raise ComposeError(errors)
    return Audience(
        provinces=codes,
        sectors=list(dict.fromkeys(sector_list)),
        kinds=list(dict.fromkeys(kind_list)),
        statuses=list(dict.fromkeys(statuses)),
        subscribers=subscribers,
        collaborators=collaborators,
        channels=list(dict.fromkeys(channels)),
        roles=list(dict.fromkeys(roles)),
    )


def parse_local_time(text: str) -> datetime:
    """A local (Asia/Ho_Chi_Minh) date and time as a form or staff type it → UTC-aware;
    ISO-8601 with an offset is taken as given. Raises ``ValueError``."""
    text = text.strip()
    for fmt in ("%d/%m/%Y %H:%M", "%d/%m/%Y %Hh%M", "%d/%m/%Y"):
        try:
            local = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return local.replace(tzinfo=LOCAL_TZ).astimezone(UTC)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_TZ)
    return moment.astimezone(UTC)


@dataclass
class Compose:
    """An announcement ready to queue (``create``)."""

    text: str
    audience: Audience
    button: str | None = None
    at: datetime | None = None  # None: now


def _many(values: Mapping[str, Any], name: str) -> list[str]:
    value = values.get(name)
    items = value if isinstance(value, list | tuple) else [value] if value else []
    return [str(v).strip() for v in items if str(v or "").strip()]


def read_audience(values: Mapping[str, Any]) -> Audience:
    """The audience part of a compose form (field → text or list of texts); ``ComposeError``
    names each field whose value names nothing."""
    return parse_audience(
        provinces=_many(values, "provinces"),
        sectors=_many(values, "sectors"),
        kinds=_many(values, "kinds"),
        statuses=_many(values, "statuses"),
        channels=_many(values, "channels"),
        roles=_many(values, "roles"),
        subscribers=bool(values.get("subscribers")),
        collaborators=bool(values.get("collaborators")),
    )


def read_compose(values: Mapping[str, Any], now: datetime) -> Compose:
    """A compose form → ``Compose``; ``ComposeError`` with every field's problem. ``at`` is
    a local time; empty means now."""
    errors: dict[str, str] = {}
    text = str(values.get("text") or "")
    try:
        text = check_text(text)
    except ComposeError as exc:
        errors.update(exc.errors)
    button = str(values.get("button") or "") or None
    if button is not None and button not in BUTTONS:
        errors["button"] = "Nút không có trong danh sách."
    audience = Audience()
    try:
        audience = read_audience(values)
    except ComposeError as exc:
        errors.update(exc.errors)
    at = None
    when = str(values.get("at") or "").strip()
    if values.get("when") == "later" and not when:
        errors["at"] = "Chọn ngày giờ hẹn, hoặc chọn «Gửi ngay»."
    elif when:
        try:
            at = parse_local_time(when)
        except ValueError:
            errors["at"] = "Chưa đọc được ngày giờ: chọn lại, hoặc gõ như 15/12/2026 08:00."
        else:
            if at < now - timedelta(minutes=1):
                errors["at"] = "Thời điểm này đã qua: chọn một thời điểm sắp tới, hoặc để trống."
    if errors:
        raise ComposeError(errors)
    return Compose(text=text, audience=audience, button=button, at=at)


def preview(text: str, button: str | None) -> tuple[str, list[str]]:
    """What a recipient sees: the text and the labels of its buttons."""
    return text, [label for row in buttons_for(button) for label, _payload in row]


def status_label(broadcast: Broadcast, report: dict[str, int], now: datetime) -> str:
    if broadcast.status == "cancelled":
        return STATUS_LABELS["cancelled"]
    if report["pending"] == 0:
        return STATUS_LABELS["done"]
    if broadcast.send_at > now and report["pending"] == report["total"]:
        return f"hẹn gửi {datetime_text(broadcast.send_at)}"
    return STATUS_LABELS["queued"]


@dataclass
class Sent:
    broadcast: Broadcast
    report: dict[str, int]
    status: str

    @property
    def done_percent(self) -> int:
        total = self.report["total"]
        return 100 if not total else (total - self.report["pending"]) * 100 // total


@dataclass
class History:
    items: list[Sent]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


async def history(session: Any, now: datetime, *, page: int = 1, per_page: int = 20) -> History:
    """Past announcements, newest first, each with its delivery report."""
    repo = BroadcastRepo(session)
    page = max(1, page)
    rows = await repo.list(per_page, offset=(page - 1) * per_page)
    items = []
    for b in rows:
        report = await repo.report(b.id)
        items.append(Sent(b, report, status_label(b, report, now)))
    return History(items, await repo.count(), page, per_page)


async def sent_one(session: Any, broadcast_id: int, now: datetime) -> Sent | None:
    repo = BroadcastRepo(session)
    b = await repo.get(broadcast_id)
    if b is None:
        return None
    report = await repo.report(b.id)
    return Sent(b, report, status_label(b, report, now))
