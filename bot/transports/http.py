"""One aiohttp server for every webhook (Telegram, Zalo OA, Zalo Bot).

Transports add their routes before ``start``; ``kcbot run`` starts it on
``KCBOT_LISTEN_HOST``/``KCBOT_LISTEN_PORT`` when any transport receives webhooks. It also
serves the files a channel hands out as links (``/files/{token}``, see ``serve_files``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

from aiohttp import web

log = logging.getLogger(__name__)

FILES_PATH = "/files"
FILE_GONE = "Không tìm thấy tệp, hoặc liên kết đã hết hạn."

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

    def add_get(self, path: str, handler: Handler) -> None:
        self.app.router.add_get(path, handler)
        self.routes.append(path)

    def add_subapp(self, prefix: str, app: web.Application) -> None:
        """A whole sub-application (the staff pages under ``/admin``), with its own
        middlewares."""
        self.app.add_subapp(prefix, app)
        self.routes.append(f"{prefix}/")

    def serve_files(self, base: str | None, sessions: Any, now: Callable[[], datetime]) -> None:
        """``GET {base}/files/{token}``: a shared file while its link is valid; 404
        otherwise. Nothing is ever listed."""
        path = path_of(base, FILES_PATH + "/{token}")
        if path in self.routes:
            return

        async def download(request: web.Request) -> web.Response:
            from db.repos.files import SharedFileRepo

            async with sessions() as session:
                row = await SharedFileRepo(session).valid(request.match_info["token"], now())
            if row is None:
                return web.Response(status=404, text=FILE_GONE, charset="utf-8")
            ascii_name = row.filename.encode("ascii", "replace").decode()
            name = "".join(c for c in ascii_name if c.isprintable() and c not in '"\\')
            disposition = f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(row.filename)}"
            return web.Response(
                body=bytes(row.content),
                content_type=row.mime_type,
                headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
            )

        self.add_get(path, download)

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
