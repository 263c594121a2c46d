"""`kcbot leads list|export|set-status`: facilities collaborators registered.

A thin caller of ``handlers.leads.service`` (the staff web page calls the same functions):
before listing or exporting, leads whose phone appears on a confirmed draft are linked to
it and marked «đã nộp hồ sơ»; possible duplicates are named. ``set-status`` records who
(the operating-system account) in the audit trail and the note in the lead's history.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

STATUS_HELP = (
    "new (mới), contacted (đã liên hệ), applied (đã nộp hồ sơ), ineligible (chưa đủ điều kiện)"
)


def register(root: Any) -> None:
    leads = root.add_parser("leads", help="cơ sở do cộng tác viên giới thiệu")
    sub = leads.add_subparsers(dest="leads_command", metavar="ACTION", required=True)

    p = sub.add_parser("list", help="liệt kê cơ sở được giới thiệu")
    p.add_argument("--json", action="store_true", help="mỗi dòng một đối tượng JSON (mã gốc)")
    _filters(p)
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("export", help="xuất ra FILE.xlsx hoặc FILE.csv")
    p.add_argument("file", type=Path)
    _filters(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("set-status", help="đổi trạng thái: " + STATUS_HELP)
    p.add_argument("id", type=int)
    p.add_argument("status", help=STATUS_HELP)
    p.add_argument("--note", help="ghi chú, lưu trong lịch sử của cơ sở")
    p.set_defaults(func=cmd_set_status)


def _filters(p: Any) -> None:
    p.add_argument("--status", help=STATUS_HELP)
    p.add_argument("--province", help="tỉnh/thành phố (tên hoặc mã)")
    p.add_argument("--since", help="từ ngày (dd/mm/yyyy)")
    p.add_argument("--until", help="đến ngày (dd/mm/yyyy)")


def _filter(args: argparse.Namespace) -> Any:
    """The options as a service filter, or None after saying what is wrong."""
    from handlers.leads.service import parse_filter

    flt, errors = parse_filter(
        status=getattr(args, "status", None),
        province=getattr(args, "province", None),
        since=getattr(args, "since", None),
        until=getattr(args, "until", None),
    )
    for message in errors.values():
        print(message, file=sys.stderr)
    return None if errors else flt


async def _with_session(settings: Any, work: Any) -> int:
    from db.migrate import upgrade
    from db.session import create_engine, session_factory

    engine = create_engine(settings.database_url, file_mode=settings.file_mode_bits)
    try:
        await upgrade(engine)
        async with session_factory(engine)() as session, session.begin():
            return int(await work(session))
    finally:
        await engine.dispose()


async def cmd_list(args: argparse.Namespace, settings: Any) -> int:
    from handlers.leads.service import lead_row, matching

    flt = _filter(args)
    if flt is None:
        return 2

    async def work(session: Any) -> int:
        items = await matching(session, flt)
        if args.json:
            for item in items:
                row = lead_row(item.lead) | {"duplicates": list(item.duplicates)}
                print(json.dumps(row, ensure_ascii=False))
            return 0
        if not items:
            print("Chưa có cơ sở nào được giới thiệu.")
            return 0
        print(f"{'Số':<6} {'Trạng thái':<18} {'Tên cơ sở':<30} {'Điện thoại':<11} Xã/phường, tỉnh")
        for item in items:
            lead = item.lead
            same = f"  (có thể trùng {', '.join(f'#{i}' for i in item.duplicates)})"
            print(
                f"#{lead.id:<5} {item.status_label:<18} {lead.facility_name[:30]:<30} "
                f"{lead.phone:<11} {lead.commune}, {lead.province}"
                + (same if item.duplicates else "")
            )
        return 0

    return await _with_session(settings, work)


async def cmd_export(args: argparse.Namespace, settings: Any) -> int:
    from db.files import open_private, parse_mode, safe_row
    from handlers.leads.service import HEADERS, export_row, matching

    suffix = args.file.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        print("Tệp phải có đuôi .xlsx hoặc .csv", file=sys.stderr)
        return 2
    flt = _filter(args)
    if flt is None:
        return 2

    async def work(session: Any) -> int:
        rows = [export_row(item) for item in await matching(session, flt)]
        mode = parse_mode(settings.file_mode_bits)
        try:
            if suffix == ".csv":
                with open_private(args.file, mode, text=True) as fh:
                    writer = csv.writer(fh)
                    writer.writerow(HEADERS)
                    for row in rows:
                        writer.writerow(safe_row(row))
            else:
                from openpyxl import Workbook

                wb = Workbook()
                ws = wb.active
                assert ws is not None
                ws.title = "Cơ sở giới thiệu"
                ws.append(list(HEADERS))
                for row in rows:
                    ws.append(safe_row(row))
                with open_private(args.file, mode) as fh:
                    wb.save(fh)
        except OSError as exc:
            print(f"{args.file}: không ghi được tệp ({exc.strerror or exc})", file=sys.stderr)
            return 1
        print(f"Đã xuất {len(rows)} cơ sở ra {args.file}")
        return 0

    return await _with_session(settings, work)


async def cmd_set_status(args: argparse.Namespace, settings: Any) -> int:
    from bot.cli_data import os_user
    from handlers.leads import STATUS_LABELS
    from handlers.leads.service import LeadError, change_status

    async def work(session: Any) -> int:
        try:
            lead, _ = await change_status(
                session,
                args.id,
                args.status,
                actor=f"os:{os_user()}",
                note=getattr(args, "note", None),
                now=datetime.now(UTC),
            )
        except LeadError as exc:
            print(str(exc), file=sys.stderr)
            return exc.code
        print(f"Cơ sở #{lead.id} chuyển sang «{STATUS_LABELS[lead.status]}».")
        return 0

    return await _with_session(settings, work)
