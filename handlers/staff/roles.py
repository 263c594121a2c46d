"""Roles, in one place: who may do what, invite codes, and the actor recorded in the audit.

owner (everyone, by default) · collaborator · staff · admin. Staff and admin share the
staff menu; a role's commands refuse anyone without it in one polite line.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from db.repos.privacy import AuditRepo
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
