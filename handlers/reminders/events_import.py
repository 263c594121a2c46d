"""Events from a spreadsheet: the rows of a CSV or XLSX file become events, and reminders
already queued follow the changes. Used by ``kcbot events import`` and ``events add`` (and
later the staff pages); the columns are described in ``bot/cli_events.py``.

Kinds come from the shared vocabulary (``knowledge/rules/vocabulary.yaml``); dates are
local (Asia/Ho_Chi_Minh) and stored in UTC.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from knowledge.formats import LOCAL_TZ
from knowledge.normalize import fold_key
from knowledge.vocabulary import vocabulary

COLUMNS = (
    "title",
    "kind",
    "start",
    "end",
    "place",
    "provinces",
    "sectors",
    "description",
    "contact",
    "source",
)

HEADER_ALIASES = {
    "title": {"title", "tieu de", "ten su kien", "ten", "su kien"},
    "kind": {"kind", "type", "loai", "loai su kien"},
    "start": {"start", "bat dau", "ngay bat dau", "tu ngay", "ngay", "thoi gian"},
    "end": {"end", "ket thuc", "ngay ket thuc", "den ngay"},
    "place": {"place", "dia diem", "noi to chuc"},
    "provinces": {"provinces", "province", "tinh", "tinh thanh", "pham vi", "tinh thanh pho"},
    "sectors": {"sectors", "sector", "nganh", "nganh nghe", "linh vuc"},
    "description": {"description", "mo ta", "noi dung", "ghi chu"},
    "contact": {"contact", "lien he", "dang ky", "cach dang ky"},
    "source": {"source", "nguon", "nguon tin"},
}

# Kind -> folded words that name it in the «loại» column (knowledge/rules/vocabulary.yaml).
KIND_ALIASES = {term.key: term.words for term in vocabulary().event_kinds}

DATE_HELP = "dùng YYYY-MM-DD, YYYY-MM-DD HH:MM, DD/MM/YYYY hoặc DD/MM/YYYY HH:MM"
ALL_PROVINCES = {"all", "tat ca", "ca nuoc", "toan quoc", "*"}


class RowError(ValueError):
    pass


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    event_ids: list[int] = field(default_factory=list)


# --- parsing ----------------------------------------------------------------------------


def canonical_header(name: str) -> str | None:
    key = fold_key(str(name or ""))
    for column, aliases in HEADER_ALIASES.items():
        if key in aliases:
            return column
    return None


def parse_kind(value: str) -> str:
    key = fold_key(value)
    if not key:
        raise RowError("thiếu loại sự kiện (kind / loại)")
    for kind, aliases in KIND_ALIASES.items():
        if key == kind.replace("_", " ") or any(
            key == a or key.startswith(a + " ") for a in aliases
        ):
            return kind
    raise RowError(
        f"loại «{value}» không rõ (dùng: hạn nộp, hội chợ, bình chọn, tập huấn, hội nghị, khác)"
    )


def parse_when(value: Any, what: str) -> tuple[datetime, bool]:
    """A local date or date-time → (UTC instant, date only?)."""
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return datetime.combine(value.date(), time(0), LOCAL_TZ).astimezone(UTC), True
        return value.replace(tzinfo=LOCAL_TZ).astimezone(UTC), False
    if isinstance(value, date):
        return datetime.combine(value, time(0), LOCAL_TZ).astimezone(UTC), True
    text = " ".join(str(value or "").replace("T", " ").split())
    if not text:
        raise RowError(f"thiếu ngày {what}")
    day_part, _, time_part = text.partition(" ")
    day: date | None = None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            day = datetime.strptime(day_part, fmt).date()
            break
        except ValueError:
            continue
    if day is None:
        raise RowError(f"ngày {what} «{text}» không đúng ({DATE_HELP})")
    if not time_part:
        return datetime.combine(day, time(0), LOCAL_TZ).astimezone(UTC), True
    clock = time_part.lower().replace("h", ":").rstrip(":")
    try:
        hh, _, mm = clock.partition(":")
        moment = time(int(hh), int(mm or 0))
    except ValueError:
        raise RowError(f"giờ {what} «{time_part}» không đúng (dùng HH:MM)") from None
    return datetime.combine(day, moment, LOCAL_TZ).astimezone(UTC), False


def _split(value: str) -> list[str]:
    return [p.strip() for p in str(value or "").replace("\n", ";").split(";") if p.strip()]


def parse_provinces(value: str) -> list[str]:
    from handlers.reminders.scheduling import find_province

    parts = _split(value)
    if not parts or any(fold_key(p) in ALL_PROVINCES for p in parts):
        return []
    return [find_province(p) or p for p in parts]


def parse_fields(values: dict[str, Any]) -> tuple[Any, dict[str, str]]:
    """One row or form (canonical column → value) → (``EventData`` or None, {column: why}).

    Every field is checked, so a form can show each error next to its field."""
    from db.repos.events import EventData

    def text(column: str) -> str | None:
        value = values.get(column)
        value = "" if value is None else str(value).strip()
        return value or None

    errors: dict[str, str] = {}
    title = text("title")
    if not title:
        errors["title"] = "thiếu tiêu đề (title / tiêu đề)"
    elif len(title) > 500:
        errors["title"] = "tiêu đề dài quá 500 ký tự"
    kind = ""
    try:
        kind = parse_kind(text("kind") or "")
    except RowError as exc:
        errors["kind"] = str(exc)
    starts_at: datetime | None = None
    all_day = True
    try:
        starts_at, all_day = parse_when(values.get("start"), "bắt đầu")
    except RowError as exc:
        errors["start"] = str(exc)
    ends_at = None
    if values.get("end") not in (None, ""):
        try:
            ends_at, end_day_only = parse_when(values.get("end"), "kết thúc")
            if end_day_only and not all_day:  # a timed start with an end date: end of that day
                ends_at = ends_at + timedelta(days=1) - timedelta(minutes=1)
            if starts_at is not None and ends_at < starts_at:
                errors["end"] = "ngày kết thúc trước ngày bắt đầu"
        except RowError as exc:
            errors["end"] = str(exc)
    if errors or title is None or starts_at is None:
        return None, errors
    place = text("place")
    return EventData(
        title=title,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        all_day=all_day,
        place=place[:500] if place else None,
        provinces=parse_provinces(text("provinces") or ""),
        sectors=_split(text("sectors") or ""),
        description=text("description"),
        contact=text("contact"),
        source=text("source"),
    ), {}


def parse_row(values: dict[str, Any]) -> Any:
    """One row (canonical column → cell) → ``EventData``; raises ``RowError`` (the first
    problem, in column order)."""
    data, errors = parse_fields(values)
    if errors:
        raise RowError(next(errors[c] for c in COLUMNS if c in errors))
    return data


class UnreadableFile(ValueError):
    """The file can't be read at all; the message says what to do, in one line."""


NOT_UTF8 = (
    "Tệp {name} không phải CSV UTF-8: hãy lưu dạng CSV UTF-8 "
    "(Excel: Lưu thành → CSV UTF-8) rồi nhập lại."
)
NOT_CSV = "Tệp {name} không đọc được như bảng CSV: lưu lại từ Excel dạng CSV UTF-8 hoặc .xlsx."
NOT_XLSX = "Tệp {name} hỏng hoặc không phải bảng tính XLSX: mở bằng Excel, lưu lại dạng .xlsx."


def read_table(path: Path) -> tuple[list[str | None], list[tuple[int, dict[str, Any]]]]:
    """Read a CSV or XLSX file → (canonical headers, [(row number, {column: value})])."""
    return read_content(path.name, path.read_bytes())


def read_content(
    name: str, content: bytes
) -> tuple[list[str | None], list[tuple[int, dict[str, Any]]]]:
    """Read an uploaded CSV or XLSX (its name says which) → the same as ``read_table``."""
    if Path(name).suffix.lower() in {".xlsx", ".xlsm"}:
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
            sheet = workbook.worksheets[0]
            raw = [list(r) for r in sheet.iter_rows(values_only=True)]
            workbook.close()
        except Exception as exc:  # openpyxl raises many kinds for a damaged file
            raise UnreadableFile(NOT_XLSX.format(name=name)) from exc
    else:
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise UnreadableFile(NOT_UTF8.format(name=name)) from exc
        first = text.splitlines()[0] if text else ""
        delimiter = ";" if first.count(";") > first.count(",") else ","
        try:
            raw = [list(r) for r in csv.reader(io.StringIO(text), delimiter=delimiter)]
        except csv.Error as exc:
            raise UnreadableFile(NOT_CSV.format(name=name)) from exc
    if not raw:
        return [], []
    headers = [canonical_header(str(h)) if h is not None else None for h in raw[0]]
    rows = []
    for number, cells in enumerate(raw[1:], start=2):
        if all(c is None or str(c).strip() == "" for c in cells):
            continue
        rows.append((number, {h: cells[i] for i, h in enumerate(headers) if h and i < len(cells)}))
    return headers, rows


async def import_rows(
    session: Any, rows: list[tuple[int, dict[str, Any]]], now: datetime, cfg: Any = None
) -> ImportReport:
    """Upsert valid rows, collect the invalid ones; queued reminders follow the changes."""
    from db.repos.events import EventRepo
    from handlers.reminders.scheduling import event_changed

    report = ImportReport()
    repo = EventRepo(session)
    for number, values in rows:
        try:
            data = parse_row(values)
        except RowError as exc:
            report.errors.append((number, str(exc)))
            continue
        event, outcome = await repo.upsert(data, now)
        setattr(report, outcome, getattr(report, outcome) + 1)
        report.event_ids.append(event.id)
        if outcome != "unchanged":
            await event_changed(session, event, now, cfg)
    return report


async def import_file(session: Any, path: Path, now: datetime, cfg: Any = None) -> ImportReport:
    return await import_table(session, read_table(path), now, cfg)


async def import_table(
    session: Any,
    table: tuple[list[str | None], list[tuple[int, dict[str, Any]]]],
    now: datetime,
    cfg: Any = None,
) -> ImportReport:
    """Import what ``read_table``/``read_content`` read; a missing column is row 1's error."""
    headers, rows = table
    missing = [c for c in ("title", "kind", "start") if c not in headers]
    if missing:
        report = ImportReport()
        report.errors.append((1, "thiếu cột: " + ", ".join(missing)))
        return report
    return await import_rows(session, rows, now, cfg)
