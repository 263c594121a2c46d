"""`kcbot users …` and `kcbot broadcast …`: Vietnamese output, codes kept in --json."""

from __future__ import annotations

import json

from bot.cli import build_parser
from tests.auxil.app import ChatUser, app  # noqa: F401
from tests.auxil.staff import owner_in


async def run(app, capsys, *argv: str) -> tuple[int, str, str]:  # noqa: F811
    args = build_parser().parse_args(list(argv))
    capsys.readouterr()
    code = await args.func(args, app.settings)
    out = capsys.readouterr()
    return code, out.out, out.err


async def test_users_grant_list_revoke_and_invite(app, capsys):  # noqa: F811
    code, out, _ = await run(app, capsys, "users", "grant", "telegram:555", "staff")
    assert code == 0 and "telegram:555 nay là cán bộ." in out
    code, out, _ = await run(app, capsys, "users", "list")
    assert out.splitlines()[0].split()[:3] == ["Kênh", "Mã", "chat"]
    assert "555" in out and "cán bộ" in out
    code, out, _ = await run(app, capsys, "users", "list", "--json")
    assert json.loads(out.splitlines()[0])["role"] == "staff"
    code, out, _ = await run(app, capsys, "users", "revoke", "telegram:555")
    assert "nay là chủ cơ sở" in out
    code, out, err = await run(app, capsys, "users", "grant", "555", "staff")
    assert code == 2 and "KÊNH:MÃ_CHAT" in err

    code, out, _ = await run(app, capsys, "users", "invite", "staff", "--hours", "24")
    assert code == 0
    invite = out.split("Mã mời (cán bộ): ")[1].split()[0]
    user = ChatUser(app, "556")
    await user.send(f"/start {invite}")
    assert "cán bộ Trung tâm" in user.text


async def test_broadcast_dry_run_send_status_cancel(app, capsys):  # noqa: F811
    await owner_in(app, "3001", province="Quảng Ngãi")
    await owner_in(app, "3002", province="Kon Tum")
    await owner_in(app, "3004", province="Quảng Ngãi", channel="zalo")
    await owner_in(app, "3101", province="Hà Nội")
    code, out, _ = await run(
        app,
        capsys,
        "broadcast",
        "send",
        "--text",
        "Thông báo thử",
        "--province",
        "Quảng Ngãi",
        "--dry-run",
    )
    assert code == 0
    assert "telegram     2" in out and "zalo         1" in out and "Tổng         3" in out
    code, out, err = await run(
        app, capsys, "broadcast", "send", "--text", "Thông báo thử", "--province", "Quảng Ngãi"
    )
    assert code == 2 and "--yes" in err
    code, out, err = await run(
        app,
        capsys,
        "broadcast",
        "send",
        "--text",
        "Thông báo thử",
        "--province",
        "Atlantis",
        "--yes",
    )
    assert code == 2 and "Không nhận ra tỉnh «Atlantis»" in err
    code, out, _ = await run(
        app,
        capsys,
        "broadcast",
        "send",
        "--text",
        "Thông báo thử",
        "--province",
        "Quảng Ngãi",
        "--yes",
    )
    assert code == 0 and out.startswith("Thông báo #1: 3 người nhận")
    code, out, _ = await run(app, capsys, "broadcast", "status", "1", "--json")
    assert json.loads(out) == {
        "id": 1,
        "total": 3,
        "sent": 0,
        "failed": 0,
        "unreachable": 0,
        "outside_window": 0,
        "pending": 3,
        "cancelled": 0,
    }
    code, out, _ = await run(app, capsys, "broadcast", "list")
    assert out.splitlines()[0].startswith("Mã") and "#1" in out and "đang gửi" in out
    code, out, _ = await run(app, capsys, "broadcast", "cancel", "1")
    assert "3 tin chưa gửi được hủy" in out
    code, out, _ = await run(app, capsys, "broadcast", "status", "1")
    assert "Đã hủy: 3" in out
    code, out, err = await run(app, capsys, "broadcast", "status", "99")
    assert code == 1 and "Không có thông báo #99" in err


async def test_drafts_and_events_speak_vietnamese(app, capsys):  # noqa: F811
    from tests.test_cli_drafts import confirmed_draft

    draft_id = await confirmed_draft(app)
    code, out, _ = await run(app, capsys, "drafts", "list")
    header, row = out.splitlines()[:2]
    assert header.split()[:3] == ["Mã", "Trạng", "thái"]
    assert row.startswith(f"#{draft_id}") and "Đã xác nhận (chưa nộp)" in row
    assert "triệu đồng" in row or "tỷ đồng" in row
    code, out, _ = await run(app, capsys, "drafts", "show", str(draft_id))
    assert "Trạng thái: Đã xác nhận (chưa nộp)" in out and "Lịch sử:" in out
    assert "T" not in out.split("Tạo lúc: ")[1].splitlines()[0]  # dd/mm/yyyy HH:MM, no ISO
    code, out, _ = await run(
        app,
        capsys,
        "events",
        "add",
        "--title",
        "Hội chợ CNNT",
        "--kind",
        "hội chợ",
        "--start",
        "15/12/2026 08:00",
    )
    code, out, _ = await run(app, capsys, "events", "list")
    assert out.splitlines()[0].startswith("Mã") and "15/12/2026 08:00" in out
