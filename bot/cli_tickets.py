"""`kcbot tickets list|reply|close`: questions users sent to staff (human handoff).

``reply`` and ``close`` call the staff desk the chat and the web pages use
(``handlers.tickets.desk``):
the answer reaches the user through the outbox (sent when the bot runs); who did it is
the operating-system account running the command, recorded in the audit trail.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


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
    from handlers.tickets.desk import SOURCE_LABELS, STATUS_LABELS
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


def _cli_staff(settings: Any) -> Any:
    """The command line answers for the centre (may act on any question), as the OS login."""
    from bot.cli_data import os_user
    from handlers.tickets.desk import Staff

    return Staff(settings.centre_name, f"os:{os_user()}", override=True)


async def cmd_reply(args: argparse.Namespace, settings: Any) -> int:
    from datetime import UTC, datetime

    from handlers.tickets.desk import answer

    if not args.text.strip():
        print("Nội dung trả lời trống.", file=sys.stderr)
        return 2

    async def work(session: Any) -> int:
        outcome = await answer(session, args.id, args.text, _cli_staff(settings), datetime.now(UTC))
        if not outcome.ok:
            print(outcome.message, file=sys.stderr)
            return 1
        print(f"{outcome.message} Tin được gửi khi bot chạy.")
        return 0

    return await _with_session(settings, work)


async def cmd_close(args: argparse.Namespace, settings: Any) -> int:
    from datetime import UTC, datetime

    from handlers.tickets.desk import close_ticket

    async def work(session: Any) -> int:
        outcome = await close_ticket(session, args.id, _cli_staff(settings), datetime.now(UTC))
        print(outcome.message, file=sys.stderr if not outcome.ok else sys.stdout)
        return 0 if outcome.ok else 1

    return await _with_session(settings, work)
