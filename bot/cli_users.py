"""`kcbot users list|grant|revoke|invite`: who is staff, collaborator or admin.

A thin caller of ``handlers.staff.roles`` (the users page calls the same functions): every
change is recorded in the audit trail with the operating-system account that ran it, and
the person is told in their chat.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any

# Literal so that ``kcbot --help`` imports no database code; the same as db.repos.staff.ROLES.
ROLE_CHOICES = ("owner", "collaborator", "staff", "admin")


def register(root: Any) -> None:
    users = root.add_parser("users", help="vai trò: liệt kê, cấp, thu hồi, mã mời")
    sub = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)

    p = sub.add_parser("list", help="người có vai trò (mặc định: mọi vai trò trừ chủ cơ sở)")
    p.add_argument("--role", choices=ROLE_CHOICES)
    p.add_argument("--json", action="store_true", help="in JSON (mã vai trò giữ nguyên)")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("grant", help="cấp vai trò cho một chat: CHANNEL:CHAT_ID ROLE")
    p.add_argument("who", help="vd: telegram:123456789")
    p.add_argument("role", choices=ROLE_CHOICES)
    p.set_defaults(func=cmd_grant)

    p = sub.add_parser("revoke", help="thu hồi vai trò (về chủ cơ sở): CHANNEL:CHAT_ID")
    p.add_argument("who")
    p.set_defaults(func=cmd_revoke)

    p = sub.add_parser("invite", help="tạo mã mời dùng một lần cho một vai trò")
    p.add_argument("role", choices=ROLE_CHOICES[1:])
    p.add_argument("--hours", type=float, default=72.0, help="hiệu lực (giờ), mặc định 72")
    p.set_defaults(func=cmd_invite)


def _actor() -> str:
    from bot.cli_data import os_user

    return f"os:{os_user()}"


async def cmd_list(args: argparse.Namespace, settings: Any) -> int:
    from bot.cli_drafts import _with_session
    from db.repos.staff import RoleRepo
    from handlers.staff.roles import ROLE_SHORT as ROLE_LABELS
    from knowledge.formats import datetime_text

    async def work(session: Any) -> int:
        users = await RoleRepo(session).users(args.role)
        if args.json:
            for u in users:
                row = {
                    "channel": u.channel,
                    "chat_id": u.chat_id,
                    "name": u.display_name,
                    "role": u.role,
                    "last_seen": u.last_seen.isoformat(),
                }
                print(json.dumps(row, ensure_ascii=False))
            return 0
        if not users:
            print("Chưa có ai.")
            return 0
        print(f"{'Kênh':<10} {'Mã chat':<16} {'Vai trò':<14} {'Lần cuối':<16} Tên")
        for u in users:
            print(
                f"{u.channel:<10} {u.chat_id:<16} {ROLE_LABELS.get(u.role, u.role):<14} "
                f"{datetime_text(u.last_seen):<16} {u.display_name or '-'}"
            )
        return 0

    return await _with_session(settings, work)


async def _set(settings: Any, who_text: str, role: str) -> int:
    from bot.cli_drafts import _with_session
    from handlers.staff.roles import ROLE_SHORT as ROLE_LABELS
    from handlers.staff.roles import set_role
    from handlers.staff.roles import who_text as read_who

    who = read_who(who_text)
    if who is None:
        print(
            f"«{who_text}» không đúng dạng KÊNH:MÃ_CHAT (vd: telegram:123456789).", file=sys.stderr
        )
        return 2

    async def work(session: Any) -> int:
        changed = await set_role(
            session, who[0], who[1], role, actor=_actor(), now=datetime.now(UTC)
        )
        label = ROLE_LABELS[role]
        print(f"{who[0]}:{who[1]} " + (f"nay là {label}." if changed else f"đã là {label}."))
        return 0

    return await _with_session(settings, work)


async def cmd_grant(args: argparse.Namespace, settings: Any) -> int:
    return await _set(settings, args.who, args.role)


async def cmd_revoke(args: argparse.Namespace, settings: Any) -> int:
    return await _set(settings, args.who, "owner")


async def bot_username(settings: Any) -> str | None:
    """The Telegram bot's username (getMe), or None without a token or when unreachable."""
    if not settings.telegram_bot_token:
        return None
    try:
        from telegram import Bot
        from telegram.error import TelegramError

        from bot.transports.telegram_request import AiohttpRequest

        bot = Bot(
            settings.telegram_bot_token,
            base_url=settings.telegram_api_base_url,
            request=AiohttpRequest(1),
            get_updates_request=AiohttpRequest(1),
        )
        try:
            async with bot:
                me = await bot.get_me()
        except (TelegramError, OSError):
            return None
        return str(me.username) if me.username else None
    except Exception:  # a link is a convenience: the code alone always works
        return None


async def cmd_invite(args: argparse.Namespace, settings: Any) -> int:
    from bot.cli_drafts import _with_session
    from handlers.staff.roles import ROLE_SHORT as ROLE_LABELS
    from handlers.staff.roles import RoleError, create_invite
    from knowledge.formats import datetime_text

    found: dict[str, Any] = {}

    async def work(session: Any) -> int:
        try:
            invite = await create_invite(
                session, args.role, args.hours, actor=_actor(), now=datetime.now(UTC)
            )
        except RoleError as exc:
            print(str(exc), file=sys.stderr)
            return exc.code
        found["code"], found["expires"] = invite.code, invite.expires_at
        return 0

    code = await _with_session(settings, work)
    if code:
        return code
    print(f"Mã mời ({ROLE_LABELS[args.role]}): {found['code']}")
    print(f"Hết hạn: {datetime_text(found['expires'])}; dùng được một lần.")
    username = await bot_username(settings)
    if username:
        print(f"Liên kết Telegram: https://t.me/{username}?start={found['code']}")
    print("Người nhận mở liên kết, hoặc gửi cho bot: /start MÃ (trên Zalo: gõ riêng mã).")
    return 0
