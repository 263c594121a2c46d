"""`kcbot broadcast send --channel/--role`: the same filters as the «Thông báo» page."""

from __future__ import annotations

from tests.auxil.app import app  # noqa: F401
from tests.auxil.staff import make_staff, owner_in
from tests.bot.test_cli_staff import run


async def test_channel_and_role_filters_on_the_command_line(app, capsys):  # noqa: F811
    await owner_in(app, "3001", province="Quảng Ngãi")
    await owner_in(app, "3002", province="Quảng Ngãi", channel="zalo_oa")
    await make_staff(app, "9001")
    send = ("broadcast", "send", "--text", "Thông báo thử", "--dry-run")
    code, out, _ = await run(app, capsys, *send, "--channel", "zalo_oa")
    assert code == 0 and "kênh zalo_oa" in out and "Tổng         1" in out
    code, out, _ = await run(app, capsys, *send, "--role", "staff", "--role", "owner")
    assert "vai trò Cán bộ, Chủ cơ sở" in out and "telegram     2" in out
    code, _, err = await run(app, capsys, *send, "--role", "vua")
    assert code == 2 and "Vai trò «vua» không có" in err
