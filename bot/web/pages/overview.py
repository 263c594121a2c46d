"""«Tổng quan», the landing page after login: today and the last 7 days at a glance (see
``handlers.staff.overview`` for where each figure comes from), with a chart of questions
per day drawn on the server as SVG — no script."""

from __future__ import annotations

from aiohttp import web

from bot.web.core import db, now, render
from bot.web.pages import Page, PageRouter
from handlers.staff.overview import overview

PAGE = Page(title="Tổng quan", path="", min_role="staff", order=0)

# The chart's drawing units (the SVG scales to the page's width).
BAR, GAP, HEIGHT = 20, 8, 120


async def show(request: web.Request) -> web.StreamResponse:
    async with db(request) as session:
        seen = await overview(session, now(request))
    return await render(
        request,
        "overview/index.html",
        title=PAGE.title,
        seen=seen,
        chart={"bar": BAR, "gap": GAP, "height": HEIGHT, "top": max(1, seen.max_asked)},
    )


def routes(router: PageRouter) -> None:
    router.get("", show)
