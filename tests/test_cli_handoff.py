"""`kcbot tickets …` and `kcbot leads …` on a database the bot filled through the engine."""

from __future__ import annotations

import argparse
import csv
import json
from datetime import timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from bot import cli_leads, cli_tickets
from db.models.handoff import Lead, Ticket
from handlers.tickets import check_overdue
from tests.auxil.app import ChatUser
from tests.auxil.handoff import queued_for, set_role


async def _ticket(app) -> Ticket:
    owner = ChatUser(app, chat_id="601", name="Trần Thị Bình")
    await owner.send("/start")
    await owner.send("gặp cán bộ")
    await owner.send("Xin hỏi thủ tục nhận hỗ trợ máy sấy?")
    await owner.tap("Không cần")
    async with app.sessions() as session:
        return (await session.scalars(select(Ticket))).one()


async def test_tickets_list_reply_close(app, capsys):
    ticket = await _ticket(app)
    s = app.settings
    assert await cli_tickets.cmd_list(argparse.Namespace(open=True, json=False), s) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("Số") and f"#{ticket.id}" in out and "chờ nhận" in out
    assert await cli_tickets.cmd_list(argparse.Namespace(open=True, json=True), s) == 0
    [row] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert row["status"] == "open" and row["source"] == "contact"

    assert await cli_tickets.cmd_reply(argparse.Namespace(id=ticket.id, text="Dạ được ạ."), s) == 0
    replies = [m.text for m in await queued_for(app, "601")]
    assert any(t.startswith("💬 Cán bộ") and "Dạ được ạ." in t for t in replies)
    assert await cli_tickets.cmd_close(argparse.Namespace(id=ticket.id), s) == 0
    assert await cli_tickets.cmd_reply(argparse.Namespace(id=999, text="x"), s) == 1
    capsys.readouterr()
    assert await cli_tickets.cmd_list(argparse.Namespace(open=True, json=False), s) == 0
    assert "Không có câu hỏi" in capsys.readouterr().out


async def test_unanswered_for_24_working_hours(app):
    staff = ChatUser(app, chat_id="961", name="Cán Bộ")
    await staff.send("/start")
    await set_role(app, staff, "staff")
    ticket = await _ticket(app)
    # Nothing yet right away; ten days later (more than 24 working hours) both are told once.
    assert await check_overdue(app.sessions, ticket.created_at, app.settings) == 0
    later = ticket.created_at + timedelta(days=10)
    assert await check_overdue(app.sessions, later, app.settings) == 1
    assert await check_overdue(app.sessions, later, app.settings) == 0
    owner_texts = [m.text for m in await queued_for(app, "601")]
    assert any("0235 3812 345" in t and "Xin lỗi" in t for t in owner_texts)
    assert any("24 giờ" in m.text for m in await queued_for(app, "961"))


async def test_leads_list_export_set_status(app, capsys, tmp_path):
    ctv = ChatUser(app, chat_id="711", name="Đỗ Văn Hùng")
    await ctv.send("/start")
    await set_role(app, ctv, "collaborator")
    await ctv.send(payload="leads:new")
    for text in ("Cơ sở mộc Minh Phát", "Nguyen Van An", "0912345678", "quang ngai"):
        await ctv.send(text)
    await ctv.tap("Quảng Ngãi")
    await ctv.send("nghia hanh")
    await ctv.tap("Nghĩa Hành")
    await ctv.tap("Thủ công")
    await ctv.tap("Máy móc")
    await ctv.send('=HYPERLINK("x")')
    await ctv.tap("Đã đồng ý")
    await ctv.tap("Xác nhận")
    s = app.settings
    assert await cli_leads.cmd_list(argparse.Namespace(json=False), s) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("Số") and "Minh Phát" in out and "mới" in out
    assert await cli_leads.cmd_set_status(argparse.Namespace(id=1, status="contacted"), s) == 0
    assert "đã liên hệ" in capsys.readouterr().out
    assert await cli_leads.cmd_set_status(argparse.Namespace(id=1, status="bogus"), s) == 2
    assert await cli_leads.cmd_list(argparse.Namespace(json=True), s) == 0
    [row] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert row["status"] == "contacted" and row["phone"] == "0912345678"

    path = tmp_path / "leads.csv"
    assert await cli_leads.cmd_export(argparse.Namespace(file=path), s) == 0
    with path.open(encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][0] == "Số" and rows[1][1] == "đã liên hệ"
    assert rows[1][9].startswith("'=")  # a formula typed as a note stays text
    xlsx = tmp_path / "leads.xlsx"
    assert await cli_leads.cmd_export(argparse.Namespace(file=xlsx), s) == 0
    ws = load_workbook(xlsx).active
    assert ws is not None and ws.cell(2, 3).value == "Cơ sở mộc Minh Phát"
    assert await cli_leads.cmd_export(argparse.Namespace(file=tmp_path / "x.txt"), s) == 2
    async with app.sessions() as session:
        assert (await session.scalars(select(Lead))).one().status == "contacted"
