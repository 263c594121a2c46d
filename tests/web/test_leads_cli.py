"""`kcbot leads` as a thin caller of the leads service: the same filters as the page,
duplicates named, a note kept in the lead's history."""

from __future__ import annotations

import json

from bot.cli import build_parser
from handlers.leads.service import detail
from tests.auxil.leads import DA_NANG, HOA_VANG, add_lead


async def run(app, capsys, *argv: str) -> tuple[int, str, str]:
    args = build_parser().parse_args(list(argv))
    capsys.readouterr()
    code = await args.func(args, app.settings)
    out = capsys.readouterr()
    return code, out.out, out.err


async def test_filters_duplicates_and_a_note_from_the_command_line(app, capsys, tmp_path):
    async with app.sessions() as session, session.begin():
        await add_lead(session, "Cơ sở mộc Minh Phát", "0912345678")
        await add_lead(session, "Mộc Minh Phát", "0988000111")
        await add_lead(
            session, "Mây tre", "0988000222", province_code=DA_NANG, commune_code=HOA_VANG
        )

    code, out, _ = await run(app, capsys, "leads", "list", "--province", "quang ngai")
    assert code == 0 and "(có thể trùng #2)" in out and "(có thể trùng #1)" in out
    assert "Mây tre" not in out
    code, out, _ = await run(app, capsys, "leads", "list", "--json", "--province", "da nang")
    assert [json.loads(line)["duplicates"] for line in out.splitlines()] == [[]]
    code, _, err = await run(app, capsys, "leads", "list", "--status", "xong", "--since", "hôm qua")
    assert code == 2 and "Trạng thái phải là một trong" in err and "Ngày chưa đúng" in err

    code, out, _ = await run(
        app, capsys, "leads", "set-status", "1", "ineligible", "--note", "Ngoài địa bàn"
    )
    assert code == 0 and "Cơ sở #1 chuyển sang «chưa đủ điều kiện»." in out
    code, _, err = await run(app, capsys, "leads", "set-status", "1", "ineligible")
    assert code == 1 and "đã ở trạng thái «chưa đủ điều kiện»" in err
    code, _, err = await run(app, capsys, "leads", "set-status", "9", "new")
    assert code == 1 and "Không có cơ sở #9." in err
    async with app.sessions() as session, session.begin():
        found = await detail(session, 1)
    assert found is not None and [e.note for e in found.history] == ["Ngoài địa bàn"]
    assert found.history[0].actor.startswith("os:")

    path = tmp_path / "leads.csv"
    code, out, _ = await run(app, capsys, "leads", "export", str(path), "--status", "new")
    assert code == 0 and "Đã xuất 2 cơ sở" in out
