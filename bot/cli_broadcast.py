"""`kcbot broadcast send|list|status|cancel`: announcements from the command line.

The same service as the staff chat (``handlers.staff.broadcast``): one outbox row per
recipient (campaign ``bc:<id>``), sent by ``kcbot run`` under the channel limits, only
within the send window (``KCBOT_SEND_WINDOW``, 07:00–21:00 local by default).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any


def register(root: Any) -> None:
    bc = root.add_parser("broadcast", help="thông báo: gửi, danh sách, tình hình, dừng")
    sub = bc.add_subparsers(dest="broadcast_command", metavar="ACTION", required=True)

    p = sub.add_parser("send", help="gửi một thông báo (cần --yes, hoặc --dry-run để đếm)")
    p.add_argument("--text", required=True, help="nội dung")
    p.add_argument("--province", action="append", default=[], help="tỉnh (lặp lại được)")
    p.add_argument("--sector", action="append", default=[], help="ngành (lặp lại được)")
    p.add_argument("--kind", action="append", default=[], help="loại hình: hkd, coop, sme…")
    p.add_argument("--status", action="append", default=[], help="chủ hồ sơ ở trạng thái này")
    p.add_argument("--channel", action="append", default=[], help="kênh: telegram, zalo_oa…")
    p.add_argument("--role", action="append", default=[], help="vai trò: owner, collaborator…")
    p.add_argument("--subscribers", action="store_true", help="chỉ người bật nhắc lịch")
    p.add_argument("--collaborators", action="store_true", help="chỉ cộng tác viên")
    p.add_argument("--button", choices=("intake", "reminders", "faq"), help="một nút kèm theo")
    p.add_argument("--at", help="hẹn giờ (ISO-8601, giờ Việt Nam nếu không ghi múi giờ)")
    p.add_argument("--dry-run", action="store_true", help="chỉ đếm người nhận theo kênh")
    p.add_argument("--yes", action="store_true", help="xác nhận gửi")
    p.set_defaults(func=cmd_send)

    p = sub.add_parser("list", help="các thông báo đã gửi")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("status", help="báo cáo gửi của một thông báo")
    p.add_argument("id", type=int)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("cancel", help="dừng gửi phần chưa gửi")
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_cancel)


def _actor() -> str:
    from bot.cli_data import os_user

    return f"os:{os_user()}"


def audience_from(args: argparse.Namespace) -> Any:
    """The audience the options name; ``AudienceError`` for a value that names nothing."""
    from handlers.staff import broadcast as B

    return B.parse_audience(
        provinces=args.province,
        sectors=args.sector,
        kinds=args.kind,
        statuses=args.status,
        channels=args.channel,
        roles=args.role,
        subscribers=args.subscribers,
        collaborators=args.collaborators,
    )


async def cmd_send(args: argparse.Namespace, settings: Any) -> int:
    from bot.cli_drafts import _with_session
    from handlers.staff import broadcast as B
    from knowledge.formats import datetime_text

    try:
        text = B.check_text(args.text)
        audience = audience_from(args)
    except B.AudienceError as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        at = B.parse_local_time(args.at) if args.at else None
    except ValueError:
        print(f"--at «{args.at}» không đúng dạng ISO-8601 (vd: 2026-12-15T08:00).", file=sys.stderr)
        return 2
    if not args.dry_run and not args.yes:
        print("Thêm --yes để gửi thật, hoặc --dry-run để chỉ đếm người nhận.", file=sys.stderr)
        return 2

    async def work(session: Any) -> int:
        if args.dry_run:
            counts = await B.count_by_channel(session, audience)
            print(f"Người nhận: {audience.describe()}")
            print(f"{'Kênh':<12} Số người")
            for channel, n in sorted(counts.items()):
                print(f"{channel:<12} {n}")
            print(f"{'Tổng':<12} {sum(counts.values())}")
            return 0
        queued = await B.create(
            session,
            text=text,
            audience=audience,
            actor=_actor(),
            now=datetime.now(UTC),
            window=B.parse_window(settings.send_window),
            button=args.button,
            at=at,
            rate=settings.outbox_rate,
        )
        print(
            f"Thông báo #{queued.broadcast.id}: {queued.count} người nhận, "
            f"gửi từ {datetime_text(queued.send_at)}."
        )
        return 0

    return await _with_session(settings, work)


async def cmd_list(args: argparse.Namespace, settings: Any) -> int:
    from bot.cli_drafts import _with_session
    from db.repos.staff import BroadcastRepo
    from handlers.staff import broadcast as B
    from knowledge.formats import datetime_text

    async def work(session: Any) -> int:
        items = await BroadcastRepo(session).list(200)
        if args.json:
            print(
                json.dumps(
                    [
                        {
                            "id": b.id,
                            "status": b.status,
                            "total": b.total,
                            "send_at": b.send_at.isoformat(),
                            "created_by": b.created_by,
                            "audience": b.audience,
                            "text": b.text,
                        }
                        for b in items
                    ],
                    ensure_ascii=False,
                )
            )
            return 0
        if not items:
            print("Chưa có thông báo nào.")
            return 0
        print(f"{'Mã':<6} {'Gửi từ':<17} {'Người nhận':>10}  {'Tình trạng':<13} Nội dung")
        for b in items:
            status = B.STATUS_LABELS.get(b.status, b.status)
            first = b.text.splitlines()[0][:40]
            print(f"#{b.id:<5} {datetime_text(b.send_at):<17} {b.total:>10}  {status:<13} {first}")
        return 0

    return await _with_session(settings, work)


async def cmd_status(args: argparse.Namespace, settings: Any) -> int:
    from bot.cli_drafts import _with_session
    from db.repos.staff import BroadcastRepo
    from handlers.staff import broadcast as B

    async def work(session: Any) -> int:
        repo = BroadcastRepo(session)
        b = await repo.get(args.id)
        if b is None:
            print(f"Không có thông báo #{args.id}.", file=sys.stderr)
            return 1
        report = await repo.report(b.id)
        if args.json:
            print(json.dumps({"id": b.id, **report}, ensure_ascii=False))
            return 0
        print(B.report_text(b, report).replace("📣 ", ""))
        return 0

    return await _with_session(settings, work)


async def cmd_cancel(args: argparse.Namespace, settings: Any) -> int:
    from bot.cli_drafts import _with_session
    from handlers.staff import broadcast as B

    async def work(session: Any) -> int:
        n = await B.cancel(session, args.id, _actor(), datetime.now(UTC))
        if n is None:
            print(f"Không có thông báo #{args.id}.", file=sys.stderr)
            return 1
        print(f"Đã dừng thông báo #{args.id}: {n} tin chưa gửi được hủy.")
        return 0

    return await _with_session(settings, work)
