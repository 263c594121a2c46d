"""The roles service behind ``kcbot users`` and the users page, on SQLite and PostgreSQL:
the keyset-paged users list, roles granted and revoked (told in the chat, audited), invites."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from db.models.core import User
from db.models.events import OutboxMessage
from db.models.privacy import AuditEntry
from db.repos.privacy import PersonalDataRepo
from db.repos.staff import InviteRepo
from handlers.staff.roles import (
    RoleError,
    UserFilter,
    channels,
    create_invite,
    invite_state,
    parse_user_filter,
    recent_invites,
    set_user_role,
    users_page,
)

NOW = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)


async def _users(app, n: int) -> None:
    """``n`` chats, every tenth a collaborator, every third on Zalo."""
    rows = [
        {
            "channel": "zalo_oa" if i % 3 == 0 else "telegram",
            "chat_id": str(100000 + i),
            "user_id": str(100000 + i),
            "display_name": f"Người {i}",
            "role": "collaborator" if i % 10 == 0 else "owner",
            "unreachable": False,
            "first_seen": NOW,
            "last_seen": NOW,
        }
        for i in range(n)
    ]
    async with app.sessions() as session, session.begin():
        await session.execute(insert(User), rows)


async def test_users_walk_by_keyset_both_ways_with_filters(app):
    await _users(app, 130)
    async with app.sessions() as session:
        first = await users_page(session, UserFilter(), per_page=50)
        second = await users_page(session, UserFilter(), below=first.older, per_page=50)
        third = await users_page(session, UserFilter(), below=second.older, per_page=50)
        back = await users_page(session, UserFilter(), above=third.newer, per_page=50)
        back_first = await users_page(session, UserFilter(), above=back.newer, per_page=50)
        zalo_collab = await users_page(session, UserFilter("collaborator", "zalo_oa"))
        known = await channels(session)
    assert first.total == 130 and first.newer is None
    assert [u.display_name for u in first.users[:2]] == ["Người 129", "Người 128"]
    assert len(second.users) == 50 and second.users[0].display_name == "Người 79"
    assert (
        len(third.users) == 30 and third.older is None and third.users[-1].display_name == "Người 0"
    )
    assert [u.id for u in back.users] == [u.id for u in second.users]
    assert [u.id for u in back_first.users] == [u.id for u in first.users]
    assert back_first.newer is None and back_first.older == first.older
    # every 30th: collaborator (i % 10 == 0) on Zalo (i % 3 == 0)
    assert zalo_collab.total == 5 and {u.role for u in zalo_collab.users} == {"collaborator"}
    assert known == ["telegram", "zalo_oa"]


def test_user_filter_read_from_the_query_string():
    assert parse_user_filter("staff", "telegram", ["telegram"]) == (
        UserFilter("staff", "telegram"),
        {},
    )
    flt, errors = parse_user_filter("boss", "icq", ["telegram"])
    assert flt == UserFilter() and set(errors) == {"role", "channel"}
    assert "cán bộ" in errors["role"]


async def test_grant_and_revoke_tell_the_person_and_are_audited(app):
    await _users(app, 3)
    async with app.sessions() as session:
        [user] = (await users_page(session, UserFilter(), per_page=1)).users
    async with app.sessions() as session, session.begin():
        _, changed = await set_user_role(session, user.id, "staff", actor="web:admin", now=NOW)
        assert changed
        _, again = await set_user_role(session, user.id, "staff", actor="web:admin", now=NOW)
        assert not again
    async with app.sessions() as session, session.begin():
        await set_user_role(
            session, user.id, "owner", actor="web:admin", now=NOW + timedelta(seconds=1)
        )
        with pytest.raises(RoleError):
            await set_user_role(session, user.id, "boss", actor="web:admin", now=NOW)
        with pytest.raises(RoleError, match="Không tìm thấy"):
            await set_user_role(session, 99999, "staff", actor="web:admin", now=NOW)
    async with app.sessions() as session:
        texts = (
            await session.scalars(
                select(OutboxMessage.text)
                .where(OutboxMessage.chat_id == user.chat_id)
                .order_by(OutboxMessage.id)
            )
        ).all()
        audit = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "role.set"))
        ).all()
    assert texts == [
        "✅ Bạn đã được cấp quyền cán bộ Trung tâm.",
        "Quyền cán bộ Trung tâm của bạn đã được thu hồi. Bạn vẫn dùng bot như chủ cơ sở.",
    ]
    assert [(a.actor, a.detail) for a in audit] == [
        ("web:admin", "staff"),
        ("web:admin", "staff"),
        ("web:admin", "owner"),
    ]


async def test_the_anonymous_row_of_erased_data_is_nobody_to_list(app):
    await _users(app, 2)
    async with app.sessions() as session, session.begin():
        await PersonalDataRepo(session)._anonymous_user()
    async with app.sessions() as session:
        page = await users_page(session, UserFilter())
        assert page.total == 2 and await channels(session) == ["telegram", "zalo_oa"]
        system = await session.scalar(select(User).where(User.role == "anonymous"))
    async with app.sessions() as session:
        with pytest.raises(RoleError):
            await set_user_role(session, system.id, "admin", actor="web:admin", now=NOW)


async def test_invites_checked_audited_and_listed_without_their_use(app):
    async with app.sessions() as session, session.begin():
        invite = await create_invite(session, "collaborator", 24, actor="web:admin", now=NOW)
        for role, hours, field in (
            ("owner", 24, "role"),
            ("staff", 0, "hours"),
            ("staff", 9999, "hours"),
        ):
            with pytest.raises(RoleError) as error:
                await create_invite(session, role, hours, actor="web:admin", now=NOW)
            assert error.value.field == field
    assert len(invite.code) == 8 and invite.expires_at == NOW + timedelta(hours=24)
    assert invite_state(invite, NOW) == "còn hiệu lực"
    assert invite_state(invite, NOW + timedelta(hours=25)) == "hết hạn"
    async with app.sessions() as session, session.begin():
        await InviteRepo(session).redeem(invite.code, "telegram:5", NOW)
    async with app.sessions() as session:
        [listed] = await recent_invites(session)
        audit = await session.scalar(select(AuditEntry).where(AuditEntry.action == "role.invite"))
    assert invite_state(listed, NOW) == "đã dùng"
    assert audit is not None and (audit.actor, audit.detail) == ("web:admin", "collaborator")
