"""The staff web pages under ``/admin/`` on the shared aiohttp server.

``mount_admin(server, app, settings)`` adds them; pages are modules in bot/web/pages/
(see bot/web/README.md for how to add one).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from bot.app import App
    from bot.transports.http import WebServer

HERE = Path(__file__).parent


def mount_admin(server: WebServer, app: App, settings: Any = None) -> None:
    """Add ``/admin/...`` (login, logout, static files, every registered page) to ``server``.
    ``settings`` defaults to the app's own."""
    from bot.web.auth import LOGIN_PATH, LOGOUT_PATH, guard, login_page, login_submit, logout
    from bot.web.core import PREFIX, STATE, WebState, make_env, redirect
    from bot.web.pages import PageRouter, discover

    admin = web.Application(middlewares=[guard])
    pages = discover()
    admin[STATE] = WebState(
        app=app, env=make_env(str(HERE / "templates")), pages=[p for p, _ in pages]
    )
    prefix_len = len(PREFIX)
    admin.router.add_get(LOGIN_PATH[prefix_len:], login_page)
    admin.router.add_post(LOGIN_PATH[prefix_len:], login_submit)
    admin.router.add_post(LOGOUT_PATH[prefix_len:], logout)
    admin.router.add_static("/static/", HERE / "static")
    for page, module in pages:
        module.routes(PageRouter(page, admin.router))  # type: ignore[attr-defined]

    async def to_landing(request: web.Request) -> web.StreamResponse:
        return redirect(f"{PREFIX}/")

    server.add_get(PREFIX, to_landing)
    server.add_subapp(PREFIX, admin)
