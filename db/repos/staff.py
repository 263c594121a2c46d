"""Roles, invite codes, announcements and staff notices: the queries behind the staff tools."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from db.models.core import User
from db.models.drafts import Draft
from db.models.events import OutboxAttempt, OutboxMessage, Subscription
from db.models.staff import Broadcast, Invite, StaffNotice

ROLES = ("owner", "collaborator", "staff", "admin")
STAFF_ROLES = ("staff", "admin")
# Invite codes: no 0/O, 1/I/L, so that a code read aloud or typed is not mistaken.
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


def new_code() -> str:
    """A code with letters and digits both (so that typed alone it is told from a word)."""
    while True:
        code = "".join(secrets.choice(_ALPHABET) for _ in range(CODE_LENGTH))
        if any(c.isdigit() for c in code) and any(c.isalpha() for c in code):
            return code


class RoleRepo:
    def __init__(self, session: Any) -> None:
        self.session = session

    async def role_of(self, channel: str, chat_id: str) -> str:
        role = await self.session.scalar(
            select(User.role).where(User.channel == channel, User.chat_id == chat_id)
        )
        return str(role or "owner")

    async def set_role(self, channel: str, chat_id: str, role: str, now: datetime) -> bool:
        """Give a chat a role; creates the user row for a chat not seen yet. True if changed."""
        user = await self.session.scalar(
            select(User).where(User.channel == channel, User.chat_id == chat_id)
        )
        if user is None:
            self.session.add(
                User(channel=channel, chat_id=chat_id, role=role, first_seen=now, last_seen=now)
            )
            await self.session.flush()
            return True
        if user.role == role:
            return False
        user.role = role
        await self.session.flush()
        return True

    async def users(self, role: str | None = None) -> Sequence[User]:
        query = select(User).order_by(User.role, User.channel, User.chat_id)
        # Without a role: everyone who has one other than «owner» (the default).
        query = query.where(User.role == role) if role else query.where(User.role != "owner")
        return (await self.session.scalars(query)).all()

    async def staff_chats(self) -> list[tuple[str, str]]:
        rows = await self.session.execute(
            select(User.channel, User.chat_id)
            .where(User.role.in_(STAFF_ROLES), User.unreachable.is_(False))
            .order_by(User.id)
        )
        return [(c, i) for c, i in rows.all()]


@dataclass
class Redeemed:
    outcome: str  # ok | unknown | used | expired
    role: str = ""


class InviteRepo:
    def __init__(self, session: Any) -> None:
        self.session = session

    async def create(self, role: str, hours: float, actor: str, now: datetime) -> Invite:
        invite = Invite(
            code=new_code(),
            role=role,
            created_by=actor,
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
        self.session.add(invite)
        await self.session.flush()
        return invite

    async def redeem(self, code: str, who: str, now: datetime) -> Redeemed:
        """Use a code once: the role it gives, or why not."""
        code = code.strip().upper()
        invite = await self.session.scalar(select(Invite).where(Invite.code == code))
        if invite is None:
            return Redeemed("unknown")
        if invite.used_at is not None:
            return Redeemed("used", invite.role)
        if invite.expires_at <= now:
            return Redeemed("expired", invite.role)
        # Conditional update: of two chats sending the code at once, one wins.
        result = await self.session.execute(
            update(Invite)
            .where(Invite.id == invite.id, Invite.used_at.is_(None))
            .values(used_at=now, used_by=who[:100])
        )
        if not result.rowcount:
            return Redeemed("used", invite.role)
        return Redeemed("ok", invite.role)


# --- announcements ----------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """What an announcement's audience is chosen by, for one chat."""

    channel: str
    chat_id: str
    role: str
    subscribed: bool
    provinces: frozenset[int]
    sectors: frozenset[str]
    kinds: frozenset[str]
    statuses: frozenset[str]


async def profiles(session: Any, province_code: Any, sector_keys: Any) -> list[Profile]:
    """Every reachable chat with what it told the bot (its drafts and reminder settings).

    ``province_code(text) -> int | None`` and ``sector_keys(text) -> set[str]`` read the
    free-text fields (kept out of the database layer)."""
    users = (
        await session.execute(
            select(User.id, User.channel, User.chat_id, User.role).where(
                User.unreachable.is_(False), User.channel != "system"
            )
        )
    ).all()
    subs = {
        uid: (active, province, list(sectors or []))
        for uid, active, province, sectors in (
            await session.execute(
                select(
                    Subscription.user_id,
                    Subscription.active,
                    Subscription.province,
                    Subscription.sectors,
                )
            )
        ).all()
    }
    drafts: dict[int, list[tuple[Any, ...]]] = {}
    for uid, code, sector, kind, status in (
        await session.execute(
            select(
                Draft.user_id, Draft.province_code, Draft.sector, Draft.facility_kind, Draft.status
            )
        )
    ).all():
        drafts.setdefault(uid, []).append((code, sector, kind, status))
    result = []
    for uid, channel, chat_id, role in users:
        provinces: set[int] = set()
        sectors: set[str] = set()
        kinds: set[str] = set()
        statuses: set[str] = set()
        active, sub_province, sub_sectors = subs.get(uid, (False, None, []))
        if active and sub_province:
            code = province_code(sub_province)
            if code is not None:
                provinces.add(code)
        if active:
            sectors.update(str(s) for s in sub_sectors)
        for code, sector, kind, status in drafts.get(uid, []):
            if code is not None:
                provinces.add(int(code))
            if sector:
                sectors.update(sector_keys(sector))
            if kind:
                kinds.add(kind)
            statuses.add(status)
        result.append(
            Profile(
                channel,
                chat_id,
                role,
                bool(active),
                frozenset(provinces),
                frozenset(sectors),
                frozenset(kinds),
                frozenset(statuses),
            )
        )
    return result


async def user_channels(session: Any) -> list[str]:
    """The channels people reach the bot on (an announcement can be limited to some)."""
    rows = await session.scalars(
        select(User.channel).where(User.channel != "system").distinct().order_by(User.channel)
    )
    return [str(c) for c in rows.all()]


# Delivery report keys, as in ``kcbot broadcast status --json``.
REPORT_KEYS = ("total", "sent", "failed", "unreachable", "outside_window", "pending", "cancelled")


class BroadcastRepo:
    def __init__(self, session: Any) -> None:
        self.session = session

    async def add(self, broadcast: Broadcast) -> Broadcast:
        self.session.add(broadcast)
        await self.session.flush()
        return broadcast

    async def get(self, broadcast_id: int) -> Broadcast | None:
        return await self.session.get(Broadcast, broadcast_id)  # type: ignore[no-any-return]

    async def list(self, limit: int = 50, offset: int = 0) -> Sequence[Broadcast]:
        query = select(Broadcast).order_by(Broadcast.id.desc()).offset(offset).limit(limit)
        return (await self.session.scalars(query)).all()

    async def count(self) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(Broadcast)) or 0)

    async def active(self) -> Sequence[Broadcast]:
        query = select(Broadcast).where(Broadcast.status == "queued").order_by(Broadcast.id)
        return (await self.session.scalars(query)).all()

    async def report(self, broadcast_id: int) -> dict[str, int]:
        """Counts read from the outbox rows of ``bc:<id>`` and, for failed rows, their
        attempts: blocked or skipped (unreachable), outside a messaging window, or failed."""
        campaign = f"bc:{broadcast_id}"
        rows = (
            await self.session.execute(
                select(OutboxMessage.status, func.count())
                .where(OutboxMessage.campaign == campaign)
                .group_by(OutboxMessage.status)
            )
        ).all()
        report = dict.fromkeys(REPORT_KEYS, 0)
        for status, n in rows:
            n = int(n)
            report["total"] += n
            if status == "sent":
                report["sent"] += n
            elif status in ("pending", "sending"):
                report["pending"] += n
            elif status == "cancelled":
                report["cancelled"] += n
        failed = dict(
            (
                await self.session.execute(
                    select(OutboxMessage.id, OutboxMessage.last_error).where(
                        OutboxMessage.campaign == campaign, OutboxMessage.status == "failed"
                    )
                )
            ).all()
        )
        outcomes: dict[int, set[str]] = {}
        if failed:
            for row_id, outcome in (
                await self.session.execute(
                    select(OutboxAttempt.outbox_id, OutboxAttempt.outcome).where(
                        OutboxAttempt.outbox_id.in_(
                            select(OutboxMessage.id).where(
                                OutboxMessage.campaign == campaign,
                                OutboxMessage.status == "failed",
                            )
                        )
                    )
                )
            ).all():
                outcomes.setdefault(row_id, set()).add(outcome)
        for row_id, error in failed.items():
            seen = outcomes.get(row_id, set())
            if "outside_window" in seen or "outside_window" in (error or ""):
                report["outside_window"] += 1
            elif seen & {"blocked", "skipped"} or (error or "") == "user unreachable":
                report["unreachable"] += 1
            else:
                report["failed"] += 1
        return report

    async def set_progress(self, broadcast_id: int, quarter: int) -> bool:
        """Move the reported quarter forward once (two workers never report it twice)."""
        result = await self.session.execute(
            update(Broadcast)
            .where(Broadcast.id == broadcast_id, Broadcast.progress < quarter)
            .values(progress=quarter)
        )
        return bool(result.rowcount)

    async def set_status(self, broadcast_id: int, status: str) -> None:
        await self.session.execute(
            update(Broadcast).where(Broadcast.id == broadcast_id).values(status=status)
        )


class NoticeRepo:
    def __init__(self, session: Any) -> None:
        self.session = session

    async def add(self, kind: str, ref_id: int, text: str, now: datetime) -> None:
        self.session.add(StaffNotice(kind=kind, ref_id=ref_id, text=text, created_at=now))
        await self.session.flush()

    async def unsent(self) -> Sequence[StaffNotice]:
        query = select(StaffNotice).where(StaffNotice.sent_at.is_(None)).order_by(StaffNotice.id)
        return (await self.session.scalars(query)).all()

    async def last_sent(self) -> datetime | None:
        return await self.session.scalar(select(func.max(StaffNotice.sent_at)))  # type: ignore[no-any-return]

    async def mark_sent(self, ids: list[int], now: datetime) -> None:
        """Sent (or dropped): the text and document are not kept past that (the outbox
        row carries them, and is pruned with the outbox)."""
        await self.session.execute(
            update(StaffNotice)
            .where(StaffNotice.id.in_(ids))
            .values(sent_at=now, text="", document=None, document_name=None)
        )


async def new_drafts(session: Any, limit: int = 10) -> tuple[int, Sequence[Draft]]:
    """Drafts confirmed by their owners and not yet handled by staff (status «draft»)."""
    count = await session.scalar(select(func.count()).where(Draft.status == "draft"))
    rows = (
        await session.scalars(
            select(Draft).where(Draft.status == "draft").order_by(Draft.id.desc()).limit(limit)
        )
    ).all()
    return int(count or 0), rows
