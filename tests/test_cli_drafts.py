"""`kcbot drafts ...`: staff list, show, export and move drafts; the owner is told."""

from __future__ import annotations

import argparse
import csv
import json

from sqlalchemy import text

from bot.cli import build_parser
from bot.cli_data import os_user
from bot.cli_drafts import cmd_export, cmd_list, cmd_set_status, cmd_show
from db.repos.drafts import DraftRepo
from tests.auxil.app import ChatUser
from tests.auxil.intake import fill_until_summary, open_intake


async def confirmed_draft(app, chat_id="1001") -> int:
    user = ChatUser(app, chat_id=chat_id)
    await fill_until_summary(user)
    await user.tap("Xác nhận")
    async with app.sessions() as session:
        [draft] = [d for d in await DraftRepo(session).list() if d.chat_id == chat_id]
        return draft.id


def ns(**values) -> argparse.Namespace:
    defaults = {"status": None, "json": False, "note": None, "by": "canbo", "force": False}
    return argparse.Namespace(**{**defaults, **values})


def test_commands_are_registered():
    parser = build_parser()
    args = parser.parse_args(["drafts", "set-status", "3", "approved", "--note", "ok"])
    assert (args.id, args.status, args.note) == (3, "approved", "ok")
    assert parser.parse_args(["drafts", "list", "--json"]).json is True


async def test_list_json_shape(app, capsys):
    draft_id = await confirmed_draft(app)
    # An unfinished intake is not listed by default.
    other = ChatUser(app, chat_id="2002")
    await other.send("/start")
    await open_intake(other)
    await other.tap("Máy móc")
    capsys.readouterr()
    assert await cmd_list(ns(json=True), app.settings) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    row = json.loads(lines[0])
    for key in [
        "id",
        "status",
        "support_type",
        "facility_name",
        "owner_name",
        "phone",
        "province",
        "commune",
        "estimated_cost",
        "estimated_support",
        "created_at",
    ]:
        assert key in row, key
    assert row["id"] == draft_id and row["status"] == "draft"
    assert row["support_type"] == "machinery" and row["phone"] == "0912345678"
    assert row["province"] == "Quảng Ngãi" and row["commune"] == "Xã Nghĩa Hành"
    assert row["estimated_cost"] == 350_000_000 and row["estimated_support"] == 175_000_000
    assert await cmd_list(ns(json=True, status="in_progress"), app.settings) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "in_progress"


async def test_set_status_records_history_and_tells_the_owner(app, capsys):
    draft_id = await confirmed_draft(app)
    rc = await cmd_set_status(ns(id=draft_id, status="approved"), app.settings)
    assert rc == 2  # draft → approved skips the workflow
    for status in ("submitted", "under_review"):
        assert await cmd_set_status(ns(id=draft_id, status=status), app.settings) == 0
    note = "Bổ sung báo giá máy"
    assert (
        await cmd_set_status(ns(id=draft_id, status="needs_changes", note=note), app.settings) == 0
    )
    assert await cmd_set_status(ns(id=draft_id, status="nonsense"), app.settings) == 2
    async with app.sessions() as session:
        history = await DraftRepo(session).history(draft_id)
        changes = [(e.from_status, e.to_status) for e in history if e.kind == "status"]
        assert changes == [
            ("in_progress", "draft"),
            ("draft", "submitted"),
            ("submitted", "under_review"),
            ("under_review", "needs_changes"),
        ]
        # The operating-system account running the command, whatever name is typed.
        assert history[-2].actor == f"staff:{os_user()}" and history[-2].note == note
        told = [e for e in history if e.kind == "notification"]
        assert len(told) == 3
        assert "Cần bổ sung" in told[-1].note and note in told[-1].note
        queued = (await session.execute(text("SELECT chat_id, text FROM outbox ORDER BY id"))).all()
    # Through the persistent outbox when it is there, to the owner's chat.
    assert told[-1].actor == "bot:outbox"
    assert len(queued) == 3 and all(r.chat_id == "1001" for r in queued)
    assert note in queued[-1].text
    capsys.readouterr()
    assert await cmd_show(ns(id=draft_id, json=True), app.settings) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["status"] == "needs_changes" and len(shown["history"]) == 7
    # The owner sees the new status in "Hồ sơ của tôi".
    owner = ChatUser(app)
    await owner.send("/hoso")
    assert "Cần bổ sung" in owner.text


async def test_export_csv_and_xlsx(app, tmp_path, capsys):
    await confirmed_draft(app)
    await confirmed_draft(app, chat_id="2002")
    out_csv = tmp_path / "drafts.csv"
    assert await cmd_export(ns(file=out_csv), app.settings) == 0
    with out_csv.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2 and rows[0]["facility_name"] == "Co so may tre Minh Phat"
    out_xlsx = tmp_path / "drafts.xlsx"
    assert await cmd_export(ns(file=out_xlsx), app.settings) == 0
    from openpyxl import load_workbook

    sheet = load_workbook(out_xlsx).active
    assert sheet.max_row == 3 and sheet["A1"].value == "id"
    assert await cmd_export(ns(file=tmp_path / "drafts.txt"), app.settings) == 2
