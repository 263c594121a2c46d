"""`kcbot leads list|export|set-status`: facilities collaborators registered.

Before listing or exporting, leads whose phone appears on a confirmed draft are linked to
it and marked «đã nộp hồ sơ». ``set-status`` records who (the operating-system account)
in the audit trail.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

STATUSES = ("new", "contacted", "applied", "ineligible")
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
)


def register(root: Any) -> None:
    leads = root.add_parser("leads", help="cơ sở do cộng tác viên giới thiệu")
    sub = leads.add_subparsers(dest="leads_command", metavar="ACTION", required=True)

    p = sub.add_parser("list", help="liệt kê cơ sở được giới thiệu")
    p.add_argument("--json", action="store_true", help="mỗi dòng một đối tượng JSON (mã gốc)")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("export", help="xuất ra FILE.xlsx hoặc FILE.csv")
    p.add_argument("file", type=Path)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("set-status", help="đổi trạng thái: " + ", ".join(STATUSES))
    p.add_argument("id", type=int)
    p.add_argument(
        "status",
        help="new (mới), contacted (đã liên hệ), applied (đã nộp hồ sơ), "
        "ineligible (chưa đủ điều kiện)",
    )
    p.set_defaults(func=cmd_set_status)


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


def lead_row(lead: Any) -> dict[str, Any]:
    row = {name: getattr(lead, name) for name in FIELDS}
    row["created_at"] = lead.created_at.isoformat()
    return row


def _shown(row: dict[str, Any]) -> list[Any]:
    """Labels and local dates for people; codes stay in --json."""
    from handlers.leads import STATUS_LABELS
    from knowledge.formats import datetime_text
    from knowledge.support import catalogue
    from knowledge.vocabulary import vocabulary

    term = vocabulary().sector(row["sector"])
    support = catalogue().types.get(row["support"])
    values = dict(row)
    values["status"] = STATUS_LABELS.get(row["status"], row["status"])
    values["sector"] = term.label if term else row["sector"]
    values["support"] = support.label if support else row["support"]
    values["created_at"] = datetime_text(datetime.fromisoformat(row["created_at"]))
    return [values[name] for name in FIELDS]


async def cmd_list(args: argparse.Namespace, settings: Any) -> int:
    from db.repos.handoff import LeadRepo

    async def work(session: Any) -> int:
        repo = LeadRepo(session)
        await repo.link_drafts()
        leads = await repo.list()
        if args.json:
            for lead in leads:
                print(json.dumps(lead_row(lead), ensure_ascii=False))
            return 0
        if not leads:
            print("Chưa có cơ sở nào được giới thiệu.")
            return 0
        print(f"{'Số':<6} {'Trạng thái':<18} {'Tên cơ sở':<30} {'Điện thoại':<11} Xã/phường, tỉnh")
        for lead in leads:
            shown = dict(zip(FIELDS, _shown(lead_row(lead)), strict=True))
            print(
                f"#{lead.id:<5} {shown['status']:<18} {lead.facility_name[:30]:<30} "
                f"{lead.phone:<11} {lead.commune}, {lead.province}"
            )
        return 0

    return await _with_session(settings, work)


async def cmd_export(args: argparse.Namespace, settings: Any) -> int:
    from db.files import open_private, parse_mode, safe_row
    from db.repos.handoff import LeadRepo

    suffix = args.file.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        print("Tệp phải có đuôi .xlsx hoặc .csv", file=sys.stderr)
        return 2

    async def work(session: Any) -> int:
        repo = LeadRepo(session)
        await repo.link_drafts()
        rows = [_shown(lead_row(lead)) for lead in await repo.list()]
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
    from db.repos.handoff import LeadRepo
    from db.repos.privacy import AuditRepo
    from handlers.leads import STATUS_LABELS

    if args.status not in STATUSES:
        print(f"Trạng thái phải là một trong: {', '.join(STATUSES)}", file=sys.stderr)
        return 2

    async def work(session: Any) -> int:
        lead = await LeadRepo(session).get(args.id)
        if lead is None:
            print(f"Không có cơ sở #{args.id}.", file=sys.stderr)
            return 1
        old = lead.status
        now = datetime.now(UTC)
        lead.status = args.status
        lead.updated_at = now
        await AuditRepo(session).record(
            actor=f"os:{os_user()}",
            action="lead.set_status",
            subject=f"lead:{lead.id}",
            detail=f"{old} -> {args.status}",
            now=now,
        )
        print(f"Cơ sở #{lead.id} chuyển sang «{STATUS_LABELS[args.status]}».")
        return 0

    return await _with_session(settings, work)
