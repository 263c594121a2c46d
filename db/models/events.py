"""Events, reminder subscriptions and the shared outbox of outgoing messages.

The outbox is not part of reminders: staff broadcasts and draft notifications use it too.
One row per (campaign, channel, chat_id) — the unique key is what makes enqueueing
idempotent — claimed by sender workers, sent once, every attempt recorded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, utcnow

EVENT_KINDS = ("deadline", "trade_fair", "selection", "training", "conference", "other")


class Event(Base):
    """Something with a date that owners should not miss (deadline, fair, course ...).

    ``starts_at``/``ends_at`` are UTC; ``all_day`` events were given as dates and start at
    00:00 Asia/Ho_Chi_Minh. ``key`` is the natural key (folded title, kind, local start
    date) that makes a re-import update the same event. Empty ``provinces`` or ``sectors``
    mean every province / every sector.
    """

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(16))
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime | None] = mapped_column(nullable=True)
    all_day: Mapped[bool] = mapped_column(Boolean, default=True)
    place: Mapped[str | None] = mapped_column(String(500), nullable=True)
    provinces: Mapped[list[Any]] = mapped_column(JSON, default=list)
    sectors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    contact: Mapped[str | None] = mapped_column(Text, nullable=True)
    source: Mapped[str | None] = mapped_column(Text, nullable=True)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Subscription(Base):
    """A user's wish to be reminded; one per user. Empty lists mean "all"."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    kinds: Mapped[list[Any]] = mapped_column(JSON, default=list)
    province: Mapped[str | None] = mapped_column(String(64), nullable=True)
    sectors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxMessage(Base):
    """One message to one chat, sent by the outbox workers.

    status: pending → sending (claimed, ``claimed_until`` is the lease) → sent | failed;
    cancelled when its reason went away (event cancelled, reminders stopped).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("campaign", "channel", "chat_id"),
        Index("ix_outbox_status_not_before", "status", "not_before"),
        Index("ix_outbox_channel_chat", "channel", "chat_id"),
        Index("ix_outbox_claim", "status", "priority", "not_before"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    # rows of [label, payload]
    buttons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    not_before: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claimed_until: Mapped[datetime | None] = mapped_column(nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # 0: a direct reply to a user's message (goes first), 1: bulk (reminders, broadcasts).
    priority: Mapped[int] = mapped_column(Integer, default=1)
    # A file to hand over with the text (the filled request), and a phone-number request.
    document_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    document: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    document_caption: Mapped[str | None] = mapped_column(Text, nullable=True)
    request_phone: Mapped[bool] = mapped_column(Boolean, default=False)


class OutboxAttempt(Base):
    """One try at sending an outbox row: sent, retry, rate_limited, blocked, failed, skipped."""

    __tablename__ = "outbox_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    outcome: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    worker: Mapped[str | None] = mapped_column(String(64), nullable=True)
