"""«Cơ sở được giới thiệu»: collaborators' leads with possible duplicates marked, filters
in the address (status, province, collaborator, dates: nothing personal), one lead with its
history and a status change with a note, and the filtered list as XLSX. Every rule lives
in handlers.leads.service (``kcbot leads`` calls the same functions)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from bot.web.core import (
    db,
    error_page,
    now,
    page_number,
    page_url,
    redirect_with_flash,
    render,
    user_of,
    xlsx_response,
)
from bot.web.pages import Page, PageRouter
from handlers.leads import STATUS_LABELS
from handlers.leads import service as leads
from knowledge.formats import local_day

PAGE = Page(title="Cơ sở được giới thiệu", path="leads", min_role="staff", order=60)
NOT_FOUND = "Không có cơ sở này (có thể đã bị xoá theo thời hạn lưu dữ liệu)."


def _filter(request: web.Request) -> tuple[leads.LeadFilter, dict[str, str]]:
    q = request.query
    return leads.parse_filter(
        status=q.get("status", "")[:20],
        province=q.get("province", "")[:10],
        collaborator=q.get("collaborator", "")[:12],
        since=q.get("since", "")[:12],
        until=q.get("until", "")[:12],
    )


async def list_leads(request: web.Request) -> web.StreamResponse:
    flt, errors = _filter(request)
    async with db(request) as session:
        found = await leads.list_page(session, flt, page_number(request))
        collaborators = await leads.collaborators(session)
    query = flt.query()
    return await render(
        request,
        "leads/list.html",
        title=PAGE.title,
        found=found,
        flt=flt,
        errors=errors,
        statuses=leads.status_choices(),
        provinces=leads.province_choices(),
        collaborators=collaborators,
        export_url=f"{PAGE.url}/export" + (f"?{urlencode(query)}" if query else ""),
        page_link=lambda n: page_url(request, n),
    )


async def export(request: web.Request) -> web.StreamResponse:
    flt, errors = _filter(request)
    if errors:
        return await error_page(request, 400, " ".join(errors.values()))
    async with db(request) as session:
        rows = [leads.export_row(item) for item in await leads.matching(session, flt)]
    return xlsx_response(
        f"co-so-gioi-thieu-{local_day(now(request)):%Y%m%d}.xlsx",
        rows,
        leads.HEADERS,
        "Cơ sở giới thiệu",
    )


async def _show(
    request: web.Request,
    lead_id: int,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, Any] | None = None,
    status: int = 200,
) -> web.StreamResponse:
    async with db(request) as session:
        found = await leads.detail(session, lead_id)
    if found is None:
        return await error_page(request, 404, NOT_FOUND)
    return await render(
        request,
        "leads/detail.html",
        status=status,
        title=f"Cơ sở #{lead_id}",
        found=found,
        item=found.item,
        lead=found.item.lead,
        statuses=leads.status_choices(),
        status_labels=STATUS_LABELS,
        errors=errors or {},
        form=form or {"status": found.item.lead.status, "note": ""},
        note_limit=leads.NOTE_LIMIT,
    )


async def show(request: web.Request) -> web.StreamResponse:
    return await _show(request, int(request.match_info["id"]))


async def change_status(request: web.Request) -> web.StreamResponse:
    lead_id = int(request.match_info["id"])
    form = await request.post()
    status = str(form.get("status", ""))[:20]
    note = str(form.get("note", ""))[: leads.NOTE_LIMIT * 2]
    try:
        async with db(request) as session:
            lead, old = await leads.change_status(
                session, lead_id, status, actor=user_of(request).actor, note=note, now=now(request)
            )
            label = STATUS_LABELS[lead.status]
    except leads.LeadError as exc:
        if not exc.field:  # the lead itself is gone
            return await error_page(request, 404, str(exc))
        errors = {exc.field: str(exc)}
        return await _show(
            request, lead_id, errors=errors, form={"status": status, "note": note}, status=400
        )
    message = (
        f"Đã chuyển cơ sở #{lead_id} sang «{label}»."
        if old != lead.status
        else f"Đã ghi chú cho cơ sở #{lead_id}."
    )
    return await redirect_with_flash(request, f"{PAGE.url}/{lead_id}", message)


def routes(router: PageRouter) -> None:
    router.get("", list_leads)
    router.get("/export", export)
    router.get(r"/{id:\d{1,9}}", show)
    router.post(r"/{id:\d{1,9}}/status", change_status)
