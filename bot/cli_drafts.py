"""`kcbot drafts list|show|export|set-status`: the staff side of draft applications.

``set-status`` is a thin wrapper of ``handlers.intake.service.change_status``: it records
the change (who, when, note) and queues a message for the owner's chat in the outbox; the
notification is recorded in the draft history too.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

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


# Vietnamese for people; the codes stay in --json and in exports' column names.
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
STATUS_LABELS = {
    "in_progress": "Đang làm dở",
    "abandoned": "Đã bỏ",
    "draft": "Đã xác nhận (chưa nộp)",
    "submitted": "Đã nộp",
    "under_review": "Đang xem xét",
    "approved": "Được duyệt",
    "rejected": "Không được duyệt",
    "needs_changes": "Cần bổ sung",
}
MONEY_FIELDS = ("estimated_cost", "counterpart_funds", "estimated_support")
TIME_FIELDS = ("created_at", "confirmed_at", "updated_at")


def status_label(status: str | None) -> str:
    return STATUS_LABELS.get(status or "", status or "-")


def shown(draft: Any, name: str) -> str:
    """One field as staff read it: labels, dd/mm/yyyy HH:MM, «350 triệu đồng»."""
    from knowledge.formats import datetime_text, money_words

    value = getattr(draft, name)
    if value in (None, "", []):
        return "-"
    if name == "status":
        return status_label(value)
    if name in MONEY_FIELDS:
        return money_words(int(value))
    if name in TIME_FIELDS:
        return datetime_text(value)
    if name == "needs_review":
        return "có" if value else "không"
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return str(value)


def register(root: Any) -> None:
    drafts = root.add_parser("drafts", help="draft support applications from the intake")
    sub = drafts.add_subparsers(dest="drafts_command", metavar="ACTION", required=True)

    p = sub.add_parser("list", help="list drafts (default: every confirmed draft)")
    p.add_argument("--status", help="only this status ('all' includes unfinished ones)")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("show", help="one draft with its history")
    p.add_argument("id", type=int)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("export", help="write drafts to FILE.xlsx or FILE.csv")
    p.add_argument("file", type=Path)
    p.add_argument("--status", help="only this status ('all' includes unfinished ones)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("set-status", help="change a draft's status and tell the owner")
    p.add_argument("id", type=int)
    p.add_argument("status", help="submitted, under_review, approved, rejected, needs_changes")
    p.add_argument("--note", help="note for the history and the owner")
    p.add_argument("--force", action="store_true", help="allow any move between statuses")
    p.set_defaults(func=cmd_set_status)


def _value(draft: Any, name: str) -> Any:
    value = getattr(draft, name)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def draft_row(draft: Any, fields: tuple[str, ...] = LIST_FIELDS) -> dict[str, Any]:
    return {name: _value(draft, name) for name in fields}


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

    async def work(session: Any) -> int:
        drafts = await DraftRepo(session).list(args.status)
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
    from knowledge.formats import datetime_text

    async def work(session: Any) -> int:
        repo = DraftRepo(session)
        draft = await repo.get(args.id)
        if draft is None:
            print(f"Không có hồ sơ #{args.id}.", file=sys.stderr)
            return 1
        history = [
            {
                "at": e.at.isoformat(),
                "actor": e.actor,
                "kind": e.kind,
                "from": e.from_status,
                "to": e.to_status,
                "note": e.note,
            }
            for e in await repo.history(draft.id)
        ]
        row = draft_row(draft, EXPORT_FIELDS)
        if args.json:
            print(json.dumps({**row, "history": history}, ensure_ascii=False))
            return 0
        for name in row:
            print(f"{FIELD_LABELS.get(name, name):>24}: {shown(draft, name)}")
        print(f"{'Lịch sử':>24}:")
        for e in await repo.history(draft.id):
            if e.kind == "status":
                change = f"{status_label(e.from_status)} → {status_label(e.to_status)}"
            else:
                change = {"notified": "đã báo chủ cơ sở"}.get(e.kind, e.kind)
            print(f"  {datetime_text(e.at)}  {e.actor}  {change}  {e.note or ''}")
        return 0

    return await _with_session(settings, work)


async def cmd_export(args: argparse.Namespace, settings: Any) -> int:
    from db.repos.drafts import DraftRepo

    suffix = args.file.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        print("FILE must end in .xlsx or .csv", file=sys.stderr)
        return 2

    async def work(session: Any) -> int:
        drafts = await DraftRepo(session).list(args.status)
        rows = [draft_row(d, EXPORT_FIELDS) for d in drafts]
        for row in rows:
            row["review_notes"] = "; ".join(row["review_notes"] or [])
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
            print(str(exc), file=sys.stderr)
            return exc.code
        told = {
            "outbox": "đã xếp tin nhắn báo chủ cơ sở (gửi khi bot chạy)",
        }.get(change.told, "chưa nhắn được chủ cơ sở (chỉ ghi vào lịch sử)")
        print(f"Hồ sơ #{change.draft.id} chuyển sang «{status_label(args.status)}»; {told}.")
        return 0

    return await _with_session(settings, work)
