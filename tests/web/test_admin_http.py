"""The guard seen by an HTTP client: CSRF, the login redirect and its ``next``, cookies
behind a proxy, sessions that end. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiohttp
from aiohttp import DummyCookieJar
from sqlalchemy import select, update

from db.models.web import WebSession
from tests.auxil.web import (
    PASSWORD,
    AdminSite,
    admin_site,  # noqa: F401
    form_token,
    http_client,
    http_login,
    make_login,
)

REFUSED = "Biểu mẫu đã hết hạn hoặc không hợp lệ."


async def test_a_form_posted_without_its_csrf_token_is_refused(admin_site: AdminSite):  # noqa: F811
    await make_login(admin_site.app, "quantri", "admin")
    await make_login(admin_site.app, "canbo", "staff")
    client = await http_login(admin_site, "quantri")
    async with client:
        for data in ({"username": "canbo"}, {"username": "canbo", "csrf_token": "gia-mao"}):
            async with client.post("/admin/logins/remove", data=data, allow_redirects=False) as r:
                assert r.status == 403
                assert REFUSED in await r.text()
        async with client.post("/admin/logout", allow_redirects=False) as r:
            assert r.status == 403
        # Nothing happened: the login is there and the session still works.
        async with client.get("/admin/logins") as r:
            page = await r.text()
            assert r.status == 200 and "Xoá canbo" in page
        data = {"username": "canbo", "csrf_token": form_token(page)}
        async with client.post("/admin/logins/remove", data=data) as r:
            assert "Đã xoá tài khoản canbo." in await r.text()


async def test_the_login_form_itself_needs_its_token(admin_site: AdminSite):  # noqa: F811
    await make_login(admin_site.app, "canbo", "staff")
    async with http_client(admin_site) as client:
        data = {"username": "canbo", "password": PASSWORD}
        async with client.post("/admin/login", data=data, allow_redirects=False) as r:
            assert r.status == 403 and REFUSED in await r.text()
            assert "kcbot_admin" not in r.cookies


async def test_every_page_needs_a_login_and_next_stays_local(admin_site: AdminSite):  # noqa: F811
    await make_login(admin_site.app, "canbo", "staff")
    async with http_client(admin_site) as client:
        async with client.get("/admin", allow_redirects=False) as r:
            assert r.headers["Location"] == "/admin/"
        for path in ("/admin/", "/admin/logins", "/admin/khong-co"):
            async with client.get(path, allow_redirects=False) as r:
                assert r.status in (303, 302) and "/admin/login" in r.headers["Location"], path
        async with client.post("/admin/logins/remove", allow_redirects=False) as r:
            assert r.status == 303 and r.headers["Location"] == "/admin/login"
    for target in (
        "https://evil.example/admin/",
        "//evil.example/",
        "/admin/../x",
        "/admin/\\x",
        "/admin/logout",
    ):
        async with http_client(admin_site) as client:
            async with client.get("/admin/login") as r:
                token = form_token(await r.text())
            data = {"username": "canbo", "password": PASSWORD, "csrf_token": token, "next": target}
            async with client.post("/admin/login", data=data, allow_redirects=False) as r:
                assert r.headers["Location"] == "/admin/", target
    async with await http_login(admin_site, "canbo") as client, client.get("/admin/khong-co") as r:
        assert r.status == 404 and "Không tìm thấy trang này." in await r.text()


async def test_cookie_is_secure_behind_a_trusted_https_proxy_only(admin_site: AdminSite):  # noqa: F811
    await make_login(admin_site.app, "canbo", "staff")

    async def cookie_flags(forwarded: str) -> str:
        """The session cookie's Set-Cookie line, as a browser behind the proxy gets it (the
        client here speaks plain HTTP, so it hands the login form's cookie back itself)."""
        async with aiohttp.ClientSession(admin_site.url, cookie_jar=DummyCookieJar()) as client:
            headers = {"X-Forwarded-Proto": forwarded}
            async with client.get("/admin/login", headers=headers) as r:
                token = form_token(await r.text())
                login_cookie = r.cookies["kcbot_login"].value
            data = {"username": "canbo", "password": PASSWORD, "csrf_token": token}
            headers["Cookie"] = f"kcbot_login={login_cookie}"
            async with client.post(
                "/admin/login", data=data, headers=headers, allow_redirects=False
            ) as r:
                assert r.status == 303
                return next(
                    c for c in r.headers.getall("Set-Cookie") if c.startswith("kcbot_admin=")
                )

    flags = await cookie_flags("https")
    assert "HttpOnly" in flags and "SameSite=Strict" in flags and "Secure" not in flags
    admin_site.app.settings.web_trust_proxy = True
    assert "Secure" in await cookie_flags("https")
    assert "Secure" not in await cookie_flags("http")


async def test_an_expired_session_asks_for_the_login_again(admin_site: AdminSite):  # noqa: F811
    await make_login(admin_site.app, "canbo", "staff")
    client = await http_login(admin_site, "canbo")
    async with client:
        async with client.get("/admin/", allow_redirects=False) as r:
            assert r.status == 200 and r.headers["Cache-Control"] == "no-store"
            assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
        past = datetime.now(UTC) - timedelta(minutes=1)
        async with admin_site.app.sessions() as session, session.begin():
            await session.execute(update(WebSession).values(expires_at=past))
        async with client.get("/admin/", allow_redirects=False) as r:
            assert r.status == 303 and r.headers["Location"].startswith("/admin/login")
    # The next login clears the expired session away.
    async with await http_login(admin_site, "canbo"), admin_site.app.sessions() as session:
        rows = (await session.scalars(select(WebSession))).all()
        assert len(rows) == 1 and rows[0].expires_at > datetime.now(UTC)


async def test_static_files_and_htmx_are_served_without_login(admin_site: AdminSite):  # noqa: F811
    async with http_client(admin_site) as client:
        async with client.get("/admin/static/htmx.min.js") as r:
            assert r.status == 200 and "htmx" in await r.text()
        async with client.get("/admin/static/style.css") as r:
            assert r.status == 200
