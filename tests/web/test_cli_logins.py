"""`kcbot staff add-login|passwd|remove-login|link|logins` on SQLite and PostgreSQL: the
login then works (or not) exactly as the login page would check it."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.cli import build_parser
from bot.web.logins import authenticate
from db.models.privacy import AuditEntry
from db.models.web import WebLogin
from db.repos.staff import RoleRepo
from db.repos.web import LoginRepo, SessionRepo
from tests.auxil.app import app  # noqa: F401


async def run(app, capsys, *argv: str, stdin: str | None = None, monkeypatch=None):  # noqa: F811
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    args = build_parser().parse_args(list(argv))
    capsys.readouterr()
    code = await args.func(args, app.settings)
    out = capsys.readouterr()
    return code, out.out, out.err


async def outcome(app, username: str, password: str) -> str:  # noqa: F811
    async with app.sessions() as session, session.begin():
        return (await authenticate(session, username, password, datetime.now(UTC))).outcome


async def test_add_login_from_stdin_then_passwd_and_remove(app, capsys, monkeypatch):  # noqa: F811
    code, out, _ = await run(
        app, capsys, "staff", "add-login", "Lan.Nguyen", "--role", "admin", "--password-stdin",
        stdin="mat-khau-dai-1\n", monkeypatch=monkeypatch,
    )  # fmt: skip
    assert code == 0 and "Đã tạo tài khoản lan.nguyen (quản trị)." in out
    assert "mat-khau-dai-1" not in out
    assert await outcome(app, "lan.nguyen", "mat-khau-dai-1") == "ok"
    async with app.sessions() as session:
        stored = (await session.scalars(select(WebLogin))).one()
    assert stored.password_hash.startswith("$argon2id$") and "mat-khau" not in stored.password_hash

    code, out, _ = await run(app, capsys, "staff", "logins")
    assert "lan.nguyen" in out and "quản trị" in out

    # A new password ends the sessions already open.
    async with app.sessions() as session, session.begin():
        login = await LoginRepo(session).get("lan.nguyen")
        assert login is not None
        token, _ = await SessionRepo(session).create(login, datetime.now(UTC), 1)
    code, out, _ = await run(
        app, capsys, "staff", "passwd", "lan.nguyen", "--password-stdin",
        stdin="mat-khau-moi-2\n", monkeypatch=monkeypatch,
    )  # fmt: skip
    assert code == 0 and "Đã đổi mật khẩu của lan.nguyen" in out
    assert await outcome(app, "lan.nguyen", "mat-khau-dai-1") == "wrong"
    assert await outcome(app, "lan.nguyen", "mat-khau-moi-2") == "ok"
    async with app.sessions() as session:
        assert await SessionRepo(session).valid(token, datetime.now(UTC)) is None

    code, out, _ = await run(app, capsys, "staff", "remove-login", "lan.nguyen")
    assert code == 0 and "Đã xoá tài khoản lan.nguyen." in out
    assert await outcome(app, "lan.nguyen", "mat-khau-moi-2") == "wrong"
    code, _, err = await run(app, capsys, "staff", "remove-login", "lan.nguyen")
    assert code == 2 and "Không có tên đăng nhập «lan.nguyen»." in err

    async with app.sessions() as session:
        actions = [e.action for e in (await session.scalars(select(AuditEntry))).all()]
    assert actions == ["web.login_added", "web.password_changed", "web.login_removed"]


async def test_password_typed_twice(app, capsys, monkeypatch):  # noqa: F811
    typed = iter(["mat-khau-dai-1", "mat-khau-dai-1", "mot-mat-khau", "mat-khau-khac"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(typed))
    code, out, _ = await run(app, capsys, "staff", "add-login", "canbo")
    assert code == 0 and "Đã tạo tài khoản canbo (cán bộ)." in out
    code, _, err = await run(app, capsys, "staff", "passwd", "canbo")
    assert code == 2 and "Hai lần nhập mật khẩu không khớp." in err
    assert await outcome(app, "canbo", "mat-khau-dai-1") == "ok"


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (["add-login", "có dấu"], "mat-khau-dai-1\n", "Tên đăng nhập gồm 2–32 ký tự"),
        (["add-login", "canbo"], "ngan\n", "Mật khẩu cần ít nhất 8 ký tự."),
        (["add-login", "canbo", "--chat", "123"], "mat-khau-dai-1\n", "KÊNH:MÃ_CHAT"),
        (["passwd", "khongco"], "mat-khau-dai-1\n", "Không có tên đăng nhập «khongco»."),
    ],
)
async def test_bad_input_is_one_vietnamese_line(app, capsys, monkeypatch, argv, stdin, message):  # noqa: F811
    code, out, err = await run(
        app, capsys, "staff", *argv, "--password-stdin", stdin=stdin, monkeypatch=monkeypatch
    )
    assert code == 2 and message in err and "Traceback" not in err
    async with app.sessions() as session:
        assert (await session.scalars(select(WebLogin))).all() == []


async def test_a_linked_login_shares_the_chat_role(app, capsys, monkeypatch):  # noqa: F811
    code, out, _ = await run(
        app, capsys, "staff", "add-login", "canbo", "--chat", "telegram:777", "--password-stdin",
        stdin="mat-khau-dai-1\n", monkeypatch=monkeypatch,
    )  # fmt: skip
    assert code == 0 and "liên kết với telegram:777" in out
    async with app.sessions() as session:
        assert await RoleRepo(session).role_of("telegram", "777") == "staff"
    assert await outcome(app, "canbo", "mat-khau-dai-1") == "ok"

    # Revoked in the chat (kcbot users revoke): the web login stops working too.
    await run(app, capsys, "users", "revoke", "telegram:777")
    assert await outcome(app, "canbo", "mat-khau-dai-1") == "no_role"
    code, out, _ = await run(app, capsys, "staff", "link", "canbo", "zalo:abc")
    assert code == 0 and "Đã liên kết canbo với zalo:abc" in out
    assert await outcome(app, "canbo", "mat-khau-dai-1") == "ok"
