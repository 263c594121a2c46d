"""Nothing lost, nothing doubled: real ``kcbot run`` processes killed with SIGKILL.

- Polling: 300 updates over 30 chats, the bot killed after about 60 replies, restarted:
  every update is answered; duplicates only for replies in flight at the kill.
- Webhook, two workers on one PostgreSQL: a worker killed after its transaction committed
  but before Telegram accepted the reply; Telegram retries the update to the other worker
  (which has it already) — the user still gets the reply, once, within the lease.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.auxil.fake_telegram import TOKEN, FakeTelegram

CHATS = 30
PER_CHAT = 10
SECRET = "crash-test-secret"


def _env(tmp_path: Path, db_url: str, fake: FakeTelegram, **extra: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
        "KCBOT_DATABASE_URL": db_url,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        # Short leases, so that what a dead process held is taken up within seconds.
        "KCBOT_INBOX_LEASE_SECONDS": "2",
        "KCBOT_OUTBOX_LEASE_SECONDS": "3",
        "KCBOT_OUTBOX_POLL_SECONDS": "0.2",
        "KCBOT_INBOX_POLL_SECONDS": "0.2",
    }
    env.update(extra)
    return env


async def _kcbot(tmp_path: Path, env: dict[str, str], log_name: str) -> asyncio.subprocess.Process:
    with (tmp_path / log_name).open("ab") as log:
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


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            process.kill()
            await process.wait()


def _delivered(fake: FakeTelegram) -> int:
    return sum(1 for c in fake.calls if c["method"] == "sendMessage" and c["ok"])


async def test_kill_9_while_polling_loses_no_update(
    tmp_path: Path, db_url: str, fake_telegram: FakeTelegram
):
    fake = fake_telegram
    env = _env(tmp_path, db_url, fake)
    for i in range(CHATS * PER_CHAT):
        fake.push_message(5000 + i % CHATS, "/menu")
    process = await _kcbot(tmp_path, env, "first.log")
    try:
        await fake.wait_for(lambda f: _delivered(f) >= 60, timeout=60)
        process.kill()
        assert await process.wait() == -signal.SIGKILL
        at_kill = _delivered(fake)
        assert at_kill < CHATS * PER_CHAT, "killed too late to test anything"

        process = await _kcbot(tmp_path, env, "second.log")
        for chat in range(5000, 5000 + CHATS):
            await fake.wait_for(
                lambda f, c=chat: len(f.sent_to(c)) >= PER_CHAT,
                timeout=60,
            )
        await _stop(process)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    total = _delivered(fake)
    duplicates = total - CHATS * PER_CHAT
    # Only replies in flight at the kill may go twice (at most the concurrency, 16).
    assert 0 <= duplicates <= 16, f"{duplicates} duplicates"
    assert all(len(fake.sent_to(c)) >= PER_CHAT for c in range(5000, 5000 + CHATS))
    second = (tmp_path / "second.log").read_text(errors="replace")
    assert "Traceback" not in second, second
    print(f"\nkill -9 at {at_kill} replies; after restart {total} sent, {duplicates} duplicates")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _update(update_id: int, chat: int, text: str) -> dict:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_760_000_000,
            "chat": {"id": chat, "type": "private", "first_name": "Lan"},
            "from": {"id": chat, "is_bot": False, "first_name": "Lan"},
            "text": text,
        },
    }


async def _post(port: int, body: dict) -> int:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"http://127.0.0.1:{port}/tg", json=body, headers=headers) as response,
    ):
        return response.status


async def _until_listening(port: int, process: asyncio.subprocess.Process) -> None:
    for _ in range(300):
        if process.returncode is not None:
            raise AssertionError("kcbot run exited")
        try:
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        writer.close()
        return
    raise AssertionError(f"nothing listens on {port}")


@pytest.mark.postgres
async def test_worker_killed_between_commit_and_send_reply_comes_from_the_other(
    tmp_path: Path, postgres_database: str, fake_telegram: FakeTelegram
):
    from tests.auxil.db import _truncate_all

    await _truncate_all(postgres_database)
    fake = fake_telegram
    ports = _free_port(), _free_port()
    workers = []
    for n, port in enumerate(ports):
        env = _env(
            tmp_path,
            postgres_database,
            fake,
            KCBOT_WEBHOOK_URL="https://kc.example.vn/tg",
            KCBOT_WEBHOOK_SECRET=SECRET,
            KCBOT_LISTEN_HOST="127.0.0.1",
            KCBOT_LISTEN_PORT=str(port),
        )
        workers.append(await _kcbot(tmp_path, env, f"worker{n}.log"))
    a, b = workers
    try:
        for port, process in zip(ports, workers, strict=True):
            await _until_listening(port, process)
        chat = 7007
        update = _update(1, chat, "/menu")
        fake.hold_sends()  # Telegram is slow: the reply is in flight, not accepted
        assert await _post(ports[0], update) == 200  # stored before the 200
        await fake.wait_for(lambda f: f.holding >= 1, timeout=20)
        a.kill()  # after the commit (the reply is queued), before Telegram accepted it
        assert await a.wait() == -signal.SIGKILL
        # Let the fake server's loop see the dead worker's connection close before the held
        # send is answered, so that it is recorded as not accepted.
        await fake.wait_for(lambda f: f.connections_lost >= 1, timeout=10)
        fake.release()
        # Telegram saw no answer in time from A's side of things and retries elsewhere.
        assert await _post(ports[1], update) == 200
        [menu] = await fake.wait_for_messages(chat, 1, timeout=20)
        assert "Bạn cần gì" in menu["text"]
        await asyncio.sleep(1.5)  # nothing more comes
        assert len(fake.sent_to(chat)) == 1
        abandoned = [c for c in fake.calls if c["reason"] == "abandoned"]
        assert len(abandoned) == 1
    finally:
        for process in workers:
            if process.returncode is None:
                await _stop(process)
    log_b = (tmp_path / "worker1.log").read_text(errors="replace")
    assert "Traceback" not in log_b, log_b
