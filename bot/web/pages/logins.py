"""«Tài khoản đăng nhập» (admin): the staff web logins, linking one to a chat account,
removing one. Creating a login and passwords stay on the command line (kcbot staff …)."""

from __future__ import annotations

from aiohttp import web

from bot.web.core import db, now, redirect_with_flash, render, user_of
from bot.web.logins import LoginError, link_login, remove_login, role_of
from bot.web.pages import Page, PageRouter
from db.repos.web import LoginRepo

PAGE = Page(title="Tài khoản đăng nhập", path="logins", min_role="admin", order=90)


async def list_logins(request: web.Request) -> web.StreamResponse:
    async with db(request) as session:
        rows = [(login, await role_of(session, login)) for login in await LoginRepo(session).all()]
    return await render(request, "logins.html", title=PAGE.title, rows=rows)


async def link(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    username, chat = str(form.get("username", "")), str(form.get("chat", "")).strip()[:80]
    try:
        async with db(request) as session:
            login = await link_login(session, username, chat, now(request), user_of(request).actor)
            message = f"Đã liên kết {login.username} với {login.channel}:{login.chat_id}."
    except LoginError as exc:
        message = str(exc)
    return await redirect_with_flash(request, PAGE.url, message)


async def remove(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    username = str(form.get("username", "")).strip().lower()
    if username == user_of(request).username:
        return await redirect_with_flash(
            request, PAGE.url, "Bạn không thể tự xoá tài khoản đang dùng."
        )
    try:
        async with db(request) as session:
            await remove_login(session, username, now(request), user_of(request).actor)
        message = f"Đã xoá tài khoản {username}."
    except LoginError as exc:
        message = str(exc)
    return await redirect_with_flash(request, PAGE.url, message)


def routes(router: PageRouter) -> None:
    router.get("", list_logins)
    router.post("/link", link)
    router.post("/remove", remove)
