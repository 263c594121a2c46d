"""What the FAQ answered and what users thought of it: one row per answer given, per 👍
and per 👎 (with the question, for staff)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, utcnow

FEEDBACK_KINDS = ("given", "up", "down")


class FaqFeedback(Base):
    __tablename__ = "faq_feedback"
    __table_args__ = (Index("ix_faq_feedback_entry_kind", "entry_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    entry_id: Mapped[str] = mapped_column(String(64))
    # given | up | down
    kind: Mapped[str] = mapped_column(String(8))
    # The user's question (kept for "down", so that staff see what was misunderstood).
    question: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
