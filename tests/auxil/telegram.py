"""Fixtures for the fake Telegram Bot API (see ``tests/auxil/fake_telegram.py``).

- ``fake_telegram``: a started ``FakeTelegram`` server, stopped after the test;
- ``telegram_settings``: ``Settings`` on the test database pointing the bot at it;
- ``running_bot``: the real app with ``TelegramTransport`` polling the fake (short polls).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from bot.app import App, build_app
from bot.settings import Settings
from tests.auxil.app import make_settings
from tests.auxil.fake_telegram import TOKEN, FakeTelegram

# Tests poll with a 1 s long-poll timeout and no pause between polls.
POLL_TIMEOUT = 1.0


def telegram_settings_for(db_url: str, fake: FakeTelegram, **overrides: Any) -> Settings:
    return make_settings(
        db_url,
        telegram_bot_token=TOKEN,
        telegram_api_base_url=fake.base_url,
        **overrides,
    )


@dataclass
class RunningBot:
    """The app and its started transport; ``restart()`` builds both again on the same DB."""

    app: App
    transport: Any  # TelegramTransport
    settings: Settings
    workers: Any = None  # bot.workers.Workers

    async def stop(self) -> None:
        # As kcbot run does: the workers finish what they hold while the Bot API client is
        # still open, then the transport stops.
        if self.workers is not None:
            await self.workers.stop()
        await self.transport.stop()
        await self.app.close()

    async def restart(self) -> None:
        await self.stop()
        self.app, self.transport, self.workers = await start_bot(self.settings)


async def start_bot(settings: Settings, **transport_options: Any) -> tuple[App, Any, Any]:
    """The app, its Telegram transport and the workers that handle what it receives,
    as ``kcbot run`` starts them."""
    from bot.transports.telegram import TelegramTransport
    from bot.workers import start as start_workers

    app = await build_app(settings)
    options = {"poll_timeout": POLL_TIMEOUT, "poll_interval": 0.0, **transport_options}
    transport = TelegramTransport(app, **options)
    try:
        await transport.start()
        workers = await start_workers(app, {"telegram": transport.sender})
    except BaseException:
        await transport.stop()
        await app.close()
        raise
    return app, transport, workers


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def telegram_settings(db_url: str, fake_telegram: FakeTelegram) -> Settings:
    return telegram_settings_for(db_url, fake_telegram)


@pytest.fixture
async def running_bot(telegram_settings: Settings) -> AsyncIterator[RunningBot]:
    app, transport, workers = await start_bot(telegram_settings)
    bot = RunningBot(app, transport, telegram_settings, workers)
    yield bot
    await bot.stop()
