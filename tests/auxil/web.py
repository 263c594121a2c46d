"""The staff pages on a real server: the app on SQLite and PostgreSQL, ``mount_admin`` on a
``WebServer`` listening on a free port, and logins made with the same service as the CLI.

- ``admin_site``: a started site (``.url``, ``.app``), stopped after the test;
- ``make_login``: create a login (``kcbot staff add-login`` does the same);
- ``http_login``: an aiohttp client logged in through the login form (for raw POSTs).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp
import pytest

from bot.app import App, build_app
from bot.transports.http import WebServer
from bot.web import mount_admin
from bot.web.logins import add_login
from tests.auxil.app import make_settings

PASSWORD = "mat-khau-thu-nghiem"


@dataclass
class AdminSite:
    app: App
    server: WebServer

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.bound_port}"


@pytest.fixture
async def admin_site(db_url: str) -> AsyncIterator[AdminSite]:
    app = await build_app(make_settings(db_url))
    server = WebServer("127.0.0.1", 0)
    mount_admin(server, app, app.settings)
    await server.start()
    try:
        yield AdminSite(app, server)
    finally:
        await server.stop()
        await app.close()


async def make_login(
    app: App,
    username: str,
    role: str = "staff",
    password: str = PASSWORD,
    chat: str | None = None,
) -> None:
    async with app.sessions() as session, session.begin():
        await add_login(session, username, password, role, datetime.now(UTC), "test", chat)


def form_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


async def http_login(
    site: AdminSite, username: str, password: str = PASSWORD
) -> aiohttp.ClientSession:
    """A client with the session cookie, logged in through the form like a browser."""
    client = http_client(site)
    try:
        async with client.get("/admin/login") as response:
            token = form_token(await response.text())
        data = {"username": username, "password": password, "csrf_token": token, "next": "/admin/"}
        async with client.post("/admin/login", data=data, allow_redirects=False) as response:
            assert response.status == 303, await response.text()
    except BaseException:
        await client.close()
        raise
    return client


def http_client(site: AdminSite) -> aiohttp.ClientSession:
    """A client that keeps cookies (aiohttp refuses those of an IP address unless told)."""
    return aiohttp.ClientSession(site.url, cookie_jar=aiohttp.CookieJar(unsafe=True))
