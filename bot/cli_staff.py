"""`kcbot staff add-login|passwd|remove-login|link|logins`: logins for the staff web pages.

Passwords are typed twice without echo (getpass) or read from standard input with
``--password-stdin`` (one line, for scripts). Every change is in the audit trail with the
operating-system account that made it; no password or username is logged.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, datetime
from typing import Any

ROLE_LABELS = {"staff": "cán bộ", "admin": "quản trị"}
MISMATCH = "Hai lần nhập mật khẩu không khớp. Chưa thay đổi gì."


def register(root: Any) -> None:
    staff = root.add_parser("staff", help="tài khoản trang cán bộ (/admin/)")
    sub = staff.add_subparsers(dest="staff_command", metavar="ACTION", required=True)

    p = sub.add_parser("add-login", help="tạo tài khoản đăng nhập trang cán bộ")
    p.add_argument("username")
    p.add_argument("--role", choices=("staff", "admin"), default="staff")
    p.add_argument("--password-stdin", action="store_true", help="đọc mật khẩu từ stdin")
    p.add_argument("--chat", help="liên kết tài khoản chat của cùng người, vd: telegram:123")
    p.set_defaults(func=cmd_add)

    p = sub.add_parser("passwd", help="đổi mật khẩu (mọi phiên đăng nhập đang mở bị đóng)")
    p.add_argument("username")
    p.add_argument("--password-stdin", action="store_true", help="đọc mật khẩu từ stdin")
    p.set_defaults(func=cmd_passwd)

    p = sub.add_parser("remove-login", help="xoá tài khoản đăng nhập trang cán bộ")
    p.add_argument("username")
    p.set_defaults(func=cmd_remove)

    p = sub.add_parser("link", help="liên kết tài khoản với chat: USERNAME KÊNH:MÃ_CHAT")
    p.add_argument("username")
    p.add_argument("chat", help="vd: telegram:123456789")
    p.set_defaults(func=cmd_link)

    p = sub.add_parser("logins", help="liệt kê tài khoản trang cán bộ")
    p.set_defaults(func=cmd_logins)


def read_password(from_stdin: bool) -> str | None:
    """The new password, or None (after saying why) when the two typings differ."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Mật khẩu mới: ")
    second = getpass.getpass("Nhập lại mật khẩu: ")
    if first != second:
        print(MISMATCH, file=sys.stderr)
        return None
    return first


def _actor() -> str:
    from bot.cli_data import os_user

    return f"os:{os_user()}"


async def _run(settings: Any, work: Any) -> int:
    from bot.cli_drafts import _with_session
    from bot.web.logins import LoginError

    try:
        return await _with_session(settings, work)
    except LoginError as exc:
        print(exc, file=sys.stderr)
        return 2


async def cmd_add(args: argparse.Namespace, settings: Any) -> int:
    from bot.web.logins import LoginError, add_login, check_password, clean_username

    try:  # say what is wrong before asking for a password
        clean_username(args.username)
    except LoginError as exc:
        print(exc, file=sys.stderr)
        return 2
    password = read_password(args.password_stdin)
    if password is None:
        return 2
    try:
        check_password(password)
    except LoginError as exc:
        print(exc, file=sys.stderr)
        return 2

    async def work(session: Any) -> int:
        now = datetime.now(UTC)
        login = await add_login(
            session, args.username, password, args.role, now, _actor(), args.chat
        )
        linked = f", liên kết với {login.channel}:{login.chat_id}" if login.channel else ""
        print(f"Đã tạo tài khoản {login.username} ({ROLE_LABELS[login.role]}{linked}).")
        print("Đăng nhập tại /admin/ trên địa chỉ của bot, vd: http://127.0.0.1:8080/admin/")
        return 0

    return await _run(settings, work)


async def cmd_passwd(args: argparse.Namespace, settings: Any) -> int:
    from bot.web.logins import LoginError, check_password, set_password

    password = read_password(args.password_stdin)
    if password is None:
        return 2
    try:
        check_password(password)
    except LoginError as exc:
        print(exc, file=sys.stderr)
        return 2

    async def work(session: Any) -> int:
        login = await set_password(session, args.username, password, datetime.now(UTC), _actor())
        print(f"Đã đổi mật khẩu của {login.username}; các phiên đăng nhập cũ đã đóng.")
        return 0

    return await _run(settings, work)


async def cmd_remove(args: argparse.Namespace, settings: Any) -> int:
    from bot.web.logins import remove_login

    async def work(session: Any) -> int:
        await remove_login(session, args.username, datetime.now(UTC), _actor())
        print(f"Đã xoá tài khoản {args.username.strip().lower()}.")
        return 0

    return await _run(settings, work)


async def cmd_link(args: argparse.Namespace, settings: Any) -> int:
    from bot.web.logins import link_login

    async def work(session: Any) -> int:
        login = await link_login(session, args.username, args.chat, datetime.now(UTC), _actor())
        print(
            f"Đã liên kết {login.username} với {login.channel}:{login.chat_id} "
            f"(vai trò {ROLE_LABELS.get(login.role, login.role)})."
        )
        return 0

    return await _run(settings, work)


async def cmd_logins(args: argparse.Namespace, settings: Any) -> int:
    from bot.web.logins import role_of
    from db.repos.web import LoginRepo
    from knowledge.formats import datetime_text

    async def work(session: Any) -> int:
        rows = await LoginRepo(session).all()
        if not rows:
            print("Chưa có tài khoản nào. Tạo bằng: kcbot staff add-login TÊN --role admin")
            return 0
        print(f"{'Tên':<20} {'Vai trò':<10} {'Chat liên kết':<24} Đăng nhập gần nhất")
        for login in rows:
            role = await role_of(session, login)
            chat = f"{login.channel}:{login.chat_id}" if login.channel else "—"
            last = datetime_text(login.last_login_at) or "chưa"
            print(f"{login.username:<20} {ROLE_LABELS.get(role, role):<10} {chat:<24} {last}")
        return 0

    return await _run(settings, work)
