"""The landing page after login: the pages this role may open (Tổng quan replaces it)."""

from __future__ import annotations

from aiohttp import web

from bot.web.core import current_user, render, state
from bot.web.pages import Page, PageRouter

PAGE = Page(title="Trang chủ", path="", min_role="staff", order=0)


async def home(request: web.Request) -> web.StreamResponse:
    user = current_user(request)
    pages = [
        p for p in state(request).pages if p.path and user is not None and user.may(p.min_role)
    ]
    return await render(request, "home.html", title=PAGE.title, pages=pages)


def routes(router: PageRouter) -> None:
    router.get("", home)
