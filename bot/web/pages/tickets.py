"""«Câu hỏi chờ trả lời»: the questions users sent to staff and the ones the bot could not
answer. Reply (it reaches the user in their chat, through the outbox), take, close; «Thêm
vào hỏi đáp» opens the FAQ editor with the question. Every rule is the staff desk's
(``handlers.tickets.desk``) and the FAQ service's (``handlers.faq.editing``)."""

from __future__ import annotations

import secrets

from aiohttp import web

from bot.web.core import (
    app_of,
    db,
    now,
    page_number,
    page_url,
    paginate,
    redirect_with_flash,
    render,
    user_of,
)
from bot.web.pages import Page, PageRouter
from db.models.handoff import Ticket
from db.models.web import WebLogin
from handlers.faq import editing as faq_editing
from handlers.tickets import desk
from handlers.tickets.service import MAX_REPLY, channel_label

PAGE = Page(title="Câu hỏi chờ trả lời", path="tickets", min_role="staff", order=30)
PER_PAGE = 30


async def _staff(request: web.Request, session: object) -> desk.Staff:
    """The logged-in person as the desk knows staff: their linked chat, if any."""
    user = user_of(request)
    login = await session.get(WebLogin, user.login_id)  # type: ignore[attr-defined]
    channel = login.channel if login is not None else None
    chat_id = login.chat_id if login is not None else None
    return desk.web_staff(user.username, user.role, user.actor, channel, chat_id)


def _ticket_url(ticket_id: int) -> str:
    return f"{PAGE.url}/{ticket_id}"


async def list_tickets(request: web.Request) -> web.StreamResponse:
    status = desk.status_filter(request.query.get("status"))
    source = desk.source_filter(request.query.get("source"))
    async with db(request) as session:
        total, _ = await desk.queue(session, status, source, 0, 0)
        pagination = paginate(total, page_number(request), PER_PAGE)
        _, rows = await desk.queue(session, status, source, pagination.offset, PER_PAGE)
    return await render(
        request,
        "tickets/list.html",
        title=PAGE.title,
        rows=rows,
        chosen_status=status,
        chosen_source=source,
        statuses=desk.STATUS_FILTERS,
        sources=desk.SOURCE_FILTERS,
        status_labels=desk.STATUS_LABELS,
        source_labels=desk.SOURCE_LABELS,
        pagination=pagination,
        page_url=lambda n: page_url(request, n),
        tab="tickets",
    )


async def _show(
    request: web.Request, ticket_id: int, *, error: str = "", text: str = "", status: int = 200
) -> web.StreamResponse:
    async with db(request) as session:
        ticket = await session.get(Ticket, ticket_id)
        if ticket is None:
            return await render(
                request,
                "tickets/missing.html",
                status=404,
                title=PAGE.title,
                message=f"Không có câu hỏi #{ticket_id}.",
            )
        staff = await _staff(request, session)
        history = await desk.history(session, ticket)
    return await render(
        request,
        "tickets/show.html",
        status=status,
        title=f"Câu hỏi #{ticket.id}",
        t=ticket,
        history=history,
        refusal=desk.refusal(ticket, staff),
        channel=channel_label(ticket.channel),
        status_labels=desk.STATUS_LABELS,
        source_labels=desk.SOURCE_LABELS,
        error=error,
        text=text,
        max_reply=MAX_REPLY,
        # A fresh key per form shown: the same form posted twice answers once.
        nonce=secrets.token_urlsafe(12),
        tab="tickets",
    )


async def show(request: web.Request) -> web.StreamResponse:
    return await _show(request, int(request.match_info["id"]))


async def reply(request: web.Request) -> web.StreamResponse:
    ticket_id = int(request.match_info["id"])
    form = await request.post()
    text = str(form.get("text") or "")
    nonce = str(form.get("nonce") or "")[:40] or None
    async with db(request) as session:
        staff = await _staff(request, session)
        outcome = await desk.answer(
            session, ticket_id, text, staff, now(request), unique=f"web{nonce}" if nonce else None
        )
    if not outcome.ok:
        return await _show(request, ticket_id, error=outcome.message, text=text, status=400)
    return await redirect_with_flash(request, _ticket_url(ticket_id), outcome.message)


async def take(request: web.Request) -> web.StreamResponse:
    ticket_id = int(request.match_info["id"])
    async with db(request) as session:
        outcome = await desk.take_ticket(
            session, ticket_id, await _staff(request, session), now(request)
        )
    return await redirect_with_flash(request, _ticket_url(ticket_id), outcome.message)


async def close(request: web.Request) -> web.StreamResponse:
    ticket_id = int(request.match_info["id"])
    async with db(request) as session:
        outcome = await desk.close_ticket(
            session, ticket_id, await _staff(request, session), now(request)
        )
    return await redirect_with_flash(request, _ticket_url(ticket_id), outcome.message)


# --- questions the bot could not answer ----------------------------------------------------


async def unanswered(request: web.Request) -> web.StreamResponse:
    kb = app_of(request).services.kb
    async with db(request) as session:
        total, _ = await faq_editing.unanswered(session, kb, 0, 0)
        pagination = paginate(total, page_number(request), PER_PAGE)
        _, groups = await faq_editing.unanswered(session, kb, pagination.offset, PER_PAGE)
    return await render(
        request,
        "tickets/unanswered.html",
        title="Câu hỏi bot chưa trả lời được",
        groups=groups,
        pagination=pagination,
        page_url=lambda n: page_url(request, n),
        tab="unanswered",
    )


async def resolve(request: web.Request) -> web.StreamResponse:
    question_id = int(request.match_info["id"])
    async with db(request) as session:
        count = await faq_editing.resolve(
            session, question_id, actor=user_of(request).actor, now=now(request)
        )
    message = f"Đã đánh dấu đã xử lý ({count} lượt hỏi)." if count else "Câu hỏi này đã được xử lý."
    return await redirect_with_flash(request, f"{PAGE.url}/unanswered", message)


def routes(router: PageRouter) -> None:
    router.get("", list_tickets)
    router.get("/unanswered", unanswered)
    router.post("/unanswered/{id:\\d{1,9}}/resolve", resolve)
    router.get("/{id:\\d{1,9}}", show)
    router.post("/{id:\\d{1,9}}/reply", reply)
    router.post("/{id:\\d{1,9}}/take", take)
    router.post("/{id:\\d{1,9}}/close", close)
