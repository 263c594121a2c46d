"""Roles, in one place: who may do what, invite codes, and the actor recorded in the audit.

owner (everyone, by default) · collaborator · staff · admin. Staff and admin share the
staff menu; a role's commands refuse anyone without it in one polite line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models.core import User
from db.models.staff import Invite
from db.repos.outbox import NewMessage, OutboxRepo
from db.repos.privacy import ANONYMOUS, AuditRepo
from db.repos.staff import ROLES, STAFF_ROLES, InviteRepo, Redeemed, RoleRepo
from handlers.base import Context

ROLE_LABELS = {
    "owner": "chủ cơ sở",
    "collaborator": "cộng tác viên khuyến công",
    "staff": "cán bộ Trung tâm",
    "admin": "quản trị",
}
REFUSED = "Xin lỗi, việc này chỉ dành cho cán bộ Trung tâm."
REFUSED_COLLABORATOR = "Xin lỗi, việc này chỉ dành cho cộng tác viên khuyến công."
GRANTED = "✅ Bạn đã được cấp quyền {label}."
CODE_USED = "Mã mời này đã được dùng rồi. Bạn xin cán bộ quản trị một mã mới nhé."
CODE_EXPIRED = "Mã mời này đã hết hạn. Bạn xin cán bộ quản trị một mã mới nhé."
CODE_UNKNOWN = "Mình không nhận ra mã mời này. Bạn kiểm tra lại mã (8 ký tự) giúp mình nhé."

# An invite code as typed alone (Zalo has no deep links): 8 letters/digits, no spaces.
CODE_RE = re.compile(r"^[A-HJ-NP-Za-hj-np-z2-9]{8}$")

__all__ = ["ROLES", "STAFF_ROLES"]


async def role_of(ctx: Context) -> str:
    """The chat's role as stored when the message's transaction began (the engine reads
    ``ctx.user`` there: a role changes from the command line or another process), or as
    changed since while handling it."""
    role = ctx.scratch.get("role")
    if not isinstance(role, str):
        user: Any = ctx.user  # None in a context made without a message (staff notices)
        if user is not None:
            role = user.role
        else:
            role = await RoleRepo(ctx.session).role_of(ctx.incoming.channel, ctx.incoming.chat_id)
        ctx.scratch["role"] = role
    return role


async def is_staff(ctx: Context) -> bool:
    return await role_of(ctx) in STAFF_ROLES


async def is_collaborator(ctx: Context) -> bool:
    return await role_of(ctx) in ("collaborator", *STAFF_ROLES)


async def actor_of(ctx: Context) -> str:
    """Who did it, from the role (never typed text): ``staff:telegram:123``."""
    return f"{await role_of(ctx)}:{ctx.incoming.channel}:{ctx.incoming.chat_id}"


async def audit(ctx: Context, action: str, subject: str | None = None, detail: str = "") -> None:
    await AuditRepo(ctx.session).record(
        actor=await actor_of(ctx),
        action=action,
        subject=subject,
        detail=detail or None,
        now=ctx.services.now(),
    )


def looks_like_code(text: str) -> bool:
    """Exactly a code: letters and digits only, with a digit and a letter (so that an
    ordinary word or a number is not taken for one)."""
    return (
        bool(CODE_RE.match(text))
        and any(c.isdigit() for c in text)
        and any(c.isalpha() for c in text)
    )


async def redeem(ctx: Context, code: str, now: datetime) -> tuple[Redeemed, str]:
    """Use an invite code for this chat: the outcome and what to tell the user."""
    who = f"{ctx.incoming.channel}:{ctx.incoming.chat_id}"
    result = await InviteRepo(ctx.session).redeem(code, who, now)
    if result.outcome == "ok":
        await RoleRepo(ctx.session).set_role(
            ctx.incoming.channel, ctx.incoming.chat_id, result.role, now
        )
        ctx.scratch["role"] = result.role
        await AuditRepo(ctx.session).record(
            actor=f"{result.role}:{who}",
            action="role.invite_used",
            subject=who,
            detail=result.role,
            now=now,
        )
        return result, GRANTED.format(label=ROLE_LABELS.get(result.role, result.role))
    text = {"used": CODE_USED, "expired": CODE_EXPIRED}.get(result.outcome, CODE_UNKNOWN)
    return result, text


# --- roles managed by an administrator (``kcbot users`` and the users page) ---------------

ROLE_SHORT = {
    "owner": "chủ cơ sở",
    "collaborator": "cộng tác viên",
    "staff": "cán bộ",
    "admin": "quản trị",
}
INVITE_HOURS_MAX = 24 * 90
REVOKED = "Quyền {label} của bạn đã được thu hồi. Bạn vẫn dùng bot như chủ cơ sở."
PER_PAGE = 50


class RoleError(ValueError):
    """A change that can't be made; ``str(exc)`` says why (Vietnamese), ``field`` names the
    form field it is about, ``code`` is the command line's exit code."""

    def __init__(self, message: str, field: str = "", code: int = 2) -> None:
        super().__init__(message)
        self.field = field
        self.code = code


@dataclass(frozen=True)
class UserFilter:
    role: str | None = None
    channel: str | None = None

    def query(self) -> dict[str, str]:
        return {k: v for k, v in (("role", self.role), ("channel", self.channel)) if v}


def parse_user_filter(
    role: str | None, channel: str | None, channels: Sequence[str]
) -> tuple[UserFilter, dict[str, str]]:
    """Read the users list's filter; ``channels`` are those the users table holds."""
    errors: dict[str, str] = {}
    if role and role not in ROLES:
        errors["role"] = "Vai trò phải là: " + ", ".join(ROLE_SHORT[r] for r in ROLES) + "."
        role = None
    if channel and channel not in channels:
        errors["channel"] = "Chọn kênh trong danh sách."
        channel = None
    return UserFilter(role or None, channel or None), errors


@dataclass(frozen=True)
class UserPage:
    users: Sequence[User]
    total: int
    # Cursors for the neighbouring pages (user ids), None at either end.
    older: int | None
    newer: int | None


async def users_page(
    session: AsyncSession,
    flt: UserFilter,
    *,
    below: int | None = None,
    above: int | None = None,
    per_page: int = PER_PAGE,
) -> UserPage:
    """One page of users, newest first, by keyset on the id: as fast on page 1,000 as on
    page 1. ``below``/``above`` are the cursors a previous page handed out."""
    repo = RoleRepo(session)
    rows = list(
        await repo.newest(flt.role, flt.channel, below=below, above=above, limit=per_page + 1)
    )
    if above is not None:
        # Fetched upwards: the extra row, if any, is the newest one (the first).
        more_newer = len(rows) > per_page
        rows = rows[1:] if more_newer else rows
        more_older = bool(rows)  # we came from an older page
        newer_exists = more_newer
    else:
        more_older = len(rows) > per_page
        rows = rows[:per_page]
        newer_exists = below is not None and bool(rows)
    if above is not None and not rows:
        return await users_page(session, flt, per_page=per_page)
    total = await repo.count(flt.role, flt.channel)
    return UserPage(
        rows,
        total,
        older=rows[-1].id if rows and more_older else None,
        newer=rows[0].id if rows and newer_exists else None,
    )


SEARCH_LIMIT = 50


async def find_users(session: AsyncSession, text: str) -> Sequence[User]:
    """At most ``SEARCH_LIMIT`` users by chat id or part of their name (typed by an
    administrator, sent by POST: a name never goes into an address or a log)."""
    text = " ".join(text.split())[:100]
    if len(text) < 2:
        raise RoleError("Gõ ít nhất 2 ký tự của tên hoặc mã chat.", "q")
    return await RoleRepo(session).search(text, SEARCH_LIMIT)


async def channels(session: AsyncSession) -> list[str]:
    return await RoleRepo(session).channels()


def who_text(text: str) -> tuple[str, str] | None:
    """``CHANNEL:CHAT_ID`` as typed on the command line, or None."""
    channel, sep, chat_id = text.partition(":")
    if not sep or not channel.strip() or not chat_id.strip():
        return None
    return channel.strip().lower(), chat_id.strip()


async def set_role(
    session: AsyncSession,
    channel: str,
    chat_id: str,
    role: str,
    *,
    actor: str,
    now: datetime,
) -> bool:
    """Give a chat a role (``owner`` takes every role away), audited as ``actor``; the
    person is told in their chat through the outbox. True if it changed anything."""
    if role not in ROLES:
        raise RoleError("Vai trò phải là: " + ", ".join(ROLE_SHORT[r] for r in ROLES) + ".", "role")
    repo = RoleRepo(session)
    old = await repo.role_of(channel, chat_id)
    changed = await repo.set_role(channel, chat_id, role, now)
    await AuditRepo(session).record(
        actor=actor, action="role.set", subject=f"{channel}:{chat_id}", detail=role, now=now
    )
    if changed:
        if role == "owner":
            text = REVOKED.format(label=ROLE_LABELS.get(old, old))
        else:
            text = GRANTED.format(label=ROLE_LABELS.get(role, role))
        key = f"role:{role}:{now.timestamp():.6f}"
        message = NewMessage(key, channel, chat_id, text, [], now)
        await OutboxRepo(session).enqueue_many([message], now)
    return changed


async def set_user_role(
    session: AsyncSession, user_id: int, role: str, *, actor: str, now: datetime
) -> tuple[User, bool]:
    """``set_role`` for a user picked from a list (the page posts the row's id)."""
    user = await RoleRepo(session).get_user(user_id)
    if user is None or user.channel == ANONYMOUS[0]:
        raise RoleError("Không tìm thấy người dùng này.", "", 1)
    changed = await set_role(session, user.channel, user.chat_id, role, actor=actor, now=now)
    return user, changed


async def create_invite(
    session: AsyncSession, role: str, hours: float, *, actor: str, now: datetime
) -> Invite:
    """A one-time code for ``role``, valid ``hours``. Its code is shown once by the caller
    (lists never show it again)."""
    if role not in ROLES[1:]:
        raise RoleError(
            "Mã mời dành cho: " + ", ".join(ROLE_SHORT[r] for r in ROLES[1:]) + ".", "role"
        )
    if not 0 < hours <= INVITE_HOURS_MAX:
        raise RoleError(f"Hiệu lực phải từ 1 đến {INVITE_HOURS_MAX} giờ (90 ngày).", "hours")
    invite = await InviteRepo(session).create(role, hours, actor[:100], now)
    await AuditRepo(session).record(
        actor=actor, action="role.invite", subject=f"invite:{invite.id}", detail=role, now=now
    )
    return invite


def invite_state(invite: Invite, now: datetime) -> str:
    if invite.used_at is not None:
        return "đã dùng"
    if invite.expires_at <= now:
        return "hết hạn"
    return "còn hiệu lực"


async def recent_invites(session: AsyncSession, limit: int = 20) -> Sequence[Invite]:
    return await InviteRepo(session).recent(limit)
