"""`kcbot run`: serve the configured channels and the background workers until stopped."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from bot.app import build_app
from bot.outage import Outage
from bot.settings import Settings
from bot.workers import start as start_workers

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

    app = await _open_app(settings, stop)
    if app is None:
        return
    telegram = TelegramTransport(app)
    # Connecting retries while the Bot API is unreachable; a stop request ends the wait.
    starting = asyncio.create_task(telegram.start())
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if not starting.done():
        starting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await starting
        await app.close()
        return
    stopping.cancel()
    starting.result()  # a refused token is raised here
    workers = await start_workers(app, {"telegram": telegram.sender})
    log.info("kcbot is running; press Ctrl+C to stop")
    try:
        await stop.wait()
    finally:
        log.info("stopping")
        await telegram.stop()
        await workers.stop()
        await app.close()


async def _open_app(settings: Settings, stop: asyncio.Event) -> Any:
    """The app, once the database answers: while it doesn't, one line now and then,
    retrying with backoff (None if asked to stop meanwhile)."""
    outage = Outage("The database", _safe_url(settings.database_url))
    delay = 1.0
    while not stop.is_set():
        try:
            app = await build_app(settings)
        except (OSError, SQLAlchemyError, TimeoutError) as exc:
            outage.failed(exc, retry_in=delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)
            delay = min(60.0, delay * 2)
            continue
        outage.over()
        return app
    return None


def _safe_url(url: str) -> str:
    """The database address without its password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
