"""What staff do with collaborators' leads — list them with filters and duplicates marked,
move one along with a note, export them — for ``kcbot leads`` and the staff web page alike.
No printing, no argument parsing, no HTML here.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.handoff import LEAD_STATUSES, Lead, LeadEvent
from db.repos.handoff import LeadRepo
from db.repos.privacy import AuditRepo
from handlers.leads import SAME_NAME, STATUS_LABELS
from knowledge import places
from knowledge.formats import at_local, date_text, datetime_text
from knowledge.support import catalogue
from knowledge.vocabulary import vocabulary

STATUSES = LEAD_STATUSES
NOTE_LIMIT = 1000
PER_PAGE = 50

# The export's columns: the lead's fields (codes), then what staff read in each.
FIELDS = (
    "id",
    "status",
    "facility_name",
    "owner_name",
    "phone",
    "province",
    "commune",
    "sector",
    "support",
    "notes",
    "collaborator",
    "draft_id",
    "created_at",
)
HEADERS = (
    "Số",
    "Trạng thái",
    "Tên cơ sở",
    "Chủ cơ sở",
    "Điện thoại",
    "Tỉnh/thành phố",
    "Xã/phường",
    "Ngành nghề",
    "Cần hỗ trợ",
    "Ghi chú",
    "Người giới thiệu",
    "Hồ sơ",
    "Ngày giới thiệu",
    "Có thể trùng với",
)


class LeadError(ValueError):
    """A change that can't be made; ``str(exc)`` says why (Vietnamese, for staff).
    ``field`` names the form field it is about, ``code`` is the command line's exit code."""

    def __init__(self, message: str, field: str = "", code: int = 2) -> None:
        super().__init__(message)
        self.field = field
        self.code = code


# --- filters ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeadFilter:
    """What a staff list is narrowed to. Nothing personal: no name or phone, so that a
    filter can sit in a page's address."""

    status: str | None = None
    province_code: int | None = None
    collaborator: int | None = None  # the collaborator's user id
    since: date | None = None  # local days, both included
    until: date | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        return LeadRepo.where(
            status=self.status,
            province_code=self.province_code,
            collaborator=self.collaborator,
            since=at_local(self.since, 0) if self.since else None,
            before=at_local(self.until + timedelta(days=1), 0) if self.until else None,
        )

    def query(self) -> dict[str, str]:
        """The filter as query-string values (the form's field names), empty ones left out."""
        values = {
            "status": self.status or "",
            "province": str(self.province_code) if self.province_code is not None else "",
            "collaborator": str(self.collaborator) if self.collaborator is not None else "",
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
        }
        return {k: v for k, v in values.items() if v}


def parse_day(text: str) -> date | None:
    """A day as a date field sends it (2026-12-08) or as people type it (8/12/2026)."""
    text = text.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    parts = text.replace("-", "/").replace(".", "/").split("/")
    if len(parts) == 3 and all(p.strip().isdigit() for p in parts):
        day, month, year = (int(p) for p in parts)
        try:
            return date(year, month, day)
        except ValueError:
            return None
    return None


def parse_filter(
    *,
    status: str | None = None,
    province: str | None = None,
    collaborator: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> tuple[LeadFilter, dict[str, str]]:
    """Read a filter from text (a query string or command-line options). Returns the
    filter (bad parts left out) and, per field, what was wrong (Vietnamese)."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if status:
        if status in STATUSES:
            values["status"] = status
        else:
            labels = ", ".join(f"{s} ({STATUS_LABELS[s]})" for s in STATUSES)
            errors["status"] = f"Trạng thái phải là một trong: {labels}."
    if province and province.strip():
        code = province_code(province)
        if code is None:
            errors["province"] = f"Không tìm thấy tỉnh/thành phố «{province[:40]}»."
        else:
            values["province_code"] = code
    if collaborator and collaborator.strip():
        if collaborator.strip().isdigit():
            values["collaborator"] = int(collaborator.strip())
        else:
            errors["collaborator"] = "Chọn người giới thiệu trong danh sách."
    for name, text in (("since", since), ("until", until)):
        if text and text.strip():
            day = parse_day(text)
            if day is None:
                errors[name] = "Ngày chưa đúng. Ví dụ: 08/12/2026."
            else:
                values[name] = day
    if "since" in values and "until" in values and values["since"] > values["until"]:
        errors["until"] = "«Đến ngày» phải sau «Từ ngày»."
        del values["until"]
    return LeadFilter(**values), errors


def province_code(text: str) -> int | None:
    """A province from its code (a page's select) or its name, old or new (the CLI)."""
    text = text.strip()
    if text.isdigit():
        found = places.province_by_code(int(text))
        return found.code if found else None
    matches = places.match_province(text[:100], limit=1)
    return matches[0].code if matches else None


def province_choices() -> list[tuple[int, str]]:
    """(code, name) of every province in the official order (by code), for a select."""
    return [(p.code, p.name) for p in sorted(places.all_provinces(), key=lambda p: p.code)]


# --- lists --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeadItem:
    """A lead as staff see it: labels instead of codes, and the leads it may duplicate."""

    lead: Lead
    duplicates: tuple[int, ...] = ()

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.lead.status, self.lead.status)

    @property
    def sector_label(self) -> str:
        term = vocabulary().sector(self.lead.sector)
        return term.label if term else self.lead.sector

    @property
    def support_label(self) -> str:
        support = catalogue().types.get(self.lead.support)
        return support.label if support else self.lead.support

    @property
    def created_text(self) -> str:
        return date_text(self.lead.created_at)


@dataclass(frozen=True)
class LeadPage:
    items: list[LeadItem]
    total: int
    page: int
    per_page: int
    pages: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pages", max(1, math.ceil(self.total / self.per_page)))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


async def mark_duplicates(session: AsyncSession, leads: Sequence[Lead]) -> list[LeadItem]:
    """Each lead with the other leads that may be the same facility: the same phone, or a
    close name in the same commune (the rule the chat refuses a new lead by). Two leads
    registered at the same moment, or before a phone was corrected, still meet here."""
    by_phone: dict[str, list[int]] = defaultdict(list)
    by_commune: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for lead_id, phone, commune, key in await LeadRepo(session).identity_keys(leads):
        by_phone[phone].append(lead_id)
        by_commune[commune].append((lead_id, key))
    items = []
    for lead in leads:
        same = {i for i in by_phone[lead.phone] if i != lead.id}
        if lead.name_key:
            for other_id, key in by_commune[lead.commune_code]:
                if other_id == lead.id or other_id in same:
                    continue
                if fuzz.token_set_ratio(lead.name_key, key, score_cutoff=SAME_NAME):
                    same.add(other_id)
        items.append(LeadItem(lead, tuple(sorted(same))))
    return items


async def list_page(
    session: AsyncSession, flt: LeadFilter, page: int = 1, per_page: int = PER_PAGE
) -> LeadPage:
    """One page of leads, newest first. Leads whose phone appears on a confirmed draft are
    linked to it first (and so shown «đã nộp hồ sơ»)."""
    repo = LeadRepo(session)
    await repo.link_drafts()
    where = flt.conditions()
    total = await repo.count(where)
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    leads = await repo.page(where, (page - 1) * per_page, per_page)
    return LeadPage(await mark_duplicates(session, leads), total, page, per_page)


async def matching(session: AsyncSession, flt: LeadFilter | None = None) -> list[LeadItem]:
    """Every lead of a filter, oldest first, duplicates marked (exports and the CLI)."""
    repo = LeadRepo(session)
    await repo.link_drafts()
    leads = await repo.matching((flt or LeadFilter()).conditions())
    return await mark_duplicates(session, leads)


async def collaborators(session: AsyncSession) -> list[tuple[int, str]]:
    """(user id, «name (n)») of the collaborators who registered leads, for a select."""
    return [
        (uid, f"{name or 'cộng tác viên'} ({n})")
        for uid, name, n in await LeadRepo(session).collaborators()
    ]


def lead_row(lead: Lead) -> dict[str, Any]:
    """The lead's fields with their codes (``kcbot leads list --json``)."""
    row = {name: getattr(lead, name) for name in FIELDS}
    row["created_at"] = lead.created_at.isoformat()
    return row


def export_row(item: LeadItem) -> list[Any]:
    """One export line: labels and local dates for people (cells are made safe by the
    writer, db.files.safe_row)."""
    values = lead_row(item.lead)
    values["status"] = item.status_label
    values["sector"] = item.sector_label
    values["support"] = item.support_label
    values["created_at"] = datetime_text(item.lead.created_at)
    duplicates = ", ".join(f"#{i}" for i in item.duplicates)
    return [*(values[name] for name in FIELDS), duplicates]


# --- one lead -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LeadDetail:
    item: LeadItem
    history: Sequence[LeadEvent]


async def detail(session: AsyncSession, lead_id: int) -> LeadDetail | None:
    repo = LeadRepo(session)
    await repo.link_drafts()
    lead = await repo.get(lead_id)
    if lead is None:
        return None
    [item] = await mark_duplicates(session, [lead])
    return LeadDetail(item, await repo.history(lead_id))


async def change_status(
    session: AsyncSession,
    lead_id: int,
    status: str,
    *,
    actor: str,
    note: str | None = None,
    now: datetime,
) -> tuple[Lead, str]:
    """Move a lead to ``status``, with the note in its history and the change in the audit
    trail. Returns the lead and its previous status; raises LeadError when it can't."""
    if status not in STATUSES:
        labels = ", ".join(f"{s} ({STATUS_LABELS[s]})" for s in STATUSES)
        raise LeadError(f"Trạng thái phải là một trong: {labels}.", "status", 2)
    note = " ".join((note or "").split()) or None
    if note and len(note) > NOTE_LIMIT:
        raise LeadError(f"Ghi chú dài quá (tối đa {NOTE_LIMIT} ký tự).", "note", 2)
    repo = LeadRepo(session)
    lead = await repo.get(lead_id)
    if lead is None:
        raise LeadError(f"Không có cơ sở #{lead_id}.", "", 1)
    old = lead.status
    if old == status and not note:
        raise LeadError(f"Cơ sở #{lead_id} đã ở trạng thái «{STATUS_LABELS[status]}».", "status", 1)
    await repo.set_status(lead, status, actor=actor, note=note, now=now)
    # The audit holds no personal data: the note stays in the lead's history only.
    await AuditRepo(session).record(
        actor=actor,
        action="lead.set_status",
        subject=f"lead:{lead.id}",
        detail=f"{old} -> {status}",
        now=now,
    )
    return lead, old


def status_choices() -> list[tuple[str, str]]:
    return [(s, STATUS_LABELS[s]) for s in STATUSES]
