"""Consent to process personal data, and the audit trail of who did what.

``Consent``: one row per time a chat agreed (or refused) to the notice of a given version;
withdrawing sets ``withdrawn_at``. ``AuditEntry`` is generic (staff actions reuse it) and
holds no personal data: an actor (``user:<channel>:<chat>`` or ``os:<login>``), an action,
a subject id and a short detail such as counts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, utcnow


class Consent(Base):
    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_channel_chat", "channel", "chat_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    # What the notice was for ("intake": the support request and the centre's contact).
    purpose: Mapped[str] = mapped_column(String(32), default="intake")
    # The version of the notice text the person saw (handlers/privacy NOTICE_VERSION).
    version: Mapped[str] = mapped_column(String(16))
    agreed: Mapped[bool] = mapped_column(Boolean, default=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(nullable=True)


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(100), nullable=True)
    detail: Mapped[str | None] = mapped_column(String(500), nullable=True)
