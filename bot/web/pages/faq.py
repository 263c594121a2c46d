"""«Nội dung hỏi đáp»: list and search the FAQ entries, edit one or add one (the checks of
``kcbot kb check``, problems next to their field), import and export a spreadsheet. Saved
entries go to the files the bot reads; the bot answers with them at once (this process)
or within seconds (another process). Rules live in ``knowledge.editing`` and
``handlers.faq.editing``."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.web.core import (
    admin_url,
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
from handlers.faq import editing as faq_editing
from knowledge import editing
from knowledge.content import MAX_ANSWER, MAX_TITLE, TOPICS, Entry
from knowledge.formats import local_day

PAGE = Page(title="Nội dung hỏi đáp", path="faq", min_role="staff", order=40)
PER_PAGE = 30
SEARCH_LIMIT = 50
MAX_UPLOAD = 5 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_ID = "{entry_id:[a-z0-9][a-z0-9-]{0,60}}"


def _today(request: web.Request) -> date:
    return local_day(now(request))


def _kb(request: web.Request) -> Any:
    return app_of(request).services.kb


def _entries(request: web.Request) -> list[Entry]:
    return editing.entries(faq_editing.kb_folder(app_of(request).settings))


async def _unavailable(request: web.Request, exc: Exception) -> web.StreamResponse:
    return await render(request, "faq/unavailable.html", status=503, title=PAGE.title, message=exc)


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 10 else None


async def list_entries(request: web.Request, *, query: str = "") -> web.StreamResponse:
    topic = request.query.get("topic", "")
    topic = topic if topic in TOPICS else ""
    try:
        found = editing.search(_entries(request), query, topic)
    except editing.EditingUnavailable as exc:
        return await _unavailable(request, exc)
    if query:  # a search answers on one page (its words are never in an address)
        pagination = paginate(min(len(found), SEARCH_LIMIT), 1, SEARCH_LIMIT)
    else:
        pagination = paginate(len(found), page_number(request), PER_PAGE)
    rows = found[pagination.offset : pagination.offset + pagination.limit]
    return await render(
        request,
        "faq/list.html",
        title=PAGE.title,
        rows=rows,
        total=len(found),
        query=query,
        topic=topic,
        topics=TOPICS,
        pagination=pagination,
        page_url=lambda n: page_url(request, n),
    )


async def search(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    return await list_entries(request, query=str(form.get("q") or "")[:200])


async def _editor(
    request: web.Request,
    values: dict[str, str],
    *,
    entry: Entry | None,
    version: str = "",
    problems: dict[str, list[str]] | None = None,
    question: int | None = None,
    ticket: int | None = None,
    status: int = 200,
) -> web.StreamResponse:
    return await render(
        request,
        "faq/edit.html",
        status=status,
        title=f"Sửa mục «{entry.title}»" if entry else "Thêm mục hỏi đáp",
        entry=entry,
        values=values,
        version=version,
        problems=problems or {},
        question=question,
        ticket=ticket,
        topics=TOPICS,
        max_answer=MAX_ANSWER,
        max_title=MAX_TITLE,
        placeholders=editing.ALLOWED_PLACEHOLDERS,
    )


async def new_form(request: web.Request) -> web.StreamResponse:
    ticket, question = _int(request.query.get("ticket")), _int(request.query.get("question"))
    async with db(request) as session:
        text = await faq_editing.prefill(session, ticket=ticket, question=question)
    values = {"questions": text, "reviewed": _today(request).isoformat()}
    return await _editor(request, values, entry=None, question=question, ticket=ticket)


def _find(request: web.Request) -> Entry | None:
    entry_id = request.match_info["entry_id"]
    return next((e for e in _entries(request) if e.id == entry_id), None)


async def edit_form(request: web.Request) -> web.StreamResponse:
    try:
        entry = _find(request)
    except editing.EditingUnavailable as exc:
        return await _unavailable(request, exc)
    if entry is None:
        return await _missing(request)
    values = editing.entry_to_form(entry)
    values["reviewed"] = _today(request).isoformat()  # saving it is reviewing it
    question = _int(request.query.get("question"))
    if question is not None:  # «Thêm vào mục …» from an unanswered question
        async with db(request) as session:
            text = await faq_editing.prefill(session, question=question)
        if text:
            values["questions"] = f"{values['questions']}\n{text}"
    return await _editor(
        request, values, entry=entry, version=editing.version(entry), question=question
    )


async def _missing(request: web.Request) -> web.StreamResponse:
    return await render(
        request,
        "faq/unavailable.html",
        status=404,
        title=PAGE.title,
        message="Không có mục này (có thể vừa bị đổi khi nhập bảng tính).",
    )


async def _save(request: web.Request, original: Entry | None) -> web.StreamResponse:
    form = await request.post()
    values = {key: str(form.get(key) or "") for key in editing.FORM_FIELDS}
    version = str(form.get("version") or "")
    question = _int(str(form.get("question") or ""))
    ticket = _int(str(form.get("ticket") or ""))
    try:
        async with db(request) as session:
            result = await faq_editing.save(
                session,
                app_of(request).settings,
                values,
                actor=user_of(request).actor,
                now=now(request),
                today=_today(request),
                original_id=original.id if original else None,
                expected_version=version or None,
                from_question=question,
                kb=_kb(request),
            )
    except editing.EditingUnavailable as exc:
        return await _unavailable(request, exc)
    if not result.ok or result.entry is None:
        return await _editor(
            request,
            values,
            entry=original,
            version=version,
            problems=result.problems,
            question=question,
            ticket=ticket,
            status=400,
        )
    verb = "Đã thêm" if result.created else "Đã lưu"
    message = f"{verb} mục «{result.entry.title}». Bot trả lời bằng nội dung mới từ bây giờ."
    if ticket is not None:  # written for a question: back to it, to answer the asker
        return await redirect_with_flash(request, admin_url(f"tickets/{ticket}"), message)
    return await redirect_with_flash(request, f"{PAGE.url}?topic={result.entry.topic}", message)


async def create(request: web.Request) -> web.StreamResponse:
    return await _save(request, None)


async def update(request: web.Request) -> web.StreamResponse:
    try:
        entry = _find(request)
    except editing.EditingUnavailable as exc:
        return await _unavailable(request, exc)
    if entry is None:
        return await _missing(request)
    return await _save(request, entry)


# --- spreadsheets ---------------------------------------------------------------------------


async def export(request: web.Request) -> web.StreamResponse:
    """The whole content as ``kcbot kb export`` writes it (safe cells), as a download."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "hoi-dap.xlsx"
        try:
            async with db(request) as session:
                await faq_editing.export_file(
                    session,
                    app_of(request).settings,
                    path,
                    actor=user_of(request).actor,
                    now=now(request),
                )
        except editing.EditingUnavailable as exc:
            return await _unavailable(request, exc)
        body = path.read_bytes()
    name = f"hoi-dap-{_today(request).isoformat()}.xlsx"
    return web.Response(
        body=body,
        content_type=XLSX,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',  # ASCII already
            "Cache-Control": "no-store",
        },
    )


async def import_form(request: web.Request) -> web.StreamResponse:
    return await render(request, "faq/import.html", title="Nhập hỏi đáp từ bảng tính")


async def import_file(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    upload = form.get("file")
    filename = getattr(upload, "filename", "") or ""
    suffix = Path(filename).suffix.lower()
    if upload is None or not filename or suffix not in (".xlsx", ".csv"):
        return await render(
            request,
            "faq/import.html",
            status=400,
            title="Nhập hỏi đáp từ bảng tính",
            error="Bạn chọn tệp .xlsx (hoặc .csv) đã xuất từ trang này rồi sửa.",
        )
    data = upload.file.read(MAX_UPLOAD + 1)  # type: ignore[union-attr]
    if len(data) > MAX_UPLOAD:
        return await render(
            request,
            "faq/import.html",
            status=400,
            title="Nhập hỏi đáp từ bảng tính",
            error="Tệp lớn quá 5 MB; bạn kiểm tra lại đúng tệp hỏi đáp chưa.",
        )
    with tempfile.TemporaryDirectory() as folder:
        # The name of the upload is not used as a path: only its extension.
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(data)
        async with db(request) as session:
            imported = await faq_editing.import_file(
                session,
                app_of(request).settings,
                path,
                actor=user_of(request).actor,
                now=now(request),
                kb=_kb(request),
            )
    if imported.report is None:
        problems = [editing.sheet_problem(p) for p in imported.problems]
        return await render(
            request,
            "faq/import.html",
            status=400,
            title="Nhập hỏi đáp từ bảng tính",
            error="Tệp có lỗi, chưa thay đổi gì. Sửa các dòng dưới đây rồi nhập lại.",
            problems=problems,
        )
    r = imported.report
    return await redirect_with_flash(
        request,
        PAGE.url,
        f"Đã nhập {r.entries} mục ({r.topics} chủ đề): thêm {r.added}, sửa {r.changed}, "
        f"xoá {r.removed}. Bot trả lời bằng nội dung mới từ bây giờ.",
    )


def routes(router: PageRouter) -> None:
    router.get("", list_entries)
    router.post("/search", search)
    router.get("/new", new_form)
    router.post("/new", create)
    router.get("/export.xlsx", export)
    router.get("/import", import_form)
    router.post("/import", import_file)
    router.get(f"/{_ID}/edit", edit_form)
    router.post(f"/{_ID}/edit", update)
