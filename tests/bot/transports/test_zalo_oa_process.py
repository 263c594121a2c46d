"""`kcbot run` as a real process on Zalo OA: a refreshed token pair survives kill -9."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import aiohttp

from tests.auxil.fake_zalo import APP_ID, APP_SECRET, OA_SECRET, FakeZaloOA, post_event
from tests.auxil.zalo import free_port, seed_tokens

USER = "8080808080"
ROOT = Path(__file__).resolve().parents[3]


def env_for(tmp_path: Path, fake: FakeZaloOA, port: int) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
        "KCBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'kcbot.sqlite3'}",
        "KCBOT_LISTEN_HOST": "127.0.0.1",
        "KCBOT_LISTEN_PORT": str(port),
        "KCBOT_WEBHOOK_BASE": "https://kc.example.vn/hooks",
        "ZALO_APP_ID": APP_ID,
        "ZALO_APP_SECRET": APP_SECRET,
        "ZALO_OA_SECRET_KEY": OA_SECRET,
        "ZALO_OA_API_BASE_URL": fake.base_url,
        "ZALO_OAUTH_BASE_URL": fake.base_url,
    }


async def start(tmp_path: Path, env: dict[str, str]) -> asyncio.subprocess.Process:
    log = (tmp_path / "kcbot.log").open("ab")
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "run",
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    finally:
        log.close()
    url = f"http://127.0.0.1:{env['KCBOT_LISTEN_PORT']}/healthz"
    async with aiohttp.ClientSession() as http:
        for _ in range(400):
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(url) as response:
                    if response.status == 200:
                        return process
            if process.returncode is not None:
                break
            await asyncio.sleep(0.05)
    raise AssertionError((tmp_path / "kcbot.log").read_text())


async def test_new_refresh_token_survives_kill_9(tmp_path: Path):
    fake = await FakeZaloOA().start()
    process: asyncio.subprocess.Process | None = None
    try:
        db_url = f"sqlite+aiosqlite:///{tmp_path / 'kcbot.sqlite3'}"
        # Seeded with an access token about to expire: the first send refreshes it.
        await seed_tokens(db_url, fake.access_token, fake.refresh_token, timedelta(minutes=2))
        env = env_for(tmp_path, fake, free_port())
        url = f"http://127.0.0.1:{env['KCBOT_LISTEN_PORT']}/hooks/zalo/oa"
        process = await start(tmp_path, env)
        assert await post_event(url, fake.event("follow", USER)) == 200
        await fake.wait_for(USER, 1, timeout=20)
        assert len(fake.refresh_calls) == 1
        rotated = fake.refresh_token
        process.send_signal(signal.SIGKILL)
        await process.wait()

        # The new pair is what the database holds; the next process uses it.
        fake.expire_access_token()
        process = await start(tmp_path, env)
        n = len(fake.sent_to(USER))
        assert await post_event(url, fake.event("user_send_text", USER, text="menu")) == 200
        await fake.wait_for(USER, n + 1, timeout=20)
        assert [c["refresh_token"] for c in fake.refresh_calls] == ["refresh-1", rotated]
        assert not [r for r in fake.refused if r["error"] != -216]
    finally:
        if process is not None and process.returncode is None:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 30)
        await fake.stop()
