"""Events for staff: list, add, edit, cancel, import. The ``kcbot events`` commands and the
staff pages both call these; each change is audited as the person who made it, and the
reminders already queued follow it (``scheduling.event_changed``): an edit rebuilds the
unsent ones, a cancellation drops them and tells the people already reminded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from db.models.events import Event
from db.repos.events import EventData, EventRepo
from db.repos.outbox import CANCELLED, PENDING, OutboxRepo
from db.repos.privacy import AuditRepo
from handlers.reminders.events_import import (
    COLUMNS,
    ImportReport,
    import_table,
    parse_fields,
    read_content,
)
from handlers.reminders.scheduling import ReminderConfig, event_changed
from knowledge.formats import LOCAL_TZ, at_local, local_day, to_local

# The lists staff pick from: what is on, what is over, what was cancelled.
STATUSES = {
    "upcoming": "Sắp tới / đang diễn ra",
    "past": "Đã qua",
    "cancelled": "Đã hủy",
    "all": "Tất cả",
}
MAX_IMPORT_BYTES = 1024 * 1024  # the web server's own limit on a request


class EventInvalid(ValueError):
    """What is wrong, by field (``COLUMNS``), in Vietnamese."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass
class EventPage:
    items: list[Event]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


async def list_events(
    session: Any,
    now: datetime,
    *,
    status: str = "upcoming",
    kind: str | None = None,
    page: int = 1,
    per_page: int = 20,
) -> EventPage:
    """A page of events. «Sắp tới» are those not cancelled whose last day (or first, without
    an end) is today or later, nearest first; «đã qua» the others, latest first."""
    today = at_local(local_day(now), 0)
    page = max(1, page)
    options: dict[str, Any] = {"kind": kind or None}
    if status == "upcoming":
        options.update(ending_from=today, cancelled=False)
    elif status == "past":
        options.update(ending_before=today, cancelled=False, newest_first=True)
    elif status == "cancelled":
        options.update(cancelled=True, newest_first=True)
    else:
        options.update(newest_first=True)
    items, total = await EventRepo(session).page(
        offset=(page - 1) * per_page, limit=per_page, **options
    )
    return EventPage(items, total, page, per_page)


async def get_event(session: Any, event_id: int) -> Event | None:
    return await EventRepo(session).get(event_id)


def read_form(values: Mapping[str, Any]) -> EventData:
    """A form or the command line's options (column → text) → ``EventData``; raises
    ``EventInvalid`` with every field's problem."""
    data, errors = parse_fields({c: values.get(c) for c in COLUMNS})
    if errors:
        raise EventInvalid(errors)
    return data  # type: ignore[no-any-return]


def _local_text(moment: datetime, all_day: bool) -> str:
    local = to_local(moment)
    return local.strftime("%d/%m/%Y") if all_day else local.strftime("%d/%m/%Y %H:%M")


def form_values(event: Event) -> dict[str, str]:
    """An event as the form shows it (local dates, lists joined by «; »)."""
    end = ""
    if event.ends_at is not None:
        ends_at = event.ends_at
        # a timed start with an end date was stored as 23:59 of that day: show the date
        end_is_day = event.all_day or to_local(ends_at).strftime("%H:%M") == "23:59"
        if end_is_day and not event.all_day:
            ends_at = ends_at - timedelta(hours=23, minutes=59)
        end = _local_text(ends_at, end_is_day)
    return {
        "title": event.title,
        "kind": event.kind,
        "start": _local_text(event.starts_at, event.all_day),
        "end": end,
        "place": event.place or "",
        "provinces": "; ".join(event.provinces or []),
        "sectors": "; ".join(event.sectors or []),
        "description": event.description or "",
        "contact": event.contact or "",
        "source": event.source or "",
    }


async def _audit(session: Any, actor: str, action: str, event: Event, now: datetime) -> None:
    await AuditRepo(session).record(
        actor=actor, action=action, subject=f"event:{event.id}", detail=event.title[:200], now=now
    )


async def add_event(
    session: Any, data: EventData, *, actor: str, now: datetime, cfg: ReminderConfig | None = None
) -> tuple[Event, str]:
    """Add an event (or update the one with the same title, kind and day); returns it and
    created | updated | unchanged."""
    event, outcome = await EventRepo(session).upsert(data, now)
    if outcome != "unchanged":
        await event_changed(session, event, now, cfg)
        action = "event.add" if outcome == "created" else "event.edit"
        await _audit(session, actor, action, event, now)
    return event, outcome


async def edit_event(
    session: Any,
    event_id: int,
    data: EventData,
    *,
    actor: str,
    now: datetime,
    cfg: ReminderConfig | None = None,
) -> tuple[Event, bool] | None:
    """Change one event; (event, changed?), None if there is none. Raises ``EventInvalid``
    when the new title, kind and day are those of another event."""
    repo = EventRepo(session)
    event = await repo.get(event_id)
    if event is None:
        return None
    other = await repo.by_key(data.key)
    if other is not None and other.id != event.id:
        raise EventInvalid({"title": f"đã có sự kiện #{other.id} cùng tên, loại và ngày bắt đầu"})
    changed = await repo.update(event, data, now)
    if changed:
        await event_changed(session, event, now, cfg)
        await _audit(session, actor, "event.edit", event, now)
    return event, changed


@dataclass
class Cancelled:
    event: Event
    dropped: int  # reminders queued and not sent: never sent now
    notified: int  # people already reminded, told of the cancellation
    already: bool = False


async def cancel_event(
    session: Any, event_id: int, *, actor: str, now: datetime, cfg: ReminderConfig | None = None
) -> Cancelled | None:
    repo = EventRepo(session)
    event = await repo.get(event_id)
    if event is None:
        return None
    if event.cancelled:
        return Cancelled(event, 0, 0, already=True)
    await repo.set_cancelled(event_id, now)
    result = await event_changed(session, event, now, cfg)
    await _audit(session, actor, "event.cancel", event, now)
    return Cancelled(event, result["cancelled"], result["notified"])


async def reopen_event(
    session: Any, event_id: int, *, actor: str, now: datetime, cfg: ReminderConfig | None = None
) -> tuple[Event, int] | None:
    """Put a cancelled event back on: its reminders are queued again (those not sent yet),
    and cancel notices not sent yet are dropped. (event, reminders queued), None if none."""
    repo = EventRepo(session)
    event = await repo.get(event_id)
    if event is None:
        return None
    if not event.cancelled:
        return event, 0
    await repo.set_cancelled(event_id, now, cancelled=False)
    # The reminders the cancellation stopped were never sent: they may be queued again.
    await OutboxRepo(session).delete_pending(f"rem:{event.id}:", (PENDING, CANCELLED))
    result = await event_changed(session, event, now, cfg)
    await _audit(session, actor, "event.reopen", event, now)
    return event, result["queued"]


async def import_upload(
    session: Any,
    name: str,
    content: bytes,
    *,
    actor: str,
    now: datetime,
    cfg: ReminderConfig | None = None,
    max_bytes: int | None = MAX_IMPORT_BYTES,
) -> ImportReport:
    """Import an uploaded CSV/XLSX; raises ``UnreadableFile`` (one line saying what to do)."""
    from handlers.reminders.events_import import UnreadableFile

    if max_bytes is not None and len(content) > max_bytes:
        raise UnreadableFile(f"Tệp {name} lớn quá 1 MB: chia nhỏ rồi nhập từng phần.")
    report = await import_table(session, read_content(name, content), now, cfg)
    if report.created or report.updated:
        await AuditRepo(session).record(
            actor=actor,
            action="event.import",
            subject=name[:100],
            detail=f"thêm {report.created}, cập nhật {report.updated}, lỗi {len(report.errors)}",
            now=now,
        )
    return report


def import_summary(report: ImportReport) -> str:
    return (
        f"Thêm mới {report.created}, cập nhật {report.updated}, không đổi {report.unchanged}, "
        f"lỗi {len(report.errors)} dòng."
    )


def is_over(event: Event, now: datetime) -> bool:
    end = event.ends_at or event.starts_at
    return to_local(end).date() < now.astimezone(LOCAL_TZ).date()


__all__ = [
    "STATUSES",
    "Cancelled",
    "EventInvalid",
    "EventPage",
    "add_event",
    "cancel_event",
    "edit_event",
    "form_values",
    "get_event",
    "import_summary",
    "import_upload",
    "is_over",
    "list_events",
    "read_form",
    "reopen_event",
]
