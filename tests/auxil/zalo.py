"""Run ``kcbot run``'s ``serve`` in the test's loop against the fake Zalo servers."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from bot.settings import Settings
from tests.auxil.app import make_settings
from tests.auxil.fake_zalo import APP_ID, APP_SECRET, OA_SECRET, FakeZaloBot, FakeZaloOA

BASE = "https://kc.example.vn/hooks"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def oa_settings(db_url: str, fake: FakeZaloOA, **overrides: Any) -> dict[str, Any]:
    return {
        "zalo_app_id": APP_ID,
        "zalo_app_secret": APP_SECRET,
        "zalo_oa_secret_key": OA_SECRET,
        "zalo_oa_api_base_url": fake.base_url,
        "zalo_oauth_base_url": fake.base_url,
        **overrides,
    }


def bot_settings(fake: FakeZaloBot, **overrides: Any) -> dict[str, Any]:
    return {"zalo_bot_token": fake.token, "zalo_bot_api_base_url": fake.base_url, **overrides}


def settings_for(db_url: str, **values: Any) -> Settings:
    values.setdefault("listen_host", "127.0.0.1")
    values.setdefault("listen_port", free_port())
    values.setdefault("webhook_base", BASE)
    return make_settings(db_url, **values)


async def seed_tokens(
    db_url: str, access: str, refresh: str, expires_in: timedelta = timedelta(hours=25)
) -> None:
    from db.migrate import upgrade
    from db.repos.zalo import ZaloTokenRepo
    from db.session import create_engine, session_factory

    engine = create_engine(db_url)
    try:
        await upgrade(engine)
        now = datetime.now(UTC)
        async with session_factory(engine)() as session, session.begin():
            await ZaloTokenRepo(session).seed(access, refresh, now + expires_in, now)
    finally:
        await engine.dispose()


@dataclass
class Served:
    settings: Settings
    stop_event: asyncio.Event
    task: asyncio.Task[None]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.settings.listen_port}/hooks{path}"

    async def stop(self) -> None:
        self.stop_event.set()
        await asyncio.wait_for(self.task, 30)


async def serve_in_background(settings: Settings, wait_http: bool = True) -> Served:
    from bot.runner import serve

    stop = asyncio.Event()
    task = asyncio.create_task(serve(settings, stop))
    served = Served(settings, stop, task)
    deadline = time.monotonic() + 20
    async with aiohttp.ClientSession() as http:
        while wait_http:
            if task.done():
                task.result()
                raise AssertionError("serve() ended")
            with contextlib.suppress(aiohttp.ClientError):
                url = f"http://127.0.0.1:{settings.listen_port}/healthz"
                async with http.get(url) as response:
                    if response.status == 200:
                        break
            if time.monotonic() > deadline:
                raise AssertionError("the webhook server did not start")
            await asyncio.sleep(0.05)
    return served


@pytest.fixture
async def fake_oa() -> AsyncIterator[FakeZaloOA]:
    server = await FakeZaloOA().start()
    yield server
    await server.stop()


@pytest.fixture
async def fake_zbot() -> AsyncIterator[FakeZaloBot]:
    server = await FakeZaloBot().start()
    yield server
    await server.stop()
