"""Keeping personal data no longer than needed: the retention pass.

``prune`` deletes (or, with ``dry_run``, counts) the rows past their keeping time, set in
days by the ``KCBOT_RETENTION_*`` settings. ``kcbot data prune`` runs it by hand; ``kcbot
run`` runs it daily.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.repos.files import LINK_DAYS, SharedFileRepo
from db.repos.inbox import InboxRepo
from db.repos.privacy import AuditRepo, RetentionRepo

# Result key → the setting that says how many days its rows are kept.
KEEP_DAYS: dict[str, str | int] = {
    "questions": "retention_question_days",
    "outbox": "retention_outbox_days",
    "drafts": "retention_draft_days",
    "conversations": "retention_draft_days",
    "updates": "retention_update_days",
    # Handled incoming events hold what people wrote; they are kept only to recognise a
    # platform's redelivery, like the update ids.
    "inbox": "retention_update_days",
    "leads": "retention_lead_days",
    # Download links (files shared with channels that take no documents) work 7 days.
    "files": LINK_DAYS,
}


def days_for(settings: Any, key: str) -> int:
    days = KEEP_DAYS[key]
    return days if isinstance(days, int) else int(getattr(settings, days))


async def prune(
    sessions: async_sessionmaker[AsyncSession],
    now: datetime,
    settings: Any,
    dry_run: bool = False,
    *,
    actor: str = "bot:retention",
) -> dict[str, int]:
    """Rows past their keeping time, per kind: deleted (or only counted), in one transaction.

    A real pass with anything deleted is recorded in the audit trail (counts only).
    """

    def before(key: str) -> datetime:
        return now - timedelta(days=days_for(settings, key))

    async with sessions() as session, session.begin():
        repo = RetentionRepo(session)
        counts = {
            "questions": await repo.questions(before("questions"), dry_run),
            "outbox": await repo.outbox(before("outbox"), dry_run),
            "drafts": await repo.abandoned_drafts(before("drafts"), dry_run),
            "conversations": await repo.conversations(before("conversations"), dry_run),
            "updates": await repo.update_ids(before("updates"), dry_run),
            "inbox": await _inbox(session, before("inbox"), dry_run),
            "leads": await repo.leads(before("leads"), dry_run),
            "files": await SharedFileRepo(session).prune(now, dry_run),
        }
        if not dry_run and any(counts.values()):
            detail = " ".join(f"{k}={v}" for k, v in counts.items())
            await AuditRepo(session).record(
                actor=actor, action="retention.prune", detail=detail, now=now
            )
    return counts


async def _inbox(session: AsyncSession, before: datetime, dry_run: bool) -> int:
    repo = InboxRepo(await session.connection())
    return await (repo.count_finished(before) if dry_run else repo.prune(before))
