"""What staff do to the FAQ content from the web pages: save an entry, import and export a
spreadsheet, review the questions the bot could not answer.

The content itself is edited by ``knowledge.editing`` (the files the bot reads); this module
adds what needs the database and the running bot: each change is in the audit log as the
staff member who made it, the unanswered question an entry was written for is marked
handled, and the knowledge base of this process is reloaded at once (a bot in another
process sees the changed files within ``knowledge.kb.RELOAD_INTERVAL`` seconds).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models.faq import UnansweredQuestion
from db.repos.faq import UnansweredRepo
from db.repos.privacy import AuditRepo
from knowledge import editing
from knowledge.content import DEFAULT_DATA_DIR, ContentError


def kb_folder(settings: Any) -> Path:
    """Where ``kcbot kb`` and the bot read the content: one source of truth."""
    return Path(settings.kb_path) if getattr(settings, "kb_path", None) else DEFAULT_DATA_DIR


def reload(kb: Any) -> None:
    """The knowledge base this process serves answers from, reloaded now (if any)."""
    if kb is not None:
        kb.reload_if_changed(force=True)


async def save(
    session: AsyncSession,
    settings: Any,
    form: Mapping[str, str],
    *,
    actor: str,
    now: datetime,
    today: date,
    original_id: str | None = None,
    expected_version: str | None = None,
    from_question: int | None = None,
    kb: Any = None,
) -> editing.EditResult:
    """Add or change an entry; problems per field and nothing written when it is not valid."""
    result = await asyncio.to_thread(
        editing.save_entry,
        kb_folder(settings),
        form,
        today=today,
        original_id=original_id,
        expected_version=expected_version,
    )
    if not result.ok or result.entry is None:
        return result
    reload(kb)
    action = "faq.add" if result.created else "faq.edit"
    await AuditRepo(session).record(
        actor=actor, action=action, subject=f"faq:{result.entry.id}", now=now
    )
    if from_question is not None:
        await UnansweredRepo(session).resolve_group(from_question)
    return result


@dataclass(frozen=True)
class Imported:
    report: editing.ImportReport | None
    problems: list[str]


async def import_file(
    session: AsyncSession, settings: Any, path: Path, *, actor: str, now: datetime, kb: Any = None
) -> Imported:
    """Replace the content with a spreadsheet's (all or nothing; every bad row named)."""
    try:
        report = await asyncio.to_thread(editing.import_spreadsheet, path, kb_folder(settings))
    except ContentError as exc:
        return Imported(None, list(exc.problems))
    except editing.EditingUnavailable as exc:
        return Imported(None, [str(exc)])
    reload(kb)
    await AuditRepo(session).record(
        actor=actor,
        action="faq.import",
        detail=f"{report.entries} mục: thêm {report.added}, sửa {report.changed}, "
        f"xoá {report.removed}",
        now=now,
    )
    return Imported(report, [])


async def export_file(
    session: AsyncSession, settings: Any, path: Path, *, actor: str, now: datetime
) -> int:
    """Every entry to ``path`` (safe cells, owner-only); returns how many."""
    mode = getattr(settings, "file_mode_bits", 0o600)
    items = await asyncio.to_thread(editing.export_spreadsheet, kb_folder(settings), path, mode)
    await AuditRepo(session).record(
        actor=actor, action="faq.export", detail=f"{len(items)} mục", now=now
    )
    return len(items)


# --- questions the bot could not answer ---------------------------------------------------


@dataclass(frozen=True)
class Unanswered:
    question: UnansweredQuestion  # the latest way it was typed
    times: int
    nearest: list[tuple[str, str]]  # (entry id, title) the matcher found closest


async def unanswered(
    session: AsyncSession, kb: Any, offset: int, limit: int
) -> tuple[int, list[Unanswered]]:
    """Questions not handled yet, the same question typed differently counted once."""
    total, rows = await UnansweredRepo(session).groups(offset, limit)
    out = []
    for row, times in rows:
        nearest = []
        for candidate in row.candidates or []:
            entry = kb.entry(str(candidate.get("id"))) if kb is not None else None
            if entry is not None:
                nearest.append((entry.id, entry.title))
        out.append(Unanswered(row, times, nearest[:3]))
    return total, out


async def resolve(session: AsyncSession, question_id: int, *, actor: str, now: datetime) -> int:
    """Mark an unanswered question (and the same typed otherwise) handled."""
    count = await UnansweredRepo(session).resolve_group(question_id)
    if count:
        await AuditRepo(session).record(
            actor=actor,
            action="faq.unanswered.resolve",
            subject=f"unanswered:{question_id}",
            now=now,
        )
    return count


async def prefill(
    session: AsyncSession, *, ticket: int | None = None, question: int | None = None
) -> str:
    """The question a new entry starts from: a ticket's or an unanswered question's text."""
    if ticket is not None:
        from db.repos.handoff import TicketRepo

        row = await TicketRepo(session).get(ticket)
        return row.question.split("\n")[0].strip() if row is not None else ""
    if question is not None:
        found = await UnansweredRepo(session).get(question)
        return found.text.strip() if found is not None else ""
    return ""
