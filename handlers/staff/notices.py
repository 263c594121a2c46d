"""Staff are told of each newly confirmed draft (summary and DOCX) and of what other
features report (a new lead: ``notify_staff``), in working hours (the next working morning
otherwise), at most one digest message per 10 minutes."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import select, update

from db.models.drafts import Draft
from db.models.events import OutboxMessage
from db.repos.outbox import NewMessage, OutboxRepo
from db.repos.staff import NoticeRepo, RoleRepo
from knowledge.formats import LOCAL_TZ

WORK_START = time(7, 30)
WORK_END = time(17, 0)
DIGEST_EVERY = timedelta(minutes=10)


def working(moment: datetime) -> bool:
    local = moment.astimezone(LOCAL_TZ)
    return local.weekday() < 5 and WORK_START <= local.time() < WORK_END


async def flush(session: Any, now: datetime) -> int:
    """Send what staff have not heard of yet, if the moment allows; messages queued."""
    if not working(now):
        return 0
    repo = NoticeRepo(session)
    last = await repo.last_sent()
    if last is not None and now - last < DIGEST_EVERY:
        return 0
    notices = list(await repo.unsent())
    if not notices:
        return 0
    # A draft erased meanwhile (/xoadulieu: deleted, or kept without name and phone) is
    # not announced: its notice would carry what the owner asked to erase.
    draft_ids = [n.ref_id for n in notices if n.kind == "draft"]
    live = {
        d.id
        for d in await session.scalars(select(Draft).where(Draft.id.in_(draft_ids)))
        if d.owner_name or d.phone
    }
    gone = [n.id for n in notices if n.kind == "draft" and n.ref_id not in live]
    if gone:
        await repo.mark_sent(gone, now)
        notices = [n for n in notices if n.id not in gone]
    if not notices:
        return 0
    staff = await RoleRepo(session).staff_chats()
    if not staff:
        return 0  # kept until someone is given the staff role
    first = notices[0]
    campaign = f"notice:{first.id}-{notices[-1].id}"
    if len(notices) == 1:
        text = first.text
    else:
        lines = [f"🔔 {len(notices)} việc mới cho cán bộ:"]
        lines += [f"• {n.text.splitlines()[0].removeprefix('📝 ')}" for n in notices[:30]]
        if len(notices) > 30:
            lines.append(f"… và {len(notices) - 30} hồ sơ nữa (kcbot drafts list).")
        lines.append("Xem hồ sơ: kcbot drafts show ID.")
        text = "\n".join(lines)
    kinds = {n.kind for n in notices}
    rows: list[Any] = []
    if "draft" in kinds:
        rows.append([["📝 Hồ sơ mới", "staff:drafts"]])
    if "lead" in kinds:
        rows.append([["👥 Cơ sở được giới thiệu", "leads:list"]])
    messages = [NewMessage(campaign, ch, chat, text[:3500], rows, now) for ch, chat in staff]
    queued = await OutboxRepo(session).enqueue_many(messages, now)
    if len(notices) == 1 and first.document is not None:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.campaign == campaign)
            .values(
                document=first.document,
                document_name=first.document_name,
                document_caption=f"Hồ sơ #{first.ref_id}",
            )
        )
    await repo.mark_sent([n.id for n in notices], now)
    return queued
