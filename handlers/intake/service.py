"""What staff do with drafts — find them, read one with its history and its request
document, export them, move one along the workflow and tell its owner — for the command
line (``kcbot drafts``) and the staff web pages («Hồ sơ») alike. No printing, no argument
parsing, no HTML here."""

from __future__ import annotations

import asyncio
import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models.base import utcnow
from db.models.drafts import STAFF_STATUSES, STATUSES, Draft, DraftEvent
from db.repos.drafts import UNFINISHED, DraftCriteria, DraftRepo
from db.repos.outbox import NewMessage, OutboxRepo
from db.repos.privacy import AuditRepo
from handlers.intake.steps import STATUS_LABELS
from knowledge.support import catalogue

log = logging.getLogger(__name__)

# The staff workflow; ``force`` allows any other move between these.
TRANSITIONS = {
    "draft": {"submitted"},
    "submitted": {"under_review"},
    "under_review": {"approved", "rejected", "needs_changes"},
    "needs_changes": {"submitted", "under_review"},
    "approved": set(),
    "rejected": set(),
}
# The order staff read the statuses in (lists, filters, the next steps of a draft).
WORKFLOW_ORDER = (*STAFF_STATUSES, "in_progress", "abandoned")
MAX_NOTE = 1000

# --- what staff read -------------------------------------------------------------------

# Staff wording (the owner's own wording is ``handlers.intake.steps.STATUS_LABELS``).
STAFF_STATUS_LABELS = {
    "in_progress": "Đang làm dở",
    "abandoned": "Đã bỏ",
    "draft": "Đã xác nhận (chưa nộp)",
    "submitted": "Đã nộp",
    "under_review": "Đang xem xét",
    "approved": "Được duyệt",
    "rejected": "Không được duyệt",
    "needs_changes": "Cần bổ sung",
}
LIST_FIELDS = (
    "id",
    "status",
    "support_type",
    "facility_name",
    "owner_name",
    "phone",
    "province",
    "commune",
    "estimated_cost",
    "estimated_support",
    "created_at",
)
EXPORT_FIELDS = (
    *LIST_FIELDS[:4],
    "facility_kind",
    "reg_no",
    "owner_name",
    "phone",
    "province",
    "commune",
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
    "channel",
    "chat_id",
    "created_at",
    "confirmed_at",
    "updated_at",
)
# Vietnamese for people; the codes stay in --json and in the command line's export.
FIELD_LABELS = {
    "id": "Mã hồ sơ",
    "status": "Trạng thái",
    "support_type": "Nội dung hỗ trợ",
    "facility_name": "Tên cơ sở",
    "facility_kind": "Loại hình",
    "reg_no": "Số đăng ký",
    "owner_name": "Chủ cơ sở",
    "phone": "Điện thoại",
    "province": "Tỉnh/thành",
    "commune": "Xã/phường",
    "sector": "Ngành nghề",
    "products": "Sản phẩm",
    "workers": "Số lao động",
    "plan": "Phương án",
    "estimated_cost": "Chi phí dự kiến",
    "counterpart_funds": "Vốn đối ứng",
    "estimated_support": "Hỗ trợ dự kiến",
    "expected_results": "Kết quả dự kiến",
    "needs_review": "Cần cán bộ xem",
    "review_notes": "Ghi chú xem xét",
    "channel": "Kênh",
    "chat_id": "Mã chat",
    "created_at": "Tạo lúc",
    "confirmed_at": "Xác nhận lúc",
    "updated_at": "Cập nhật lúc",
}
MONEY_FIELDS = ("estimated_cost", "counterpart_funds", "estimated_support")
TIME_FIELDS = ("created_at", "confirmed_at", "updated_at")


def status_label(status: str | None) -> str:
    return STAFF_STATUS_LABELS.get(status or "", status or "-")


def support_label(support_type: str | None) -> str:
    st = catalogue().get(support_type)
    return st.label if st else (support_type or "-")


def shown(draft: Any, name: str) -> str:
    """One field as staff read it: labels, dd/mm/yyyy HH:MM, «350 triệu đồng»."""
    from handlers.intake.steps import KINDS
    from knowledge.formats import datetime_text, money_words

    value = getattr(draft, name)
    if value in (None, "", []):
        return "-"
    if name == "status":
        return status_label(value)
    if name == "support_type":
        return support_label(value)
    if name == "facility_kind":
        return KINDS.get(str(value), str(value))
    if name in MONEY_FIELDS:
        return money_words(int(value))
    if name in TIME_FIELDS:
        return datetime_text(value)
    if name == "needs_review":
        return "có" if value else "không"
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return str(value)


def raw_row(draft: Draft, fields: Sequence[str] = LIST_FIELDS) -> dict[str, Any]:
    """The fields as codes and ISO times (``--json``, the command line's export)."""
    row: dict[str, Any] = {}
    for name in fields:
        value = getattr(draft, name)
        row[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return row


@dataclass(frozen=True)
class HistoryLine:
    at: datetime
    actor: str
    kind: str  # status | notification
    change: str  # «Đã nộp → Đang xem xét», «đã báo chủ cơ sở»
    note: str


def history_line(event: DraftEvent) -> HistoryLine:
    if event.kind == "status":
        change = f"{status_label(event.from_status)} → {status_label(event.to_status)}"
    elif event.kind == "notification":
        queued = event.actor == "bot:outbox"
        change = "đã nhắn chủ cơ sở" if queued else "chưa nhắn được chủ cơ sở"
    else:
        change = event.kind
    return HistoryLine(event.at, event.actor, event.kind, change, event.note or "")


# --- finding drafts -----------------------------------------------------------------------


@dataclass(frozen=True)
class DraftFilter:
    """What staff list drafts by; the query string of the page and the command line's
    options. No personal data: nobody filters by a name or a phone in a URL.

    ``status`` None: every confirmed draft; "all": unfinished ones too. Dates are local
    days (Asia/Ho_Chi_Minh) of creation, both ends included.
    """

    status: str | None = None
    province_code: int | None = None
    support_type: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    def criteria(self) -> DraftCriteria:
        from knowledge.formats import at_local

        return DraftCriteria(
            status=self.status,
            province_code=self.province_code,
            support_type=self.support_type,
            created_from=at_local(self.date_from, 0) if self.date_from else None,
            created_before=(
                at_local(self.date_to + timedelta(days=1), 0) if self.date_to else None
            ),
        )

    def params(self) -> dict[str, str]:
        """The filter as query-string parameters (``read_filter`` reads them back)."""
        values = {
            "status": self.status or "",
            "province": str(self.province_code) if self.province_code is not None else "",
            "support": self.support_type or "",
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
        }
        return {k: v for k, v in values.items() if v}


# The query-string parameters of a filter (``DraftFilter.params``, ``read_filter``).
FILTER_KEYS = ("status", "province", "support", "from", "to")


def _read_day(text: str) -> date | None:
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"):
        try:
            day = datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        # Years a draft can have (and far from the calendar's ends, where UTC overflows).
        return day if 2000 <= day.year <= 2100 else None
    return None


def read_filter(params: Mapping[str, str]) -> tuple[DraftFilter, dict[str, str]]:
    """A filter from query-string parameters, and what was wrong with each bad one (field →
    Vietnamese message). A bad value is left out of the filter, never guessed."""
    from knowledge.places import match_province, province_by_code

    errors: dict[str, str] = {}
    status = (params.get("status") or "").strip() or None
    if status is not None and status != "all" and status not in STATUSES:
        errors["status"] = "Chọn một trạng thái trong danh sách."
        status = None
    province_code: int | None = None
    raw = (params.get("province") or "").strip()
    if raw:
        # The page sends a code; the command line a name as typed (old names too).
        if raw.isdigit():
            found = province_by_code(int(raw))
            province_code = found.code if found is not None else None
        else:
            matches = match_province(raw, limit=1)
            province_code = matches[0].code if matches else None
        if province_code is None:
            errors["province"] = "Chọn một tỉnh/thành trong danh sách."
    support = (params.get("support") or "").strip() or None
    if support is not None and catalogue().get(support) is None:
        errors["support"] = "Chọn một nội dung hỗ trợ trong danh sách."
        support = None
    days: dict[str, date | None] = {}
    for key in ("from", "to"):
        raw = (params.get(key) or "").strip()
        days[key] = _read_day(raw) if raw else None
        if raw and days[key] is None:
            errors[key] = "Ngày viết dạng ngày/tháng/năm, ví dụ 15/11/2026."
    if days["from"] and days["to"] and days["from"] > days["to"]:
        errors["to"] = "«Đến ngày» phải sau «Từ ngày»."
        days["to"] = None
    flt = DraftFilter(status, province_code, support, days["from"], days["to"])
    return flt, errors


def status_choices() -> list[tuple[str, str]]:
    """(code, label) of every status, in workflow order, for a filter."""
    return [(s, status_label(s)) for s in WORKFLOW_ORDER]


def support_choices() -> list[tuple[str, str]]:
    return [(st.id, st.label) for st in catalogue().types.values()]


def province_choices() -> list[tuple[int, str]]:
    from knowledge.places import all_provinces

    return [(p.code, p.name) for p in all_provinces()]


@dataclass(frozen=True)
class DraftPage:
    drafts: Sequence[Draft]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


async def list_drafts(
    session: AsyncSession, flt: DraftFilter, page: int = 1, per_page: int = 50
) -> DraftPage:
    """One page (from 1) of the drafts matching, newest first; a page past the end is the
    last one."""
    per_page = max(1, per_page)
    page = max(1, page)
    repo = DraftRepo(session)
    drafts, total = await repo.page(flt.criteria(), (page - 1) * per_page, per_page)
    last = max(1, math.ceil(total / per_page))
    if page > last:
        page = last
        drafts, total = await repo.page(flt.criteria(), (page - 1) * per_page, per_page)
    return DraftPage(drafts, total, page, per_page)


SEARCH_HELP = "Gõ mã hồ sơ (ví dụ 12) hoặc số điện thoại của chủ cơ sở (ví dụ 0912 345 678)."


@dataclass(frozen=True)
class Found:
    """What a search typed by staff found: one draft by its number, or the drafts of a
    phone; ``error`` says what to type instead."""

    draft_id: int | None = None
    drafts: Sequence[Draft] = ()
    error: str | None = None


async def find_drafts(session: AsyncSession, text: str) -> Found:
    """A draft by its number («12», «#12») or the drafts of an owner's phone as typed
    («0912 345 678», «+84 912…»). The text is personal data: the caller neither logs it nor
    puts it in a URL."""
    from knowledge.phones import vn_phone

    text = text.strip()[:40]
    number = re.fullmatch(r"#?\s*(\d{1,8})", text)
    repo = DraftRepo(session)
    if number:
        draft = await repo.get(int(number.group(1)))
        if draft is None or draft.status == "abandoned":
            return Found(error=f"Không có hồ sơ #{number.group(1)}.")
        return Found(draft_id=draft.id)
    phone = vn_phone(text) if text else None
    if phone is None:
        return Found(error=SEARCH_HELP)
    drafts = await repo.with_phone(phone)
    if not drafts:
        return Found(error="Không có hồ sơ nào với số điện thoại này.")
    return Found(drafts=drafts)


async def export_rows(session: AsyncSession, flt: DraftFilter) -> list[dict[str, Any]]:
    """Every draft matching, oldest first, as codes (the command line's CSV/XLSX)."""
    rows = []
    for draft in await DraftRepo(session).matching(flt.criteria()):
        row = raw_row(draft, EXPORT_FIELDS)
        row["review_notes"] = "; ".join(str(n) for n in row["review_notes"] or [])
        rows.append(row)
    return rows


async def export_sheet(
    session: AsyncSession, flt: DraftFilter
) -> tuple[list[str], list[list[Any]]]:
    """Every draft matching as staff read it in Excel: Vietnamese headings, labels, local
    times, amounts as numbers (so that they add up). The rows are made in a worker thread:
    thousands of drafts must not hold up the webhooks served by the same process."""
    drafts = await DraftRepo(session).matching(flt.criteria())
    rows = await asyncio.to_thread(_sheet_rows, drafts)
    return [FIELD_LABELS[name] for name in EXPORT_FIELDS], rows


def _sheet_rows(drafts: Sequence[Draft]) -> list[list[Any]]:
    from knowledge.formats import to_local

    rows: list[list[Any]] = []
    for draft in drafts:
        row: list[Any] = []
        for name in EXPORT_FIELDS:
            value = getattr(draft, name)
            if name in MONEY_FIELDS or name in ("id", "workers"):
                row.append(value)
            elif name in TIME_FIELDS:
                row.append(to_local(value).replace(tzinfo=None) if value else None)
            else:
                text = shown(draft, name)
                row.append("" if text == "-" else text)
        rows.append(row)
    return rows


# --- one draft ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DraftDetail:
    draft: Draft
    fields: list[tuple[str, str]]  # (label, value as staff read it)
    history: list[HistoryLine]
    next_statuses: list[tuple[str, str]] = field(default_factory=list)  # (code, label)
    has_document: bool = False


def next_statuses(status: str) -> list[tuple[str, str]]:
    """Where the workflow lets a draft go from ``status``, (code, label) in order."""
    allowed = TRANSITIONS.get(status, set())
    return [(s, status_label(s)) for s in STAFF_STATUSES if s in allowed]


async def draft_detail(session: AsyncSession, draft_id: int) -> DraftDetail | None:
    repo = DraftRepo(session)
    draft = await repo.get(draft_id)
    if draft is None:
        return None
    fields = [(FIELD_LABELS[name], shown(draft, name)) for name in EXPORT_FIELDS]
    history = [history_line(e) for e in await repo.history(draft.id)]
    return DraftDetail(
        draft,
        fields,
        history,
        next_statuses(draft.status),
        has_document=draft.status not in UNFINISHED,
    )


async def draft_document(
    session: AsyncSession, draft_id: int, *, centre_name: str
) -> tuple[str, bytes] | None:
    """The filled request of a confirmed draft (file name, DOCX), the same document the
    owner received; None for an unknown or unfinished draft."""
    from handlers.intake.document import build_request_docx, filename_for
    from handlers.intake.steps import document_data

    draft = await DraftRepo(session).get(draft_id)
    if draft is None or draft.status in UNFINISHED:
        return None
    data = document_data(draft)
    return filename_for(data), build_request_docx(data, centre_name=centre_name)


# --- moving a draft -------------------------------------------------------------------------


class StatusError(ValueError):
    """The change can't be made; ``str(exc)`` says why (Vietnamese, for staff).
    ``code``: 1 nothing to change, 2 not allowed. ``field``: the form field at fault
    (status or note; "draft" when there is no such confirmed draft). ``forceable``: only
    the workflow stands in the way."""

    def __init__(
        self, message: str, code: int, field: str = "status", forceable: bool = False
    ) -> None:
        super().__init__(message)
        self.code = code
        self.field = field
        self.forceable = forceable


@dataclass(frozen=True)
class StatusChange:
    draft: Draft
    told: str  # "outbox" (queued for the owner's chat) or "recorded only"


def status_message(draft: Draft, note: str | None) -> str:
    """What the owner reads about the new status."""
    st = catalogue().get(draft.support_type)
    what = f" ({st.label})" if st else ""
    text = (
        f"📋 Hồ sơ #{draft.id}{what} của {draft.facility_name or 'cơ sở'}: "
        f"{STATUS_LABELS.get(draft.status, draft.status)}."
    )
    if note:
        text += f"\nGhi chú của cán bộ: {note}"
    if draft.status == "needs_changes":
        text += "\nBạn liên hệ Trung tâm để bổ sung hồ sơ nhé."
    return text


async def notify_owner(session: AsyncSession, draft: Draft, text: str) -> str:
    """Queue the message for the owner's chat (the outbox sends it) and record it in the
    draft's history. Returns "outbox", or "recorded only" if it could not be queued."""
    repo = DraftRepo(session)
    how = "recorded only"
    try:
        async with session.begin_nested():
            history = await repo.history(draft.id)
            moment = utcnow()
            message = NewMessage(
                f"draft-{draft.id}-{len(history)}", draft.channel, draft.chat_id, text, [], moment
            )
            await OutboxRepo(session).enqueue_many([message], moment)
        how = "outbox"
    except Exception:
        log.exception("could not queue the notification for draft %s", draft.id)
    await repo.record(draft, kind="notification", actor=f"bot:{how}", note=text)
    return how


async def change_status(
    session: AsyncSession,
    draft_id: int,
    status: str,
    *,
    actor: str,
    note: str | None = None,
    force: bool = False,
) -> StatusChange:
    """Move a confirmed draft to ``status`` along the workflow, then tell its owner.

    The draft's row is locked (PostgreSQL) until the caller's transaction ends, so two
    staff moving it at once are applied one after the other, each checked against the
    status the other left."""
    if status not in STAFF_STATUSES:
        choices = ", ".join(f"{s} ({status_label(s)})" for s in STAFF_STATUSES)
        raise StatusError(f"Trạng thái phải là một trong: {choices}.", 2)
    note = (note or "").strip() or None
    if note is not None and len(note) > MAX_NOTE:
        raise StatusError(
            f"Ghi chú dài quá: tối đa {MAX_NOTE:,} ký tự.".replace(",", "."), 2, "note"
        )
    repo = DraftRepo(session)
    draft = await repo.get(draft_id, lock=True)
    if draft is None or draft.status in UNFINISHED:
        raise StatusError(f"Không có hồ sơ #{draft_id} (đã xác nhận).", 1, "draft")
    if status == draft.status:
        raise StatusError(f"Hồ sơ #{draft.id} đã ở trạng thái «{status_label(draft.status)}».", 1)
    allowed = TRANSITIONS.get(draft.status, set())
    if status not in allowed and not force:
        can = ", ".join(f"«{label}»" for _, label in next_statuses(draft.status))
        raise StatusError(
            f"Không chuyển thẳng «{status_label(draft.status)}» → «{status_label(status)}» "
            f"được (được chuyển sang: {can or 'không có'}).",
            2,
            forceable=True,
        )
    old = draft.status
    await repo.set_status(draft, status, actor=actor, note=note)
    # The audit trail: who, when, what — no personal data.
    await AuditRepo(session).record(
        actor=actor,
        action="draft.set_status",
        subject=f"draft:{draft.id}",
        detail=f"{old} -> {status}",
    )
    told = await notify_owner(session, draft, status_message(draft, note))
    return StatusChange(draft, told)
