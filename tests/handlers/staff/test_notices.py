"""Staff are told of each newly confirmed draft: in working hours, one digest per 10 min."""

from __future__ import annotations

from datetime import timedelta

from tests.auxil.app import ChatUser, app  # noqa: F401
from tests.auxil.intake import fill_until_summary
from tests.auxil.staff import make_staff
from tests.test_outbox_support import local, outbox_rows

MONDAY_NIGHT = local(2026, 12, 7, 22, 0)
TUESDAY_MORNING = local(2026, 12, 8, 8, 0)


async def confirm_draft(app, chat_id: str) -> None:  # noqa: F811
    user = ChatUser(app, chat_id)
    await fill_until_summary(user)
    await user.tap("Xác nhận")


async def notices(app):  # noqa: F811
    return [r for r in await outbox_rows(app.sessions) if r.campaign.startswith("notice:")]


async def test_confirmed_drafts_reach_staff_in_working_hours_in_digests(app):  # noqa: F811
    await make_staff(app, "9001")
    await make_staff(app, "9002", role="admin")
    feature = app.engine.router.get("staff")
    await confirm_draft(app, "1001")
    await feature.tick(app.sessions, MONDAY_NIGHT)
    assert await notices(app) == []  # outside working hours: the next morning
    await feature.tick(app.sessions, TUESDAY_MORNING)
    rows = await notices(app)
    assert sorted(r.chat_id for r in rows) == ["9001", "9002"]
    assert rows[0].text.startswith("📝 Hồ sơ #")
    assert rows[0].document is not None and rows[0].document_name.endswith(".docx")
    # two more within ten minutes: one digest, after the ten minutes
    await confirm_draft(app, "1002")
    await confirm_draft(app, "1003")
    await feature.tick(app.sessions, TUESDAY_MORNING + timedelta(minutes=5))
    assert len(await notices(app)) == 2
    await feature.tick(app.sessions, TUESDAY_MORNING + timedelta(minutes=10))
    rows = await notices(app)
    assert len(rows) == 4
    assert rows[-1].text.startswith("🔔 2 việc mới cho cán bộ")
    # the staff menu counts them
    staff = ChatUser(app, "9001")
    await staff.send("/menu")
    assert "📝 Hồ sơ mới (3)" in staff.labels
    await staff.tap("Hồ sơ mới")
    assert "3 hồ sơ mới" in staff.text


async def test_a_draft_erased_before_the_notice_is_not_announced(app):  # noqa: F811
    from sqlalchemy import delete, select

    from db.models.drafts import Draft
    from db.models.staff import StaffNotice

    await make_staff(app, "9001")
    await confirm_draft(app, "1001")
    async with app.sessions() as session, session.begin():
        await session.execute(delete(Draft))
    await app.engine.router.get("staff").tick(app.sessions, TUESDAY_MORNING)
    assert await notices(app) == []
    async with app.sessions() as session:
        [row] = (await session.scalars(select(StaffNotice))).all()
        assert row.sent_at is not None and row.text == "" and row.document is None


async def test_other_features_report_to_staff_through_the_same_digest(app):  # noqa: F811
    from tests.auxil.app import ChatUser as _User

    await make_staff(app, "9001")
    collaborator = _User(app, "5001")
    await collaborator.send("/menu")  # any message: a context for the hook below
    feature = app.engine.router.get("staff")
    async with app.sessions() as session, session.begin():
        from bot.types import Incoming
        from handlers.base import Context, DialogueState

        conn = await session.connection()
        ctx = Context(
            Incoming("telegram", "5001", text="x"),
            DialogueState(),
            None,  # type: ignore[arg-type]
            conn,
            app.services,
            app.engine.router,
        )
        await feature.notify_staff(ctx, "lead", 7, "👥 Cơ sở mới được giới thiệu: Mộc Hòa")
        await ctx.close_session()
    await feature.tick(app.sessions, TUESDAY_MORNING)
    [row] = await notices(app)
    assert row.chat_id == "9001" and row.text.startswith("👥 Cơ sở mới được giới thiệu")
