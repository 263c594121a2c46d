"""«Hồ sơ»: draft applications for staff — the list with filters (status, province,
support content, dates) and pages, its XLSX export, one draft with every field, its
history and its request document, and the status change that tells the owner.

Everything here is reading the request and rendering: the filters, the workflow, the
export's rows and the notice to the owner are ``handlers.intake.service`` (the same
functions ``kcbot drafts`` calls). Filters travel in the query string and hold no personal
data; the note is POSTed and never logged.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from bot.web.core import (
    app_of,
    db,
    error_page,
    page_number,
    paginate,
    redirect,
    redirect_with_flash,
    render,
    user_of,
    xlsx_response,
)
from bot.web.pages import Page, PageRouter
from handlers.intake import service as S

PAGE = Page(title="Hồ sơ", path="drafts", min_role="staff", order=20)
PER_PAGE = 50
NOT_FOUND = "Không có hồ sơ #{id}."
TOLD = {
    "outbox": "đã nhắn chủ cơ sở qua chat",
    "recorded only": "chưa nhắn được chủ cơ sở (đã ghi vào lịch sử)",
}


def _filter(request: web.Request) -> tuple[S.DraftFilter, dict[str, str]]:
    return S.read_filter({k: request.query.get(k, "")[:40] for k in S.FILTER_KEYS})


def _choices() -> dict[str, Any]:
    return {
        "statuses": S.status_choices(),
        "provinces": S.province_choices(),
        "supports": S.support_choices(),
    }


async def _list(
    request: web.Request,
    flt: S.DraftFilter,
    found: S.DraftPage,
    *,
    errors: dict[str, str] | None = None,
    searched: str | None = None,
    status: int = 200,
) -> web.StreamResponse:
    query = flt.params()
    return await render(
        request,
        "drafts/list.html",
        status=status,
        title=PAGE.title,
        found=found,
        pagination=paginate(found.total, found.page, found.per_page),
        page_url=lambda n: request.rel_url.with_query({**query, "page": str(n)}).path_qs,
        export_url=request.rel_url.with_path(f"{PAGE.url}/export").with_query(query).path_qs,
        flt=flt,
        errors=errors or {},
        searched=searched,
        status_label=S.status_label,
        support_label=S.support_label,
        filtered=bool(query),
        **_choices(),
    )


async def list_page(request: web.Request) -> web.StreamResponse:
    flt, errors = _filter(request)
    async with db(request) as session:
        found = await S.list_drafts(session, flt, page_number(request), PER_PAGE)
    return await _list(request, flt, found, errors=errors)


async def search(request: web.Request) -> web.StreamResponse:
    """A draft by number or the drafts of a phone, typed in a POSTed form: a phone never
    appears in an address or a log."""
    text = str((await request.post()).get("q", ""))
    async with db(request) as session:
        found = await S.find_drafts(session, text)
    if found.draft_id is not None:
        return redirect(f"{PAGE.url}/{found.draft_id}")
    drafts = list(found.drafts)
    result = S.DraftPage(drafts, len(drafts), 1, max(1, len(drafts)))
    errors = {"q": found.error} if found.error else {}
    status = 200 if found.error is None else 400
    return await _list(
        request, S.DraftFilter(), result, errors=errors, searched=text[:40], status=status
    )


async def export(request: web.Request) -> web.StreamResponse:
    flt, _ = _filter(request)
    async with db(request) as session:
        headers, rows = await S.export_sheet(session, flt)
    # Writing the workbook takes seconds for thousands of rows: off the event loop, which
    # also answers the platforms' webhooks.
    return await asyncio.to_thread(xlsx_response, "ho-so.xlsx", rows, headers, sheet="Hồ sơ")


async def _detail(
    request: web.Request,
    draft_id: int,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> web.StreamResponse:
    async with db(request) as session:
        detail = await S.draft_detail(session, draft_id)
    if detail is None:
        return await error_page(request, 404, NOT_FOUND.format(id=draft_id))
    return await render(
        request,
        "drafts/detail.html",
        status=status,
        title=f"Hồ sơ #{draft_id}",
        detail=detail,
        status_label=S.status_label,
        errors=errors or {},
        form=form or {},
        max_note=S.MAX_NOTE,
    )


async def show(request: web.Request) -> web.StreamResponse:
    return await _detail(request, int(request.match_info["id"]))


async def document(request: web.Request) -> web.StreamResponse:
    draft_id = int(request.match_info["id"])
    async with db(request) as session:
        found = await S.draft_document(
            session, draft_id, centre_name=app_of(request).settings.centre_name
        )
    if found is None:
        return await error_page(request, 404, NOT_FOUND.format(id=draft_id))
    from handlers.intake.document import DOCX_MIME

    name, content = found
    return web.Response(
        body=content,
        content_type=DOCX_MIME,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


async def move(request: web.Request) -> web.StreamResponse:
    draft_id = int(request.match_info["id"])
    form = await request.post()
    status = str(form.get("status", "")).strip()
    note = str(form.get("note", ""))
    if not status:
        errors = {"status": "Chọn trạng thái mới."}
        return await _detail(request, draft_id, errors=errors, form={"note": note}, status=400)
    try:
        async with db(request) as session:
            change = await S.change_status(
                session, draft_id, status, actor=user_of(request).actor, note=note
            )
            told = TOLD.get(change.told, change.told)
    except S.StatusError as exc:
        if exc.field == "draft":
            return await error_page(request, 404, str(exc))
        errors = {exc.field: str(exc)}
        form_values = {"status": status, "note": note}
        return await _detail(request, draft_id, errors=errors, form=form_values, status=400)
    message = f"Đã chuyển hồ sơ #{draft_id} sang «{S.status_label(status)}»; {told}."
    return await redirect_with_flash(request, f"{PAGE.url}/{draft_id}", message)


def routes(router: PageRouter) -> None:
    router.get("", list_page)
    router.get("/export", export)
    router.post("/search", search)
    router.get("/{id:\\d{1,9}}", show)
    router.get("/{id:\\d{1,9}}/docx", document)
    router.post("/{id:\\d{1,9}}/status", move)
