"""What staff do with drafts — move one along the workflow and tell its owner — for the
command line now and the staff web pages later. No printing, no argument parsing here."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from db.models.base import utcnow
from db.models.drafts import STAFF_STATUSES, Draft
from db.repos.drafts import DraftRepo
from db.repos.outbox import NewMessage, OutboxRepo
from db.repos.privacy import AuditRepo
from handlers.intake.steps import STATUS_LABELS
from knowledge.support import catalogue

log = logging.getLogger(__name__)

# The staff workflow; ``force`` allows any other move between these.
TRANSITIONS = {
    "draft": {"submitted"},
    "submitted": {"under_review"},
    "under_review": {"approved", "rejected", "needs_changes"},
    "needs_changes": {"submitted", "under_review"},
    "approved": set(),
    "rejected": set(),
}


class StatusError(ValueError):
    """The change can't be made; ``str(exc)`` says why (Vietnamese, for staff).
    ``code``: 1 nothing to change, 2 not allowed."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class StatusChange:
    draft: Draft
    told: str  # "outbox" (queued for the owner's chat) or "recorded only"


def status_message(draft: Draft, note: str | None) -> str:
    """What the owner reads about the new status."""
    st = catalogue().get(draft.support_type)
    what = f" ({st.label})" if st else ""
    text = (
        f"📋 Hồ sơ #{draft.id}{what} của {draft.facility_name or 'cơ sở'}: "
        f"{STATUS_LABELS.get(draft.status, draft.status)}."
    )
    if note:
        text += f"\nGhi chú của cán bộ: {note}"
    if draft.status == "needs_changes":
        text += "\nBạn liên hệ Trung tâm để bổ sung hồ sơ nhé."
    return text


async def notify_owner(session: AsyncSession, draft: Draft, text: str) -> str:
    """Queue the message for the owner's chat (the outbox sends it) and record it in the
    draft's history. Returns "outbox", or "recorded only" if it could not be queued."""
    repo = DraftRepo(session)
    how = "recorded only"
    try:
        async with session.begin_nested():
            history = await repo.history(draft.id)
            moment = utcnow()
            message = NewMessage(
                f"draft-{draft.id}-{len(history)}", draft.channel, draft.chat_id, text, [], moment
            )
            await OutboxRepo(session).enqueue_many([message], moment)
        how = "outbox"
    except Exception:
        log.exception("could not queue the notification for draft %s", draft.id)
    await repo.record(draft, kind="notification", actor=f"bot:{how}", note=text)
    return how


async def change_status(
    session: AsyncSession,
    draft_id: int,
    status: str,
    *,
    actor: str,
    note: str | None = None,
    force: bool = False,
) -> StatusChange:
    """Move a confirmed draft to ``status`` along the workflow, then tell its owner."""
    if status not in STAFF_STATUSES:
        raise StatusError(f"Trạng thái phải là một trong: {', '.join(STAFF_STATUSES)}", 2)
    repo = DraftRepo(session)
    draft = await repo.get(draft_id)
    if draft is None or draft.status in ("in_progress", "abandoned"):
        raise StatusError(f"Không có hồ sơ #{draft_id} (đã xác nhận).", 1)
    if status == draft.status:
        raise StatusError(f"Hồ sơ #{draft.id} đã ở trạng thái {draft.status}.", 1)
    allowed = TRANSITIONS.get(draft.status, set())
    if status not in allowed and not force:
        raise StatusError(
            f"Không chuyển thẳng {draft.status} → {status} được "
            f"(được phép: {', '.join(sorted(allowed)) or 'không có'}); dùng --force nếu chắc.",
            2,
        )
    old = draft.status
    await repo.set_status(draft, status, actor=actor, note=note)
    # The audit trail: who, when, what — no personal data.
    await AuditRepo(session).record(
        actor=actor,
        action="draft.set_status",
        subject=f"draft:{draft.id}",
        detail=f"{old} -> {status}",
    )
    told = await notify_owner(session, draft, status_message(draft, note))
    return StatusChange(draft, told)
