"""`kcbot run` as a real process: settings errors, serving the fake Bot API, stopping.

These run the command line in a subprocess with a clean environment, on SQLite.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.auxil.fake_telegram import TOKEN, FakeTelegram

CHAT = 4004


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    from tests.auxil.webchat import free_port

    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
        "KCBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'kcbot.sqlite3'}",
        # kcbot run always serves the web chat: never on a port another test holds.
        "KCBOT_LISTEN_HOST": "127.0.0.1",
        "KCBOT_LISTEN_PORT": str(free_port()),
    }
    env.update(extra)
    return env


def run_cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=tmp_path,
        env=clean_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_run_without_token_says_what_to_set(tmp_path: Path):
    result = run_cli(tmp_path, "run")
    assert result.returncode == 2
    assert "TELEGRAM_BOT_TOKEN" in result.stderr
    assert "kcbot chat" in result.stderr
    assert "Traceback" not in result.stderr


def test_malformed_setting_is_named_in_one_line(tmp_path: Path):
    result = run_cli(tmp_path, "run", TELEGRAM_BOT_TOKEN=TOKEN, KCBOT_LISTEN_PORT="abc")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "KCBOT_LISTEN_PORT" in lines[0]


async def start_kcbot(tmp_path: Path, fake: FakeTelegram) -> asyncio.subprocess.Process:
    env = clean_env(tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=fake.base_url)
    log = (tmp_path / "kcbot.log").open("ab")
    try:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "run",
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    finally:
        log.close()


async def stop(process: asyncio.subprocess.Process, sig: int) -> int:
    if process.returncode is None:
        process.send_signal(sig)
    return await asyncio.wait_for(process.wait(), 20)


async def test_run_serves_telegram_survives_kill_and_stops_cleanly(
    tmp_path: Path, fake_telegram: FakeTelegram
):
    fake = fake_telegram
    log_file = tmp_path / "kcbot.log"
    process = await start_kcbot(tmp_path, fake)
    try:
        fake.push_message(CHAT, "/start")
        [welcome] = await fake.wait_for_messages(CHAT, 1, timeout=30)
        assert "Trợ lý Khuyến công" in welcome["text"]
        commands = fake.calls_to("setMyCommands")
        assert any(c["params"].get("language_code") == "vi" for c in commands)

        # Into a dialogue: "Liên hệ cán bộ" → "Gửi câu hỏi cho cán bộ" (the FAQ's question
        # for staff); then the process is killed without warning.
        fake.push_callback(CHAT, "menu:contact")
        contact = (await fake.wait_for_messages(CHAT, 2))[-1]
        ask = [
            b["callback_data"]
            for row in contact["reply_markup"]["inline_keyboard"]
            for b in row
            if "cán bộ" in b["text"]
        ]
        assert ask, contact
        fake.push_callback(CHAT, ask[0])
        await fake.wait_for_messages(CHAT, 3)
        process.kill()
        assert await process.wait() == -signal.SIGKILL

        # A message arrives while the bot is down; the restarted bot answers it, and the
        # dialogue it was in is still there.
        fake.push_message(CHAT, "/cancel")
        process = await start_kcbot(tmp_path, fake)
        messages = await fake.wait_for_messages(CHAT, 4, timeout=30)
        assert "Đã dừng" in messages[3]["text"]

        assert await stop(process, signal.SIGTERM) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    output = log_file.read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in output, output
    assert len(fake.sent_to(CHAT)) == 4  # nothing answered twice after the restart
    assert fake.rejected == []


async def _run_until_said(tmp_path: Path, env: dict[str, str], phrase: str) -> str:
    """Start ``kcbot run``, wait until its log says ``phrase``, stop it with SIGTERM."""
    log_file = tmp_path / "kcbot.log"
    with log_file.open("ab") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run",
            cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        for _ in range(300):
            if phrase in log_file.read_text(errors="replace") or process.returncode is not None:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(2.5)  # a few more retries: they must not repeat the line
        assert await stop(process, signal.SIGTERM) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return log_file.read_text(errors="replace")


async def test_unreachable_database_is_said_in_one_line_and_retried(tmp_path: Path):
    env = clean_env(
        tmp_path,
        TELEGRAM_BOT_TOKEN=TOKEN,
        KCBOT_DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:9/nowhere",
    )
    output = await _run_until_said(tmp_path, env, "unreachable")
    lines = [line for line in output.splitlines() if "unreachable" in line]
    assert len(lines) == 1, output  # said once, not once per retry
    assert "The database is unreachable" in lines[0] and "127.0.0.1:9" in lines[0]
    assert "Traceback" not in output


async def test_unreachable_bot_api_is_said_in_one_line_and_retried(tmp_path: Path):
    env = clean_env(
        tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL="http://127.0.0.1:9/bot"
    )
    output = await _run_until_said(tmp_path, env, "unreachable")
    lines = [line for line in output.splitlines() if "unreachable" in line]
    assert len(lines) == 1, output
    assert "Telegram Bot API is unreachable" in lines[0]
    assert "Traceback" not in output
