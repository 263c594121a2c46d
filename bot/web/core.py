"""What a staff page handler needs, in one place (see bot/web/README.md).

``render`` a template, ``current_user``, ``require`` a role, ``db`` (a session in a
transaction), ``flash`` / ``redirect_with_flash``, ``paginate`` a list, ``xlsx_response``
for an export, ``page_number`` from the query string. Request state set by the middleware
in bot/web/auth.py: the user, the browser session's id and its CSRF token.
"""

from __future__ import annotations

import functools
import io
import json
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, pass_context
from markupsafe import Markup, escape
from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.files import safe_row
from db.models.web import WebSession
from knowledge.formats import datetime_text

if TYPE_CHECKING:
    from bot.app import App
    from bot.web.pages import Page

PREFIX = "/admin"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ROLE_RANK = {"staff": 1, "admin": 2}
ROLE_LABELS = {"staff": "cán bộ", "admin": "quản trị"}


@dataclass(frozen=True)
class WebUser:
    """The logged-in person. ``actor`` is what the audit trail records."""

    login_id: int
    username: str
    role: str
    actor: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def may(self, role: str) -> bool:
        return ROLE_RANK.get(self.role, 0) >= ROLE_RANK.get(role, 99)


@dataclass
class WebState:
    """Everything the admin sub-application shares, stored under ``STATE``."""

    app: App
    env: Environment
    pages: list[Page]


STATE = web.AppKey("kcbot_admin", WebState)


@dataclass
class Visit:
    """This request's browser session, as the guard found it."""

    user: WebUser | None = None
    session_id: int | None = None
    has_flash: bool = False
    csrf_token: str = ""


# Older aiohttp has no RequestKey: a plain string key works there.
_VISIT: Any = web.RequestKey("kcbot_visit", Visit) if hasattr(web, "RequestKey") else "kcbot_visit"


def visit(request: web.Request) -> Visit:
    found = request.get(_VISIT)
    if found is None:
        found = request[_VISIT] = Visit()
    return found  # type: ignore[no-any-return]


def state(request: web.Request) -> WebState:
    return request.config_dict[STATE]


def app_of(request: web.Request) -> App:
    """The bot (``settings``, ``sessions``, ``services``, ``engine``)."""
    return state(request).app


def now(request: web.Request) -> datetime:
    return app_of(request).services.now()


def current_user(request: web.Request) -> WebUser | None:
    return visit(request).user


def user_of(request: web.Request) -> WebUser:
    """The logged-in user of a page behind the login (always set there)."""
    user = current_user(request)
    if user is None:
        raise web.HTTPUnauthorized()
    return user


@asynccontextmanager
async def db(request: web.Request) -> AsyncIterator[AsyncSession]:
    """``async with db(request) as session:`` one transaction, committed at the end."""
    async with app_of(request).sessions() as session, session.begin():
        yield session


def admin_url(path: str = "") -> str:
    """``admin_url("drafts")`` → ``/admin/drafts``."""
    return f"{PREFIX}/{path.lstrip('/')}"


# --- rendering -------------------------------------------------------------------------


@pass_context
def _csrf_field(context: Any) -> Markup:
    token = context.get("csrf_token") or ""
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(token)


def _dt(moment: datetime | None) -> str:
    return datetime_text(moment)


def make_env(folder: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(folder), autoescape=True, trim_blocks=True, lstrip_blocks=True
    )
    env.globals["csrf_field"] = _csrf_field
    env.globals["admin_url"] = admin_url
    env.globals["role_label"] = lambda role: ROLE_LABELS.get(role, role)
    env.filters["dt"] = _dt
    return env


async def pop_flashes(request: web.Request) -> list[str]:
    session_id = visit(request).session_id
    if not visit(request).has_flash or session_id is None:
        return []
    async with db(request) as session:
        row = await session.get(WebSession, session_id)
        if row is None or not row.flash:
            return []
        messages: list[str] = json.loads(row.flash)
        row.flash = None
    visit(request).has_flash = False
    return messages


async def render(
    request: web.Request, template: str, *, status: int = 200, **context: Any
) -> web.Response:
    """The page ``template`` inside layout.html: nav for the user's role, flash messages,
    the CSRF token for ``{{ csrf_field() }}``. Every value is escaped by the template."""
    st = state(request)
    user = current_user(request)
    nav = [p for p in st.pages if p.nav and user is not None and user.may(p.min_role)]
    values = {
        "user": user,
        "nav": nav,
        "path": request.path,
        "flashes": await pop_flashes(request),
        "csrf_token": visit(request).csrf_token,
        "centre_name": app_of(request).settings.centre_name,
        "request": request,
        **context,
    }
    html = st.env.get_template(template).render(values)
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


async def flash(request: web.Request, message: str) -> None:
    """Show ``message`` once on the next page this browser opens."""
    session_id = visit(request).session_id
    if session_id is None:
        return
    async with db(request) as session:
        row = await session.get(WebSession, session_id)
        if row is None:
            return
        messages = json.loads(row.flash) if row.flash else []
        messages = [*messages, message][-5:]
        await session.execute(
            update(WebSession)
            .where(WebSession.id == session_id)
            .values(flash=json.dumps(messages, ensure_ascii=False)[:2000])
        )


def redirect(location: str) -> web.Response:
    """303 See Other: after a POST the browser GETs ``location``."""
    return web.Response(status=303, headers={"Location": location})


async def redirect_with_flash(request: web.Request, location: str, message: str) -> web.Response:
    await flash(request, message)
    return redirect(location)


async def error_page(request: web.Request, status: int, message: str) -> web.Response:
    return await render(
        request, "error.html", status=status, message=message, title="Không thực hiện được"
    )


# --- roles -------------------------------------------------------------------------------

ROLE_REFUSED = "Trang này chỉ dành cho {label}."


def require(role: str) -> Callable[[Handler], Handler]:
    """``@require("admin")``: others get a 403 page in Vietnamese (the login itself is
    checked for every /admin page by the middleware)."""

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(request: web.Request) -> web.StreamResponse:
            user = current_user(request)
            if user is None or not user.may(role):
                return await error_page(
                    request, 403, ROLE_REFUSED.format(label=ROLE_LABELS.get(role, role))
                )
            return await handler(request)

        return guarded

    return wrap


# --- lists -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pagination:
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def limit(self) -> int:
        return self.per_page

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def page_number(request: web.Request, name: str = "page") -> int:
    """``?page=N`` as a number ≥ 1 (anything else is page 1)."""
    text = request.query.get(name, "1")
    return max(1, int(text)) if text.isdigit() and len(text) < 7 else 1


def paginate(total: int, page: int, per_page: int = 50) -> Pagination:
    """Page ``page`` of ``total`` rows (clamped to the last page)."""
    per_page = max(1, per_page)
    last = max(1, math.ceil(total / per_page))
    return Pagination(page=min(max(1, page), last), per_page=per_page, total=total)


async def paginate_query(
    session: AsyncSession, query: Select[Any], page: int, per_page: int = 50
) -> tuple[Sequence[Any], Pagination]:
    """Rows of one page of ``query`` (ordered by the caller) and its Pagination:
    a COUNT over the same filter, then LIMIT/OFFSET."""
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    pagination = paginate(int(total or 0), page, per_page)
    rows = (await session.scalars(query.limit(pagination.limit).offset(pagination.offset))).all()
    return rows, pagination


def page_url(request: web.Request, page: int) -> str:
    """This page's address with ``page`` changed, other filters kept."""
    query = dict(request.query)
    query["page"] = str(page)
    return request.rel_url.with_query(query).path_qs


# --- exports -----------------------------------------------------------------------------

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(
    filename: str, rows: Iterable[Sequence[Any]], headers: Sequence[str], sheet: str = "Danh sách"
) -> web.Response:
    """A download of ``rows`` under ``headers``; text cells can never become formulas."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    ws = book.create_sheet(sheet[:31])
    ws.append(safe_row(headers))
    for row in rows:
        ws.append(safe_row(row))
    buffer = io.BytesIO()
    book.save(buffer)
    ascii_name = "".join(
        c
        for c in filename.encode("ascii", "replace").decode()
        if c.isprintable() and c not in '"\\;'
    )
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    return web.Response(
        body=buffer.getvalue(),
        content_type=XLSX,
        headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
    )


__all__ = [
    "Pagination",
    "WebUser",
    "admin_url",
    "app_of",
    "current_user",
    "db",
    "error_page",
    "escape",
    "flash",
    "now",
    "page_number",
    "page_url",
    "paginate",
    "paginate_query",
    "redirect",
    "redirect_with_flash",
    "render",
    "require",
    "user_of",
    "xlsx_response",
]
