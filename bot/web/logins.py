"""Staff web logins: the one service the command line, the login page and the tests use.

Passwords are hashed with Argon2id (argon2-cffi); hashing runs in a thread so the server
keeps answering. Five wrong passwords for a username lock it for 15 minutes, in the
database (every process sees it), whether or not the login exists.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.web import WebLogin
from db.repos.privacy import AuditRepo
from db.repos.staff import STAFF_ROLES, RoleRepo
from db.repos.web import FailureRepo, LoginRepo

WEB_ROLES = STAFF_ROLES  # ("staff", "admin")
MAX_FAILURES = 5
LOCK_TIME = timedelta(minutes=15)
MIN_PASSWORD = 8
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")

BAD_USERNAME = (
    "Tên đăng nhập gồm 2–32 ký tự: chữ không dấu, số, dấu chấm, gạch ngang hoặc gạch dưới."
)
SHORT_PASSWORD = f"Mật khẩu cần ít nhất {MIN_PASSWORD} ký tự."
BAD_ROLE = "Vai trò phải là staff (cán bộ) hoặc admin (quản trị)."

_hasher = PasswordHasher()
# Checked when the username is unknown, so that the answer takes as long as for a real one.
_DUMMY_HASH = _hasher.hash("không có tài khoản này")


class LoginError(ValueError):
    """Bad input for a login; the message is short Vietnamese for staff."""


def clean_username(text: str) -> str:
    username = text.strip().lower()
    if not USERNAME_RE.match(username):
        raise LoginError(BAD_USERNAME)
    return username


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise LoginError(SHORT_PASSWORD)
    return password


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def _verify(hashed: str, password: str) -> bool:
    def check() -> bool:
        try:
            return _hasher.verify(hashed, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


def parse_chat(text: str) -> tuple[str, str]:
    channel, sep, chat_id = text.partition(":")
    if not sep or not channel.strip() or not chat_id.strip():
        raise LoginError("Tài khoản chat viết dạng KÊNH:MÃ_CHAT, vd: telegram:123456789.")
    return channel.strip().lower(), chat_id.strip()


async def add_login(
    session: AsyncSession,
    username: str,
    password: str,
    role: str,
    now: datetime,
    actor: str,
    chat: str | None = None,
) -> WebLogin:
    username = clean_username(username)
    check_password(password)
    if role not in WEB_ROLES:
        raise LoginError(BAD_ROLE)
    repo = LoginRepo(session)
    if await repo.get(username) is not None:
        raise LoginError(f"Tên đăng nhập «{username}» đã có.")
    login = await repo.add(username, await hash_password(password), role, now)
    await AuditRepo(session).record(
        actor=actor, action="web.login_added", subject=f"web:{username}", detail=role, now=now
    )
    if chat:
        await link_login(session, username, chat, now, actor)
    return login


async def _existing(session: AsyncSession, username: str) -> WebLogin:
    login = await LoginRepo(session).get(clean_username(username))
    if login is None:
        raise LoginError(f"Không có tên đăng nhập «{username.strip().lower()}».")
    return login


async def set_password(
    session: AsyncSession, username: str, password: str, now: datetime, actor: str
) -> WebLogin:
    """A new password; every open browser session of that login ends."""
    login = await _existing(session, username)
    login.password_hash = await hash_password(check_password(password))
    await LoginRepo(session).end_sessions(login)
    await FailureRepo(session).clear(login.username)
    await AuditRepo(session).record(
        actor=actor, action="web.password_changed", subject=f"web:{login.username}", now=now
    )
    return login


async def remove_login(session: AsyncSession, username: str, now: datetime, actor: str) -> None:
    login = await _existing(session, username)
    await LoginRepo(session).remove(login)
    await AuditRepo(session).record(
        actor=actor, action="web.login_removed", subject=f"web:{login.username}", now=now
    )


async def link_login(
    session: AsyncSession, username: str, chat: str, now: datetime, actor: str
) -> WebLogin:
    """Link a login to the same person's chat account: the chat gets the login's role, and
    from then on the role is read from the chat account (``kcbot users revoke`` ends both)."""
    login = await _existing(session, username)
    channel, chat_id = parse_chat(chat)
    login.channel, login.chat_id = channel, chat_id
    await RoleRepo(session).set_role(channel, chat_id, login.role, now)
    await AuditRepo(session).record(
        actor=actor,
        action="web.login_linked",
        subject=f"web:{login.username}",
        detail=f"{channel}:{chat_id}",
        now=now,
    )
    return login


async def role_of(session: AsyncSession, login: WebLogin) -> str:
    """The login's role now: the linked chat account's role when linked."""
    if login.channel and login.chat_id:
        return await RoleRepo(session).role_of(login.channel, login.chat_id)
    return login.role


def actor_of(login: WebLogin, role: str) -> str:
    """Who did it, in the audit trail: the linked chat person, or the web login."""
    if login.channel and login.chat_id:
        return f"{role}:{login.channel}:{login.chat_id}"
    return f"{role}:web:{login.username}"


@dataclass
class Attempt:
    outcome: Literal["ok", "wrong", "locked", "no_role"]
    login: WebLogin | None = None


async def authenticate(
    session: AsyncSession, username: str, password: str, now: datetime
) -> Attempt:
    """Check a typed username and password, counting failures and honouring the lock."""
    name = username.strip().lower()[:64]
    failures = FailureRepo(session)
    if await failures.locked_until(name, now) is not None:
        return Attempt("locked")
    login = await LoginRepo(session).get(name) if USERNAME_RE.match(name) else None
    good = await _verify(login.password_hash if login else _DUMMY_HASH, password)
    if login is None or not good:
        locked = await failures.fail(name, now, MAX_FAILURES, LOCK_TIME)
        return Attempt("locked" if locked else "wrong")
    await failures.clear(name)
    if await role_of(session, login) not in WEB_ROLES:
        return Attempt("no_role", login)
    login.last_login_at = now
    return Attempt("ok", login)
