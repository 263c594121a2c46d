"""Rows are kept no longer than the retention settings say (controlled clock)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.app import App
from bot.cli import build_parser
from bot.cli_data import cmd_prune
from db.models.core import Conversation, InboxEvent, ProcessedUpdate, User
from db.models.drafts import Draft
from db.models.events import OutboxMessage
from db.models.faq import UnansweredQuestion
from db.models.handoff import Lead
from db.models.privacy import AuditEntry
from db.repos.files import SharedFileRepo
from handlers.privacy import prune

NOW = datetime(2027, 6, 1, 3, 0, tzinfo=UTC)


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


async def seed(app: App) -> None:
    async with app.sessions() as session, session.begin():
        user = User(channel="telegram", chat_id="1001", first_seen=ago(500), last_seen=ago(1))
        session.add(user)
        await session.flush()
        for days, text in ((200, "câu hỏi cũ"), (10, "câu hỏi mới")):
            session.add(
                UnansweredQuestion(
                    channel="telegram", chat_id="1001", text=text, created_at=ago(days)
                )
            )
        for n, (status, days) in enumerate(
            [("sent", 40), ("failed", 31), ("sent", 5), ("pending", 40), ("sending", 40)]
        ):
            session.add(
                OutboxMessage(
                    campaign=f"c{n}",
                    channel="telegram",
                    chat_id="1001",
                    text="Tin",
                    status=status,
                    created_at=ago(days),
                    updated_at=ago(days),
                )
            )
        for status, days in [
            ("in_progress", 100),
            ("abandoned", 95),
            ("in_progress", 10),
            ("submitted", 400),
            ("draft", 300),
        ]:
            session.add(
                Draft(
                    user_id=user.id,
                    channel="telegram",
                    chat_id="1001",
                    status=status,
                    facility_name=f"{status} {days}",
                    created_at=ago(days),
                    updated_at=ago(days),
                )
            )
        for chat, days in (("1001", 100), ("2002", 3)):
            session.add(Conversation(channel="telegram", chat_id=chat, updated_at=ago(days)))
        for update_id, days in (("u1", 8), ("u2", 1)):
            session.add(
                ProcessedUpdate(channel="telegram", update_id=update_id, received_at=ago(days))
            )
        for n, (days, draft_id) in enumerate([(400, None), (400, 7), (30, None)]):
            session.add(
                Lead(
                    channel="telegram",
                    chat_id="3003",
                    facility_name=f"Cơ sở {n}",
                    name_key=f"co so {n}",
                    owner_name="Trần Thị Bình",
                    phone="0912345678",
                    province="Quảng Ngãi",
                    province_code=51,
                    commune="xã Nghĩa Hành",
                    commune_code=1,
                    sector="Thủ công mỹ nghệ",
                    support="machinery",
                    draft_id=draft_id,
                    created_at=ago(days),
                    updated_at=ago(days),
                )
            )
        for days in (8, 2):
            await SharedFileRepo(session).share("Don.docx", b"PK..", None, ago(days))
        for n, (state, days) in enumerate(
            [("done", 8), ("failed", 9), ("done", 1), ("pending", 8)]
        ):
            session.add(
                InboxEvent(
                    channel="telegram",
                    external_id=f"i{n}",
                    chat_id="1001",
                    incoming={"text": "xin chào"},
                    state=state,
                    received_at=ago(days),
                )
            )


EXPECTED = {
    "questions": 1,
    "outbox": 2,
    "drafts": 2,
    "conversations": 1,
    "updates": 1,
    "inbox": 2,  # finished events past the keeping time; a pending one stays
    "leads": 1,  # an old lead that never led to a draft; one that did, and a recent one, stay
    "files": 1,  # a download link past its 7 days; a recent one stays
}


async def test_prune_with_a_controlled_clock(app: App):
    await seed(app)
    assert await prune(app.sessions, NOW, app.settings, dry_run=True) == EXPECTED
    # A dry run deletes nothing and records nothing.
    assert await prune(app.sessions, NOW, app.settings, dry_run=True) == EXPECTED
    assert await prune(app.sessions, NOW, app.settings) == EXPECTED
    assert await prune(app.sessions, NOW, app.settings) == dict.fromkeys(EXPECTED, 0)
    async with app.sessions() as session:
        questions = (await session.scalars(select(UnansweredQuestion.text))).all()
        assert questions == ["câu hỏi mới"]
        outbox = (await session.scalars(select(OutboxMessage.campaign))).all()
        assert sorted(outbox) == ["c2", "c3", "c4"]  # recent, still to send, being sent
        drafts = (await session.scalars(select(Draft.facility_name))).all()
        assert sorted(drafts) == ["draft 300", "in_progress 10", "submitted 400"]
        convs = (await session.scalars(select(Conversation.chat_id))).all()
        assert convs == ["2002"]
        updates = (await session.scalars(select(ProcessedUpdate.update_id))).all()
        assert updates == ["u2"]
        inbox = (await session.scalars(select(InboxEvent.external_id))).all()
        assert sorted(inbox) == ["i2", "i3"]
        leads = (await session.scalars(select(Lead.facility_name))).all()
        assert sorted(leads) == ["Cơ sở 1", "Cơ sở 2"]
        [audit] = (await session.scalars(select(AuditEntry))).all()
        assert audit.action == "retention.prune" and "questions=1" in (audit.detail or "")


async def test_retention_follows_the_settings(app: App):
    await seed(app)
    settings = app.settings.model_copy(
        update={"retention_question_days": 5, "retention_outbox_days": 60}
    )
    counts = await prune(app.sessions, NOW, settings, dry_run=True)
    assert counts["questions"] == 2 and counts["outbox"] == 0


async def test_data_prune_command(app: App, capsys):
    await seed(app)
    args = build_parser().parse_args(["data", "prune", "--dry-run"])
    assert args.dry_run is True
    assert await cmd_prune(args, app.settings, now=NOW) == 0
    out = capsys.readouterr().out
    assert out.startswith("Chạy thử, chưa xoá gì.")
    assert "1  câu hỏi chưa trả lời (quá 180 ngày)" in out
    assert "2  hồ sơ làm dở, bỏ ngang (quá 90 ngày)" in out
    assert "2  tin nhắn đã gửi xong (quá 30 ngày)" in out
    assert await cmd_prune(argparse.Namespace(dry_run=False), app.settings, now=NOW) == 0
    out = capsys.readouterr().out
    assert out.startswith("Đã xoá:") and "1  mã tin nhắn đã xử lý (quá 7 ngày)" in out
    assert await cmd_prune(argparse.Namespace(dry_run=True), app.settings, now=NOW) == 0
    assert "     0  câu hỏi" in capsys.readouterr().out
