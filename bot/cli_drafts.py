"""`kcbot drafts list|show|export|set-status`: the staff side of draft applications.

A thin caller of ``handlers.intake.service`` (the staff web pages call the same
functions): filters, the history, the export rows and the status workflow live there.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
from pathlib import Path
from typing import Any

from handlers.intake.service import EXPORT_FIELDS, LIST_FIELDS, status_label

log = logging.getLogger(__name__)


def _filter_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--status", help="only this status ('all' includes unfinished ones)")
    p.add_argument("--province", help="only this province (name, old names accepted)")
    p.add_argument("--support", help="only this support content (e.g. machinery)")
    p.add_argument("--from", dest="date_from", help="created on or after DD/MM/YYYY")
    p.add_argument("--to", dest="date_to", help="created on or before DD/MM/YYYY")


def register(root: Any) -> None:
    drafts = root.add_parser("drafts", help="draft support applications from the intake")
    sub = drafts.add_subparsers(dest="drafts_command", metavar="ACTION", required=True)

    p = sub.add_parser("list", help="list drafts (default: every confirmed draft)")
    _filter_options(p)
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("show", help="one draft with its history")
    p.add_argument("id", type=int)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("export", help="write drafts to FILE.xlsx or FILE.csv")
    p.add_argument("file", type=Path)
    _filter_options(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("set-status", help="change a draft's status and tell the owner")
    p.add_argument("id", type=int)
    p.add_argument("status", help="submitted, under_review, approved, rejected, needs_changes")
    p.add_argument("--note", help="note for the history and the owner")
    p.add_argument("--force", action="store_true", help="allow any move between statuses")
    p.set_defaults(func=cmd_set_status)


def _filter(args: argparse.Namespace) -> Any:
    """The service's filter from the options; None (and the reasons printed) if bad."""
    from handlers.intake.service import read_filter

    params = {
        "status": getattr(args, "status", None) or "",
        "province": getattr(args, "province", None) or "",
        "support": getattr(args, "support", None) or "",
        "from": getattr(args, "date_from", None) or "",
        "to": getattr(args, "date_to", None) or "",
    }
    flt, errors = read_filter(params)
    options = {"from": "--from", "to": "--to"}
    for name, message in errors.items():
        print(f"{options.get(name, '--' + name)}: {message}", file=sys.stderr)
    return None if errors else flt


def draft_row(draft: Any, fields: tuple[str, ...] = LIST_FIELDS) -> dict[str, Any]:
    from handlers.intake.service import raw_row

    return raw_row(draft, fields)


async def _with_session(settings: Any, work: Any) -> int:
    from db.migrate import upgrade
    from db.session import create_engine, session_factory

    engine = create_engine(settings.database_url, file_mode=settings.file_mode_bits)
    try:
        await upgrade(engine)
        sessions = session_factory(engine)
        async with sessions() as session, session.begin():
            return int(await work(session))
    finally:
        await engine.dispose()


async def cmd_list(args: argparse.Namespace, settings: Any) -> int:
    from db.repos.drafts import DraftRepo
    from knowledge.formats import datetime_text, money_words

    flt = _filter(args)
    if flt is None:
        return 2

    async def work(session: Any) -> int:
        drafts = await DraftRepo(session).matching(flt.criteria())
        if args.json:
            for d in drafts:
                print(json.dumps(draft_row(d), ensure_ascii=False))
            return 0
        if not drafts:
            print("Không có hồ sơ nào.")
            return 0
        print(
            f"{'Mã':<6} {'Trạng thái':<22} {'Cơ sở':<30} {'Chủ cơ sở':<20} "
            f"{'Điện thoại':<12} {'Tỉnh':<16} {'Chi phí dự kiến':<18} Tạo lúc"
        )
        for d in drafts:
            cost = money_words(d.estimated_cost) if d.estimated_cost is not None else "-"
            print(
                f"#{d.id:<5} {status_label(d.status)[:22]:<22} "
                f"{(d.facility_name or '-')[:30]:<30} {(d.owner_name or '-')[:20]:<20} "
                f"{d.phone or '-':<12} {(d.province or '-')[:16]:<16} {cost:<18} "
                f"{datetime_text(d.created_at)}"
            )
        return 0

    return await _with_session(settings, work)


async def cmd_show(args: argparse.Namespace, settings: Any) -> int:
    from db.repos.drafts import DraftRepo
    from handlers.intake.service import draft_detail
    from knowledge.formats import datetime_text

    async def work(session: Any) -> int:
        detail = await draft_detail(session, args.id)
        if detail is None:
            print(f"Không có hồ sơ #{args.id}.", file=sys.stderr)
            return 1
        draft = detail.draft
        if args.json:
            history = [
                {
                    "at": e.at.isoformat(),
                    "actor": e.actor,
                    "kind": e.kind,
                    "from": e.from_status,
                    "to": e.to_status,
                    "note": e.note,
                }
                for e in await DraftRepo(session).history(draft.id)
            ]
            row = draft_row(draft, EXPORT_FIELDS)
            print(json.dumps({**row, "history": history}, ensure_ascii=False))
            return 0
        for label, value in detail.fields:
            print(f"{label:>24}: {value}")
        print(f"{'Lịch sử':>24}:")
        for line in detail.history:
            note = line.note if line.kind == "status" else ""
            print(f"  {datetime_text(line.at)}  {line.actor}  {line.change}  {note}".rstrip())
        return 0

    return await _with_session(settings, work)


async def cmd_export(args: argparse.Namespace, settings: Any) -> int:
    from handlers.intake.service import export_rows

    suffix = args.file.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        print("FILE must end in .xlsx or .csv", file=sys.stderr)
        return 2
    flt = _filter(args)
    if flt is None:
        return 2

    async def work(session: Any) -> int:
        rows = await export_rows(session, flt)
        try:
            write_rows(args.file, rows, settings.file_mode_bits)
        except OSError as exc:
            print(f"{args.file}: không ghi được tệp ({exc.strerror or exc})", file=sys.stderr)
            return 1
        print(f"Đã xuất {len(rows)} hồ sơ ra {args.file}")
        return 0

    return await _with_session(settings, work)


def write_rows(path: Path, rows: list[dict[str, Any]], file_mode: int | None = None) -> None:
    """Write the export, readable by its owner only (``KCBOT_FILE_MODE``), every text cell
    made safe (no formula, no control character) by ``db.files.safe_cell``."""
    from db.files import open_private, parse_mode, safe_row

    mode = parse_mode(file_mode)
    if path.suffix.lower() == ".csv":
        with open_private(path, mode, text=True) as fh:
            writer = csv.writer(fh)
            writer.writerow(EXPORT_FIELDS)
            for row in rows:
                writer.writerow(safe_row(row[name] for name in EXPORT_FIELDS))
        return
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Hồ sơ"
    ws.append(list(EXPORT_FIELDS))
    for row in rows:
        ws.append(safe_row(row[name] for name in EXPORT_FIELDS))
    with open_private(path, mode) as fh:
        wb.save(fh)


async def cmd_set_status(args: argparse.Namespace, settings: Any) -> int:
    from bot.cli_data import os_user
    from handlers.intake.service import StatusError, change_status

    # Who did it: the operating-system account running the command, not a typed name.
    actor = f"staff:{os_user()}"

    async def work(session: Any) -> int:
        try:
            change = await change_status(
                session, args.id, args.status, actor=actor, note=args.note, force=args.force
            )
        except StatusError as exc:
            hint = " Dùng --force nếu chắc." if exc.forceable else ""
            print(f"{exc}{hint}", file=sys.stderr)
            return exc.code
        told = {
            "outbox": "đã xếp tin nhắn báo chủ cơ sở (gửi khi bot chạy)",
        }.get(change.told, "chưa nhắn được chủ cơ sở (chỉ ghi vào lịch sử)")
        print(f"Hồ sơ #{change.draft.id} chuyển sang «{status_label(args.status)}»; {told}.")
        return 0

    return await _with_session(settings, work)
