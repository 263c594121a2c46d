"""`kcbot tickets list|reply|close`: questions users sent to staff (human handoff).

``reply`` and ``close`` use the same service as the staff chat (``handlers.tickets.service``):
the answer reaches the user through the outbox (sent when the bot runs); who did it is
the operating-system account running the command, recorded in the audit trail.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

STATUS_LABELS = {"open": "chờ nhận", "taken": "đã nhận", "closed": "đã xong"}
SOURCE_LABELS = {
    "contact": "hỏi cán bộ",
    "unsure": "bot chưa trả lời được",
    "feedback": "chưa đúng ý",
}


def register(root: Any) -> None:
    tickets = root.add_parser("tickets", help="câu hỏi người dùng gửi cán bộ: xem, trả lời, đóng")
    sub = tickets.add_subparsers(dest="tickets_command", metavar="ACTION", required=True)

    p = sub.add_parser("list", help="liệt kê câu hỏi (mới nhất trước)")
    p.add_argument("--open", action="store_true", help="chỉ câu hỏi chưa xong")
    p.add_argument("--json", action="store_true", help="mỗi dòng một đối tượng JSON (mã gốc)")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("reply", help="trả lời một câu hỏi (gửi tới người hỏi qua bot)")
    p.add_argument("id", type=int)
    p.add_argument("text", help="nội dung trả lời")
    p.set_defaults(func=cmd_reply)

    p = sub.add_parser("close", help="đóng một câu hỏi (báo người hỏi)")
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_close)


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


def ticket_row(t: Any) -> dict[str, Any]:
    return {
        "id": t.id,
        "status": t.status,
        "source": t.source,
        "channel": t.channel,
        "chat_id": t.chat_id,
        "name": t.name,
        "question": t.question,
        "phone": t.phone,
        "staff": t.staff_name,
        "created_at": t.created_at.isoformat(),
        "answered_at": t.answered_at.isoformat() if t.answered_at else None,
        "closed_at": t.closed_at.isoformat() if t.closed_at else None,
    }


async def cmd_list(args: argparse.Namespace, settings: Any) -> int:
    from db.repos.handoff import TicketRepo
    from knowledge.formats import datetime_text

    async def work(session: Any) -> int:
        tickets = await TicketRepo(session).list(open_only=args.open)
        if args.json:
            for t in tickets:
                print(json.dumps(ticket_row(t), ensure_ascii=False))
            return 0
        if not tickets:
            print("Không có câu hỏi nào.")
            return 0
        print(
            f"{'Số':<6} {'Trạng thái':<10} {'Nguồn':<22} {'Lúc gửi':<16} {'Người hỏi':<20} Câu hỏi"
        )
        for t in tickets:
            question = " ".join(t.question.split())[:60]
            print(
                f"#{t.id:<5} {STATUS_LABELS.get(t.status, t.status):<10} "
                f"{SOURCE_LABELS.get(t.source, t.source):<22} {datetime_text(t.created_at):<16} "
                f"{(t.name or '-')[:20]:<20} {question}"
            )
        return 0

    return await _with_session(settings, work)


async def cmd_reply(args: argparse.Namespace, settings: Any) -> int:
    from datetime import UTC, datetime

    from bot.cli_data import os_user
    from db.repos.handoff import TicketRepo
    from handlers.tickets.service import reply

    text = args.text.strip()
    if not text:
        print("Nội dung trả lời trống.", file=sys.stderr)
        return 2

    async def work(session: Any) -> int:
        ticket = await TicketRepo(session).get(args.id, lock=True)
        if ticket is None:
            print(f"Không có câu hỏi #{args.id}.", file=sys.stderr)
            return 1
        if ticket.status == "closed":
            print(f"Câu hỏi #{args.id} đã xong rồi.", file=sys.stderr)
            return 1
        await reply(
            session,
            ticket,
            text,
            staff_name=ticket.staff_name or settings.centre_name,
            actor=f"os:{os_user()}",
            now=datetime.now(UTC),
        )
        print(f"Đã xếp câu trả lời cho câu hỏi #{ticket.id} (gửi khi bot chạy).")
        return 0

    return await _with_session(settings, work)


async def cmd_close(args: argparse.Namespace, settings: Any) -> int:
    from datetime import UTC, datetime

    from bot.cli_data import os_user
    from db.repos.handoff import TicketRepo
    from handlers.tickets.service import close

    async def work(session: Any) -> int:
        ticket = await TicketRepo(session).get(args.id, lock=True)
        if ticket is None:
            print(f"Không có câu hỏi #{args.id}.", file=sys.stderr)
            return 1
        if ticket.status == "closed":
            print(f"Câu hỏi #{args.id} đã xong rồi.")
            return 0
        await close(session, ticket, actor=f"os:{os_user()}", now=datetime.now(UTC), by_owner=False)
        print(f"Đã đóng câu hỏi #{ticket.id}.")
        return 0

    return await _with_session(settings, work)
