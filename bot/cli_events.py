"""`kcbot events|reminders|outbox`: load events, run due reminders, watch the outbox.

Import file columns (CSV in UTF-8, comma or semicolon separated, or XLSX, first sheet,
headers on the first row; English or Vietnamese headers, any case, with or without
diacritics):

| column | Vietnamese header | value |
| --- | --- | --- |
| title | tiêu đề / tên sự kiện | required |
| kind | loại | deadline, trade_fair, selection, training, conference, other |
|  |  | or hạn nộp, hội chợ, bình chọn, tập huấn, hội nghị, khác |
| start | bắt đầu | YYYY-MM-DD, YYYY-MM-DD HH:MM, DD/MM/YYYY or DD/MM/YYYY HH:MM (local time) |
| end | kết thúc | optional, same formats |
| place | địa điểm | optional |
| provinces | tỉnh | `all` (or empty) or names separated by `;` |
| sectors | ngành | optional, separated by `;` |
| description | mô tả | optional |
| contact | liên hệ | optional: how to register or whom to call |
| source | nguồn | optional: where the event was announced |

Invalid rows are reported by row number (the spreadsheet's, header = row 1) and reason;
valid rows are imported. Importing the same file again updates the same events (matched by
title, kind and start date) instead of duplicating them.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from handlers.reminders.events_import import (
    COLUMNS,
    ImportReport,
    UnreadableFile,
    import_file,
    import_rows,
    parse_when,
)
from knowledge.formats import LOCAL_TZ

# Re-exported: the import itself lives with the reminders feature.
__all__ = ["ImportReport", "import_file", "import_rows", "parse_when"]

# --- commands ---------------------------------------------------------------------------


def register(root: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    events = root.add_parser("events", help="events: import, list, add, cancel")
    ev = events.add_subparsers(dest="events_command", metavar="ACTION", required=True)

    imp = ev.add_parser("import", help="import events from a CSV or XLSX file")
    imp.add_argument("file", type=Path)
    imp.set_defaults(func=_cmd_import)

    lst = ev.add_parser("list", help="list events")
    lst.add_argument("--json", action="store_true", help="print JSON")
    lst.add_argument("--upcoming", action="store_true", help="only events not over yet")
    lst.set_defaults(func=_cmd_list)

    add = ev.add_parser("add", help="add (or update) one event")
    add.add_argument("--title", required=True)
    add.add_argument("--kind", required=True, help="deadline, trade_fair, … or hạn nộp, hội chợ …")
    add.add_argument("--start", required=True, help="YYYY-MM-DD [HH:MM] or DD/MM/YYYY [HH:MM]")
    for name in ("end", "place", "provinces", "sectors", "description", "contact", "source"):
        add.add_argument(f"--{name}")
    add.set_defaults(func=_cmd_add)

    cancel = ev.add_parser("cancel", help="cancel an event (notifies those already reminded)")
    cancel.add_argument("id", type=int)
    cancel.set_defaults(func=_cmd_cancel)

    reminders = root.add_parser("reminders", help="reminders: run-due")
    rem = reminders.add_subparsers(dest="reminders_command", metavar="ACTION", required=True)
    due = rem.add_parser("run-due", help="queue the reminders due now, send them, exit")
    due.add_argument("--now", help="the instant to act at (ISO-8601), default: now")
    due.set_defaults(func=_cmd_run_due)

    outbox = root.add_parser("outbox", help="the outgoing message queue")
    ob = outbox.add_subparsers(dest="outbox_command", metavar="ACTION", required=True)
    status = ob.add_parser("status", help="pending / sent / failed counts")
    status.add_argument("--campaigns", action="store_true", help="per campaign")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(func=_cmd_outbox_status)


async def _open(settings: Any) -> tuple[Any, Any]:
    from db.migrate import upgrade
    from db.session import create_engine, session_factory

    engine = create_engine(settings.database_url)
    await upgrade(engine)
    return engine, session_factory(engine)


def _now() -> datetime:
    return datetime.now(UTC)


def _actor() -> str:
    from bot.cli_data import os_user

    return f"os:{os_user()}"


async def _cmd_import(args: argparse.Namespace, settings: Any) -> int:
    from handlers.reminders import service
    from handlers.reminders.scheduling import ReminderConfig

    if not args.file.exists():
        print(f"Không thấy tệp {args.file}", file=sys.stderr)
        return 2
    try:
        content = args.file.read_bytes()
    except OSError as exc:
        print(f"Không đọc được tệp {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    engine, sessions = await _open(settings)
    try:
        async with sessions() as session, session.begin():
            try:
                report = await service.import_upload(
                    session,
                    args.file.name,
                    content,
                    actor=_actor(),
                    now=_now(),
                    cfg=ReminderConfig.from_settings(settings),
                    max_bytes=None,
                )
            except UnreadableFile as exc:
                print(exc, file=sys.stderr)
                return 2
    finally:
        await engine.dispose()
    for number, reason in report.errors:
        print(f"Dòng {number}: {reason}", file=sys.stderr)
    print(service.import_summary(report))
    return 1 if report.errors else 0


def _event_json(event: Any) -> dict[str, Any]:
    return {
        "id": event.id,
        "title": event.title,
        "kind": event.kind,
        "start": event.starts_at.isoformat(),
        "end": event.ends_at.isoformat() if event.ends_at else None,
        "all_day": event.all_day,
        "place": event.place,
        "provinces": event.provinces,
        "sectors": event.sectors,
        "description": event.description,
        "contact": event.contact,
        "source": event.source,
        "cancelled": event.cancelled,
    }


async def _cmd_list(args: argparse.Namespace, settings: Any) -> int:
    from db.repos.events import EventRepo
    from handlers.reminders.scheduling import KIND_LABELS
    from knowledge.formats import date_text, datetime_text

    engine, sessions = await _open(settings)
    try:
        async with sessions() as session:
            repo = EventRepo(session)
            events = await (repo.upcoming(_now(), limit=10_000) if args.upcoming else repo.find())
    finally:
        await engine.dispose()
    if args.json:
        print(json.dumps([_event_json(e) for e in events], ensure_ascii=False, indent=2))
        return 0
    if not events:
        print("Chưa có sự kiện nào.")
        return 0
    print(f"{'Mã':<6} {'Bắt đầu':<17} {'Loại':<14} {'Tình trạng':<10} Tên sự kiện · địa điểm")
    for e in events:
        status = "ĐÃ HỦY" if e.cancelled else "đang có"
        where = f" · {e.place}" if e.place else ""
        start = datetime_text(e.starts_at) if not e.all_day else date_text(e.starts_at)
        print(
            f"#{e.id:<5} {start:<17} {KIND_LABELS[e.kind][:14]:<14} {status:<10} {e.title}{where}"
        )
    return 0


async def _cmd_add(args: argparse.Namespace, settings: Any) -> int:
    from handlers.reminders import service
    from handlers.reminders.scheduling import ReminderConfig

    try:
        data = service.read_form({c: getattr(args, c, None) for c in COLUMNS})
    except service.EventInvalid as exc:
        print(f"Lỗi: {exc}", file=sys.stderr)
        return 2
    engine, sessions = await _open(settings)
    try:
        async with sessions() as session, session.begin():
            event, outcome = await service.add_event(
                session,
                data,
                actor=_actor(),
                now=_now(),
                cfg=ReminderConfig.from_settings(settings),
            )
    finally:
        await engine.dispose()
    word = {"created": "Đã thêm", "updated": "Đã cập nhật", "unchanged": "Không đổi"}[outcome]
    print(f"{word} sự kiện #{event.id}: {event.title}")
    return 0


async def _cmd_cancel(args: argparse.Namespace, settings: Any) -> int:
    from handlers.reminders import service
    from handlers.reminders.scheduling import ReminderConfig

    engine, sessions = await _open(settings)
    try:
        async with sessions() as session, session.begin():
            result = await service.cancel_event(
                session,
                args.id,
                actor=_actor(),
                now=_now(),
                cfg=ReminderConfig.from_settings(settings),
            )
    finally:
        await engine.dispose()
    if result is None:
        print(f"Không có sự kiện #{args.id}", file=sys.stderr)
        return 1
    if result.already:
        print(f"Sự kiện #{result.event.id} đã hủy từ trước.")
        return 0
    print(
        f"Đã hủy sự kiện #{result.event.id}: {result.event.title}. Bỏ {result.dropped} lời "
        f"nhắc chưa gửi; sẽ báo hủy cho {result.notified} người đã được nhắc."
    )
    return 0


class _StartedClock:
    """Real time, but starting at a chosen instant (``--now``)."""

    def __init__(self, start: datetime) -> None:
        import time as _time

        self._start = start
        self._t0 = _time.monotonic()

    def now(self) -> datetime:
        import time as _time

        return self._start + timedelta(seconds=_time.monotonic() - self._t0)

    async def sleep(self, seconds: float) -> None:
        import asyncio

        await asyncio.sleep(max(0.0, seconds))


def parse_instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:  # a local time, as staff think of it
        moment = moment.replace(tzinfo=LOCAL_TZ)
    return moment.astimezone(UTC)


async def run_due(
    sessions: Any,
    senders: dict[str, Any],
    now: datetime,
    *,
    settings: Any = None,
    clock: Any = None,
    outbox_config: Any = None,
) -> tuple[int, Any]:
    """Queue what is due at ``now`` and send everything due; (queued, send stats)."""
    from bot.outbox import OutboxConfig, OutboxSender
    from handlers.reminders.scheduling import ReminderConfig, enqueue_due

    # Without settings (tests, benchmarks): the defaults, which are also the settings' defaults.
    reminders = ReminderConfig.from_settings(settings) if settings else ReminderConfig()
    async with sessions() as session, session.begin():
        queued = await enqueue_due(session, now, reminders)
    sender = OutboxSender(
        sessions,
        senders,
        config=outbox_config
        or (OutboxConfig.from_settings(settings) if settings else OutboxConfig()),
        clock=clock or _StartedClock(now),
    )
    stats = await sender.drain()
    return queued, stats


async def _cmd_run_due(args: argparse.Namespace, settings: Any) -> int:
    from bot.transports.telegram import TelegramSender

    try:
        now = parse_instant(args.now) if args.now else _now()
    except ValueError:
        print(
            f"--now «{args.now}» không đúng dạng ISO-8601 (vd: 2026-05-09T08:00)", file=sys.stderr
        )
        return 2
    engine, sessions = await _open(settings)
    try:
        if settings.telegram_bot_token:
            async with TelegramSender.standalone(
                settings.telegram_bot_token, settings.telegram_api_base_url
            ) as telegram:
                queued, stats = await run_due(
                    sessions, {"telegram": telegram}, now, settings=settings
                )
        else:
            queued, stats = await run_due(sessions, {}, now, settings=settings)
            print("TELEGRAM_BOT_TOKEN chưa đặt: chỉ xếp hàng, chưa gửi.", file=sys.stderr)
    finally:
        await engine.dispose()
    print(
        f"Xếp hàng {queued} lời nhắc; đã gửi {stats.sent}, lỗi {stats.failed}, "
        f"thử lại sau {stats.retried + stats.rate_limited + stats.released}, "
        f"bỏ qua {stats.skipped}."
    )
    return 0


async def _cmd_outbox_status(args: argparse.Namespace, settings: Any) -> int:
    from db.repos.outbox import OutboxRepo

    engine, sessions = await _open(settings)
    try:
        async with sessions() as session:
            repo = OutboxRepo(session)
            counts = await repo.counts()
            campaigns = await repo.campaign_counts() if args.campaigns else []
    finally:
        await engine.dispose()
    if args.json:
        out: dict[str, Any] = dict(counts)
        if args.campaigns:
            out["campaigns"] = [{"campaign": c, "status": s, "count": n} for c, s, n in campaigns]
        print(json.dumps(out, ensure_ascii=False))
        return 0
    labels = {
        "pending": "chờ gửi",
        "sending": "đang gửi",
        "sent": "đã gửi",
        "failed": "lỗi",
        "cancelled": "đã hủy",
    }
    print(" · ".join(f"{labels.get(k, k)}: {v}" for k, v in counts.items()))
    if campaigns:
        print(f"  {'Đợt gửi':<32} {'Tình trạng':<10} Số tin")
    for campaign, status, n in campaigns:
        print(f"  {campaign:<32} {labels.get(status, status):<10} {n}")
    return 0
