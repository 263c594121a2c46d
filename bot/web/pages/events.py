"""«Sự kiện»: the events subscribers are reminded of — list, add, edit, cancel, import a
CSV/XLSX with the rows that could not be read shown by number. Every rule (dates, kinds,
which reminders follow a change) is in handlers/reminders/service.py, shared with
``kcbot events``."""

from __future__ import annotations

from typing import Any

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
from handlers.reminders import service
from handlers.reminders.events_import import COLUMNS, UnreadableFile
from handlers.reminders.scheduling import EVENT_KINDS, KIND_LABELS, ReminderConfig, format_when

PAGE = Page(title="Sự kiện", path="events", min_role="staff", order=50)
PER_PAGE = 20
KINDS = [(k, KIND_LABELS[k]) for k in EVENT_KINDS]


def _config(request: web.Request) -> ReminderConfig:
    return ReminderConfig.from_settings(app_of(request).settings)


async def list_events(request: web.Request) -> web.StreamResponse:
    status = request.query.get("status", "upcoming")
    status = status if status in service.STATUSES else "upcoming"
    kind = request.query.get("kind", "")
    kind = kind if kind in KIND_LABELS else ""
    async with db(request) as session:
        found = await service.list_events(
            session,
            now(request),
            status=status,
            kind=kind or None,
            page=page_number(request),
            per_page=PER_PAGE,
        )
    return await render(
        request,
        "events/list.html",
        title=PAGE.title,
        events=found.items,
        pagination=paginate(found.total, found.page, PER_PAGE),
        page_url=lambda n: page_url(request, n),
        current_status=status,
        kind=kind,
        statuses=service.STATUSES,
        kinds=KINDS,
        kind_labels=KIND_LABELS,
        when=format_when,
        is_over=lambda e: service.is_over(e, now(request)),
    )


async def _form_page(
    request: web.Request,
    *,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    event: Any = None,
    status: int = 200,
) -> web.Response:
    title = f"Sửa sự kiện #{event.id}" if event is not None else "Thêm sự kiện"
    return await render(
        request,
        "events/form.html",
        status=status,
        title=title,
        values=values,
        errors=errors or {},
        event=event,
        kinds=KINDS,
    )


async def _posted(request: web.Request) -> dict[str, str]:
    form = await request.post()
    return {c: str(form.get(c) or "").strip()[:4000] for c in COLUMNS}


async def new_form(request: web.Request) -> web.StreamResponse:
    return await _form_page(request, values=dict.fromkeys(COLUMNS, ""))


async def create(request: web.Request) -> web.StreamResponse:
    values = await _posted(request)
    try:
        data = service.read_form(values)
    except service.EventInvalid as exc:
        return await _form_page(request, values=values, errors=exc.errors, status=400)
    async with db(request) as session:
        event, outcome = await service.add_event(
            session, data, actor=user_of(request).actor, now=now(request), cfg=_config(request)
        )
        word = {
            "created": "Đã thêm",
            "updated": "Đã cập nhật (trùng tên, loại và ngày)",
            "unchanged": "Không có gì thay đổi ở",
        }[outcome]
        message = f"{word} sự kiện #{event.id}: {event.title}."
    return await redirect_with_flash(request, PAGE.url, message)


def _event_id(request: web.Request) -> int:
    return int(request.match_info["id"])


async def edit_form(request: web.Request) -> web.StreamResponse:
    async with db(request) as session:
        event = await service.get_event(session, _event_id(request))
        if event is None:
            raise web.HTTPNotFound()
        values = service.form_values(event)
    return await _form_page(request, values=values, event=event)


async def save(request: web.Request) -> web.StreamResponse:
    values = await _posted(request)
    event_id = _event_id(request)
    try:
        data = service.read_form(values)
        async with db(request) as session:
            result = await service.edit_event(
                session,
                event_id,
                data,
                actor=user_of(request).actor,
                now=now(request),
                cfg=_config(request),
            )
            if result is None:
                raise web.HTTPNotFound()
            event, changed = result
            message = (
                f"Đã lưu sự kiện #{event.id}: {event.title}. Lời nhắc chưa gửi theo thông tin mới."
                if changed
                else f"Sự kiện #{event.id} không có gì thay đổi."
            )
    except service.EventInvalid as exc:
        async with db(request) as session:
            current = await service.get_event(session, event_id)
        if current is None:
            raise web.HTTPNotFound() from None
        return await _form_page(
            request, values=values, errors=exc.errors, event=current, status=400
        )
    return await redirect_with_flash(request, PAGE.url, message)


async def cancel(request: web.Request) -> web.StreamResponse:
    async with db(request) as session:
        result = await service.cancel_event(
            session,
            _event_id(request),
            actor=user_of(request).actor,
            now=now(request),
            cfg=_config(request),
        )
    if result is None:
        raise web.HTTPNotFound()
    if result.already:
        message = f"Sự kiện #{result.event.id} đã hủy từ trước."
    else:
        message = (
            f"Đã hủy sự kiện #{result.event.id}: {result.event.title}. Bỏ {result.dropped} "
            f"lời nhắc chưa gửi; báo hủy cho {result.notified} người đã được nhắc."
        )
    return await redirect_with_flash(request, PAGE.url, message)


async def reopen(request: web.Request) -> web.StreamResponse:
    async with db(request) as session:
        result = await service.reopen_event(
            session,
            _event_id(request),
            actor=user_of(request).actor,
            now=now(request),
            cfg=_config(request),
        )
    if result is None:
        raise web.HTTPNotFound()
    event, _queued = result
    message = f"Đã khôi phục sự kiện #{event.id}: {event.title}. Người đăng ký sẽ được nhắc như cũ."
    return await redirect_with_flash(request, f"{PAGE.url}/{event.id}", message)


async def import_form(request: web.Request) -> web.StreamResponse:
    return await render(request, "events/import.html", title="Nhập sự kiện từ tệp", report=None)


async def import_file(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    upload = form.get("file")
    if not isinstance(upload, web.FileField) or not upload.filename:
        return await render(
            request,
            "events/import.html",
            status=400,
            title="Nhập sự kiện từ tệp",
            report=None,
            error="Chọn một tệp CSV hoặc XLSX để nhập.",
        )
    name = upload.filename[-100:]
    try:
        async with db(request) as session:
            report = await service.import_upload(
                session,
                name,
                upload.file.read(),
                actor=user_of(request).actor,
                now=now(request),
                cfg=_config(request),
            )
    except UnreadableFile as exc:
        return await render(
            request,
            "events/import.html",
            status=400,
            title="Nhập sự kiện từ tệp",
            report=None,
            error=str(exc),
        )
    return await render(
        request,
        "events/import.html",
        title="Nhập sự kiện từ tệp",
        report=report,
        summary=service.import_summary(report),
        name=name,
    )


def routes(router: PageRouter) -> None:
    router.get("", list_events)
    router.get("/new", new_form)
    router.post("/new", create)
    router.get("/import", import_form)
    router.post("/import", import_file)
    router.get(r"/{id:\d{1,9}}", edit_form)
    router.post(r"/{id:\d{1,9}}", save)
    router.post(r"/{id:\d{1,9}}/cancel", cancel)
    router.post(r"/{id:\d{1,9}}/reopen", reopen)
