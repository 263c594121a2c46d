"""`kcbot drafts list/export` take the same filters as the «Hồ sơ» page (one service)."""

from __future__ import annotations

import json

from bot.cli import build_parser
from bot.cli_drafts import cmd_export, cmd_list
from tests.web.test_drafts_service import HA_NOI, add_draft


def parse(*argv: str):
    return build_parser().parse_args(["drafts", *argv])


async def test_list_and_export_filter_like_the_page(app, capsys, tmp_path):
    async with app.sessions() as session, session.begin():
        await add_draft(session, 1)
        await add_draft(session, 2, province=HA_NOI, status="submitted")
        await add_draft(session, 3, support="training")
    capsys.readouterr()
    args = parse("list", "--json", "--province", "ha noi")
    assert await cmd_list(args, app.settings) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["facility_name"] for r in rows] == ["Cơ sở số 2"]

    args = parse("list", "--json", "--support", "training", "--from", "01/01/2020")
    assert await cmd_list(args, app.settings) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["facility_name"] for r in rows] == ["Cơ sở số 3"]

    # A bad value is named with its option and what to type instead; nothing is listed.
    assert await cmd_list(parse("list", "--from", "hôm qua", "--status", "x"), app.settings) == 2
    err = capsys.readouterr().err
    assert "--from: Ngày viết dạng ngày/tháng/năm" in err and "--status:" in err

    out = tmp_path / "ho-so.csv"
    assert await cmd_export(parse("export", str(out), "--status", "submitted"), app.settings) == 0
    assert "Đã xuất 1 hồ sơ" in capsys.readouterr().out
    assert "Cơ sở số 2" in out.read_text(encoding="utf-8-sig")
