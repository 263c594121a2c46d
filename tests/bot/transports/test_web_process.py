"""The web chat as the commands serve it, in real processes: ``kcbot web``, ``kcbot run``
with Telegram polling only, and ``kcbot chat --web`` (what ``python3 dev.py start`` runs
without a token)."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from tests.auxil.fake_telegram import TOKEN, FakeTelegram
from tests.auxil.webchat import Visitor
from tests.test_run_command import clean_env, stop


async def start(tmp_path: Path, env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    log = (tmp_path / "kcbot.log").open("ab")
    try:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", *args,
            cwd=tmp_path, env=env, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    finally:
        log.close()


async def wait_said(tmp_path: Path, process: asyncio.subprocess.Process, phrase: str) -> str:
    log_file = tmp_path / "kcbot.log"
    for _ in range(600):
        output = log_file.read_text(encoding="utf-8", errors="replace")
        if phrase in output:
            return output
        assert process.returncode is None, output
        await asyncio.sleep(0.05)
    raise AssertionError(f"never said {phrase!r}: {log_file.read_text(errors='replace')}")


def base_of(env: dict[str, str]) -> str:
    return f"http://127.0.0.1:{env['KCBOT_LISTEN_PORT']}"


async def chat_once(base: str) -> str:
    async with Visitor(base) as visitor:
        await visitor.open()
        await visitor.send("/start")
        return visitor.text


async def test_kcbot_web_serves_the_chat_alone_and_stops_on_sigterm(tmp_path: Path):
    env = clean_env(tmp_path)  # no messaging channel at all
    process = await start(tmp_path, env, "web")
    try:
        output = await wait_said(tmp_path, process, "Web chat: ")
        first = output.splitlines()[:3]
        assert first[0] == f"Trò chuyện trên web: {base_of(env)}/chat"
        assert first[1] == f"Trang cán bộ: {base_of(env)}/admin/"
        assert "staff add-login" in first[2]
        assert "Trợ lý Khuyến công" in await chat_once(base_of(env))
        # The staff pages, on the same server: the login form.
        async with aiohttp.ClientSession() as http, http.get(base_of(env) + "/admin/") as page:
            assert page.status == 200 and "Đăng nhập" in await page.text()
        # A page waiting for replies does not hold the stop up (it is answered at once).
        async with Visitor(base_of(env)) as waiting:
            await waiting.open()
            poll = asyncio.create_task(waiting.fetch(wait=True))
            await asyncio.sleep(0.5)
            started = time.monotonic()
            assert await stop(process, signal.SIGTERM) == 0
            assert time.monotonic() - started < 10
            assert await poll == []
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert "Traceback" not in (tmp_path / "kcbot.log").read_text(errors="replace")


async def test_kcbot_run_with_telegram_polling_also_serves_the_web_chat(
    tmp_path: Path, fake_telegram: FakeTelegram
):
    env = clean_env(
        tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=fake_telegram.base_url
    )
    process = await start(tmp_path, env, "run")
    try:
        await wait_said(tmp_path, process, "kcbot is running")
        assert "Trợ lý Khuyến công" in await chat_once(base_of(env))
        fake_telegram.push_message(4005, "/start")
        [welcome] = await fake_telegram.wait_for_messages(4005, 1, timeout=30)
        assert "Trợ lý Khuyến công" in welcome["text"]
        assert await stop(process, signal.SIGTERM) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert "Traceback" not in (tmp_path / "kcbot.log").read_text(errors="replace")


async def test_a_busy_port_costs_only_the_web_chat_when_telegram_polls(
    tmp_path: Path, fake_telegram: FakeTelegram
):
    env = clean_env(
        tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=fake_telegram.base_url
    )
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", int(env["KCBOT_LISTEN_PORT"])))
        holder.listen()
        process = await start(tmp_path, env, "run")
        try:
            output = await wait_said(tmp_path, process, "kcbot is running")
            [line] = [x for x in output.splitlines() if "Web chat not served" in x]
            assert env["KCBOT_LISTEN_PORT"] in line
            fake_telegram.push_message(4006, "/start")
            await fake_telegram.wait_for_messages(4006, 1, timeout=30)
            assert await stop(process, signal.SIGTERM) == 0
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert "Traceback" not in (tmp_path / "kcbot.log").read_text(errors="replace")


async def test_dev_start_chat_runs_the_terminal_and_the_web_chat_in_one_process(tmp_path: Path):
    env = clean_env(tmp_path)
    process = await start(tmp_path, env, "chat", "--web")
    try:
        output = await wait_said(tmp_path, process, "Gõ số để chọn nút")
        lines = output.splitlines()
        assert lines[0] == f"Trò chuyện trên web: {base_of(env)}/chat"
        assert lines[1] == f"Trang cán bộ: {base_of(env)}/admin/"
        assert lines[2].strip().startswith("Tạo tài khoản đăng nhập: python3 dev.py kcbot staff")
        assert "Trợ lý Khuyến công" in await chat_once(base_of(env))  # the web, meanwhile
        assert process.stdin is not None
        process.stdin.write(b"/quit\n")
        await process.stdin.drain()
        assert await asyncio.wait_for(process.wait(), 30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    output = (tmp_path / "kcbot.log").read_text(errors="replace")
    assert "Traceback" not in output
    assert output.count("🤖 Xin chào") == 1  # the terminal's own welcome
