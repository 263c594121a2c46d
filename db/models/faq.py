"""Questions the FAQ could not answer, kept for staff to review and improve the content."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, utcnow


class UnansweredQuestion(Base):
    __tablename__ = "unanswered_questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    # normalize(text): lets staff group the same question typed different ways.
    normalized: Mapped[str] = mapped_column(Text, default="")
    # The closest entries at the time: [{"id", "topic", "score"}, ...], best first.
    candidates: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)
