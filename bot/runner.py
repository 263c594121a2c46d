"""`kcbot run`: serve the configured channels and the background workers until stopped."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
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
    "No channel is configured. Set any of:\n"
    "  TELEGRAM_BOT_TOKEN (from @BotFather) to serve Telegram;\n"
    "  ZALO_APP_ID, ZALO_APP_SECRET and ZALO_OA_SECRET_KEY to serve a Zalo Official Account;\n"
    "  ZALO_BOT_TOKEN to serve a Zalo Bot.\n"
    "To try the bot without a token, run: kcbot chat (terminal) or kcbot web (web chat)"
)


def configured_channels(settings: Settings) -> list[str]:
    """The channels whose settings are present."""
    channels = []
    if settings.telegram_bot_token:
        channels.append("telegram")
    if settings.zalo_app_id and settings.zalo_app_secret and settings.zalo_oa_secret_key:
        channels.append("zalo_oa")
    if settings.zalo_bot_token:
        channels.append("zalo_bot")
    return channels


def mount_staff_pages(http: Any, app: Any, settings: Settings) -> None:
    """STAFF PAGES HOOK: the staff pages (``/admin/``) join the same server here, once
    ``bot.web`` provides ``mount_admin(server, app, settings)``."""
    try:
        module = importlib.import_module("bot.web")
    except ModuleNotFoundError as exc:
        if exc.name != "bot.web":
            raise
        return
    mount = getattr(module, "mount_admin", None)
    if mount is not None:
        mount(http, app, settings)


async def serve(
    settings: Settings, stop: asyncio.Event | None = None, *, web_only: bool = False
) -> None:
    """Run until SIGTERM/SIGINT (or ``stop`` is set), then stop cleanly.

    Every channel whose settings are present is served at once, webhooks, the web chat
    (and the staff pages) on one server; ``web_only`` serves the web chat and the staff
    pages alone (``kcbot web``). Clean means: no new updates are taken, messages being
    handled finish and are saved, the workers finish the send they are in, then the
    database is closed.
    """
    channels = [] if web_only else configured_channels(settings)
    if not channels and not web_only:
        raise NoChannelConfigured(NO_CHANNEL)
    from bot.transports.http import WebServer

    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        # Not possible outside the main thread (e.g. when embedded in tests).
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)

    app = await _open_app(settings, stop)
    if app is None:
        return
    http = WebServer(settings.listen_host, settings.listen_port)
    transports: dict[str, Any] = {}
    if "telegram" in channels:
        from bot.transports.telegram import TelegramTransport

        transports["telegram"] = TelegramTransport(app, http=http)
    if "zalo_oa" in channels:
        from bot.transports.zalo_oa import ZaloOATransport

        transports["zalo_oa"] = ZaloOATransport(app, http)
    if "zalo_bot" in channels:
        from bot.transports.zalo_bot import ZaloBotTransport

        transports["zalo_bot"] = ZaloBotTransport(app, http)
    from bot.transports.web import WebChatTransport

    # Last: webhook transports start the server themselves, where a busy port is fatal;
    # with only polling channels a busy port costs the web chat alone (said in one line).
    transports["web"] = WebChatTransport(app, http, required=web_only)
    mount_staff_pages(http, app, settings)
    started: list[Any] = []
    try:
        for transport in transports.values():
            # Connecting retries while an API is unreachable; a stop request ends the wait.
            starting = asyncio.create_task(transport.start())
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not starting.done():
                starting.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await starting
                raise _Stopped
            stopping.cancel()
            starting.result()  # a refused token is raised here
            started.append(transport)
    except _Stopped:
        await _stop_all(started, http)
        await _close_all(started)
        await app.close()
        return
    except BaseException:
        await _stop_all(started, http)
        await _close_all(started)
        await app.close()
        raise
    senders = {name: transport.sender for name, transport in transports.items()}
    workers = await start_workers(app, senders)
    log.info("kcbot is running (%s); press Ctrl+C to stop", ", ".join([*channels, "web"]))
    try:
        await stop.wait()
    finally:
        log.info("stopping")
        # Workers first: the messages in hand are handled and their replies sent while the
        # transports' connections are still open; what arrives meanwhile waits in the inbox.
        await workers.stop()
        await _stop_all(started, http)
        await _close_all(started)
        await app.close()


class _Stopped(Exception):
    pass


async def _stop_all(transports: list[Any], http: Any) -> None:
    await http.stop()
    for transport in transports:
        with contextlib.suppress(Exception):
            await transport.stop()


async def _close_all(transports: list[Any]) -> None:
    for transport in transports:
        close = getattr(transport, "close", None)
        if close is not None:
            with contextlib.suppress(Exception):
                await close()


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


class WebBeside:
    """The web chat (and staff pages) with the workers they need, served next to another
    front in one process (``kcbot chat --web``, i.e. ``python3 dev.py start``)."""

    def __init__(self, app: Any, settings: Settings) -> None:
        from bot.transports.http import WebServer
        from bot.transports.web import WebChatTransport

        self.app = app
        self.http = WebServer(settings.listen_host, settings.listen_port)
        self.transport = WebChatTransport(app, self.http, required=True)
        mount_staff_pages(self.http, app, settings)
        self.workers: Any = None

    async def start(self) -> None:
        """Raises ``OSError`` if the port is taken."""
        await self.transport.start()
        self.workers = await start_workers(self.app, {"web": self.transport.sender})

    async def stop(self) -> None:
        if self.workers is not None:
            await self.workers.stop()
        await self.http.stop()
        await self.transport.stop()
