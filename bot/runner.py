"""`kcbot run`: serve the configured channels and the background workers until stopped."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import signal
from typing import Any

from bot.app import build_app
from bot.settings import Settings

log = logging.getLogger(__name__)


class NoChannelConfigured(Exception):
    pass


NO_CHANNEL = (
    "No channel is configured: set TELEGRAM_BOT_TOKEN (from @BotFather) to serve Telegram.\n"
    "To try the bot without a token, run: kcbot chat"
)


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run until SIGTERM/SIGINT (or ``stop`` is set), then stop cleanly.

    Clean means: no new updates are taken, messages being handled finish and are saved,
    the workers finish the send they are in, then the database is closed.
    """
    if not settings.telegram_bot_token:
        raise NoChannelConfigured(NO_CHANNEL)
    from bot.transports.telegram import TelegramTransport

    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        # Not possible outside the main thread (e.g. when embedded in tests).
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)

    app = await build_app(settings)
    telegram = TelegramTransport(app)
    await telegram.start()
    workers: Any = None
    try:
        workers_module = importlib.import_module("bot.workers")
    except ModuleNotFoundError as exc:
        if exc.name != "bot.workers":
            raise
    else:
        workers = await workers_module.start(app, {"telegram": telegram})
    log.info("kcbot is running; press Ctrl+C to stop")
    try:
        await stop.wait()
    finally:
        log.info("stopping")
        await telegram.stop()
        if workers is not None:
            await workers.stop()
        await app.close()
