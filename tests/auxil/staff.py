"""Helpers for the staff tests: users with a role, a province or a draft."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from db.models.drafts import Draft
from db.repos.core import UserRepo
from db.repos.events import SubscriptionRepo
from db.repos.staff import InviteRepo, RoleRepo


async def invite(app: Any, role: str = "staff", hours: float = 72, now: Any = None) -> str:
    async with app.sessions() as session, session.begin():
        row = await InviteRepo(session).create(role, hours, "os:test", now or datetime.now(UTC))
        return str(row.code)


async def make_staff(app: Any, chat_id: str, role: str = "staff") -> None:
    async with app.sessions() as session, session.begin():
        await RoleRepo(session).set_role("telegram", chat_id, role, datetime.now(UTC))


async def owner_in(
    app: Any,
    chat_id: str,
    *,
    province: str | None = None,
    draft_province_code: int | None = None,
    channel: str = "telegram",
) -> None:
    """An owner who subscribed to reminders for ``province`` and/or has a draft there."""
    async with app.sessions() as session, session.begin():
        user = await UserRepo(session).touch(channel, chat_id, chat_id, f"Người {chat_id}", "vi")
        if province:
            await SubscriptionRepo(session).save(
                user.id, kinds=[], province=province, sectors=[], now=datetime.now(UTC)
            )
        if draft_province_code is not None:
            session.add(
                Draft(
                    user_id=user.id,
                    channel=channel,
                    chat_id=chat_id,
                    status="draft",
                    province_code=draft_province_code,
                    facility_kind="hkd",
                    created_at=datetime.now(UTC) - timedelta(days=1),
                    updated_at=datetime.now(UTC),
                )
            )
