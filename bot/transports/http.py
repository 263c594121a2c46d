"""One aiohttp server for every webhook (Telegram, Zalo OA, Zalo Bot).

Transports add their routes before ``start``; ``kcbot run`` starts it on
``KCBOT_LISTEN_HOST``/``KCBOT_LISTEN_PORT`` when any transport receives webhooks.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def path_of(base: str | None, suffix: str) -> str:
    """The local path for ``suffix`` under the public base URL (``/hooks`` + ``/zalo/oa``)."""
    prefix = (urlsplit(base).path if base else "").rstrip("/")
    return f"{prefix}{suffix}"


class WebServer:
    def __init__(self, host: str, port: int, max_body: int = 1024**2) -> None:
        self.host, self.port = host, port
        self.app = web.Application(client_max_size=max_body)
        self.app.router.add_get("/healthz", self._health)
        self._runner: web.AppRunner | None = None
        self.bound_port: int | None = None
        self.routes: list[str] = []

    def add_post(self, path: str, handler: Handler) -> None:
        self.app.router.add_post(path, handler)
        self.routes.append(path)

    @property
    def started(self) -> bool:
        return self._runner is not None

    async def start(self) -> None:
        if self._runner is not None:
            return
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=15.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        self.bound_port = sockets[0].getsockname()[1] if sockets else self.port
        log.info("webhooks on port %s: %s", self.bound_port, ", ".join(self.routes))

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True})
