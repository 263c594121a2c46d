"""«Thông báo»: compose an announcement (audience filters with the live recipient count,
a preview as the chat message recipients get, now or at a local time), and the past
announcements with their progress and delivery report. The rules (who is in an audience,
one outbox row per recipient, the send window, the report) are the staff chat's
(handlers/staff/broadcast.py), shared with ``kcbot broadcast``."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from bot.web.core import (
    app_of,
    db,
    now,
    page_number,
    page_url,
    paginate,
    redirect_with_flash,
    render,
    state,
    user_of,
    visit,
)
from bot.web.pages import Page, PageRouter
from db.repos.staff import user_channels
from db.repos.web import LoginRepo
from handlers.reminders.scheduling import PROVINCES
from handlers.staff import broadcast as B
from knowledge.formats import datetime_text
from knowledge.vocabulary import vocabulary

PAGE = Page(title="Thông báo", path="announcements", min_role="staff", order=60)
PER_PAGE = 20
MULTI = ("provinces", "sectors", "kinds", "statuses", "channels", "roles")


def _values(form: MultiDictProxy[Any]) -> dict[str, Any]:
    """The posted form as the service reads it: lists for the filters, text otherwise."""
    values: dict[str, Any] = {
        name: [str(v)[:100] for v in form.getall(name, [])][:40] for name in MULTI
    }
    for name in ("text", "button", "at", "when", "subscribers"):
        values[name] = str(form.get(name) or "")[: B.MAX_TEXT + 100]
    if values["when"] != "later":
        values["at"] = ""
    return values


async def _choices(session: Any) -> dict[str, Any]:
    return {
        "provinces": PROVINCES,
        "sectors": [(t.key, t.label) for t in vocabulary().sectors],
        "kinds": list(B.FACILITY_KINDS.items()),
        "statuses": list(B.DRAFT_STATUSES.items()),
        "roles": list(B.ROLE_LABELS.items()),
        "channels": await user_channels(session),
        "buttons": [(key, label) for key, (label, _payload) in B.BUTTONS.items()],
    }


async def _live(session: Any, values: dict[str, Any]) -> dict[str, Any]:
    """The recipient count and the preview for what the form says now."""
    try:
        audience = B.read_audience(values)
    except B.ComposeError as exc:
        return {"count_error": " ".join(exc.errors.values()), "counts": None}
    counts = await B.count_by_channel(session, audience)
    text, labels = B.preview(str(values.get("text") or "").strip(), values.get("button") or None)
    return {
        "counts": counts,
        "total": sum(counts.values()),
        "describe": audience.describe(),
        "preview_text": text,
        "preview_buttons": labels,
    }


async def _compose_page(
    request: web.Request,
    values: dict[str, Any],
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    async with db(request) as session:
        choices = await _choices(session)
        live = await _live(session, values)
    return await render(
        request,
        "announcements/compose.html",
        status=status,
        title="Soạn thông báo",
        values=values,
        errors=errors or {},
        choices=choices,
        window=app_of(request).settings.send_window,
        max_text=B.MAX_TEXT,
        **live,
    )


async def new_form(request: web.Request) -> web.StreamResponse:
    empty: dict[str, Any] = {name: [] for name in MULTI}
    empty.update(text="", button="", at="", when="now", subscribers="")
    return await _compose_page(request, empty)


async def live(request: web.Request) -> web.StreamResponse:
    """htmx: the count and preview as the filters and text change."""
    values = _values(await request.post())
    async with db(request) as session:
        found = await _live(session, values)
    return await render_fragment(request, "announcements/_live.html", **found)


async def render_fragment(request: web.Request, template: str, **context: Any) -> web.Response:
    """A piece of a page for htmx to swap in: no layout, and unlike ``render`` it leaves
    the flash messages for the next full page; forms in it keep their CSRF field."""
    values = {"csrf_token": visit(request).csrf_token, **context}
    html = state(request).env.get_template(template).render(values)
    return web.Response(text=html, content_type="text/html", charset="utf-8")


async def _report_chat(session: Any, request: web.Request) -> tuple[str, str] | None:
    """The chat linked to this login: the staff member is told of the progress there too."""
    login = await LoginRepo(session).get(user_of(request).username)
    if login is None or not login.channel or not login.chat_id:
        return None
    return login.channel, login.chat_id


async def send(request: web.Request) -> web.StreamResponse:
    values = _values(await request.post())
    moment = now(request)
    try:
        compose = B.read_compose(values, moment)
    except B.ComposeError as exc:
        return await _compose_page(request, values, errors=exc.errors, status=400)
    settings = app_of(request).settings
    async with db(request) as session:
        counts = await B.count_by_channel(session, compose.audience)
        queued = None
        if sum(counts.values()):
            queued = await B.create(
                session,
                text=compose.text,
                audience=compose.audience,
                actor=user_of(request).actor,
                now=moment,
                window=B.parse_window(settings.send_window),
                button=compose.button,
                at=compose.at,
                report_to=await _report_chat(session, request),
                rate=settings.outbox_rate,
            )
    if queued is None:
        nobody = {"audience": "Không có ai thuộc nhóm này nên chưa gửi: chọn lại người nhận."}
        return await _compose_page(request, values, errors=nobody, status=400)
    broadcast_id = queued.broadcast.id
    message = (
        f"Đã xếp hàng thông báo #{broadcast_id} cho {queued.count} người nhận, "
        f"gửi từ {datetime_text(queued.send_at)}."
    )
    return await redirect_with_flash(request, f"{PAGE.url}/{broadcast_id}", message)


async def list_sent(request: web.Request) -> web.StreamResponse:
    async with db(request) as session:
        found = await B.history(session, now(request), page=page_number(request), per_page=PER_PAGE)
    return await render(
        request,
        "announcements/list.html",
        title=PAGE.title,
        items=found.items,
        pagination=paginate(found.total, found.page, PER_PAGE),
        page_url=lambda n: page_url(request, n),
    )


async def _one(request: web.Request) -> B.Sent:
    async with db(request) as session:
        found = await B.sent_one(session, int(request.match_info["id"]), now(request))
    if found is None:
        raise web.HTTPNotFound()
    return found


def _report_context(found: B.Sent) -> dict[str, Any]:
    text, labels = B.preview(found.broadcast.text, found.broadcast.button)
    return {
        "item": found,
        "labels": B.REPORT_LABELS,
        "audience": B.Audience.from_json(found.broadcast.audience).describe(),
        "preview_text": text,
        "preview_buttons": labels,
    }


async def show(request: web.Request) -> web.StreamResponse:
    found = await _one(request)
    return await render(
        request,
        "announcements/show.html",
        title=f"Thông báo #{found.broadcast.id}",
        **_report_context(found),
    )


async def report(request: web.Request) -> web.StreamResponse:
    """htmx: the delivery report, refreshed while the announcement is being sent."""
    found = await _one(request)
    return await render_fragment(request, "announcements/_report.html", **_report_context(found))


async def cancel(request: web.Request) -> web.StreamResponse:
    broadcast_id = int(request.match_info["id"])
    async with db(request) as session:
        n = await B.cancel(session, broadcast_id, user_of(request).actor, now(request))
    if n is None:
        raise web.HTTPNotFound()
    message = f"Đã dừng thông báo #{broadcast_id}: {n} tin chưa gửi được hủy."
    return await redirect_with_flash(request, f"{PAGE.url}/{broadcast_id}", message)


def routes(router: PageRouter) -> None:
    router.get("", list_sent)
    router.get("/new", new_form)
    router.post("/new", send)
    router.post("/live", live)
    router.get(r"/{id:\d{1,9}}", show)
    router.get(r"/{id:\d{1,9}}/report", report)
    router.post(r"/{id:\d{1,9}}/cancel", cancel)
