"""Draft support applications (from the intake dialogue) and their status history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, utcnow

# in_progress: the owner is still answering (kept so /cancel or a restart loses nothing);
# abandoned: the owner chose to start again. The rest is the staff workflow.
STATUSES = (
    "in_progress",
    "abandoned",
    "draft",
    "submitted",
    "under_review",
    "approved",
    "rejected",
    "needs_changes",
)
STAFF_STATUSES = ("draft", "submitted", "under_review", "approved", "rejected", "needs_changes")


class Draft(Base):
    __tablename__ = "drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), index=True, default="in_progress")
    # The intake step the owner is at (in_progress only).
    step: Mapped[str | None] = mapped_column(String(32), nullable=True)
    support_type: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    facility_name: Mapped[str | None] = mapped_column(String(300), nullable=True)
    facility_kind: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reg_no: Mapped[str | None] = mapped_column(String(32), nullable=True)
    owner_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    province: Mapped[str | None] = mapped_column(String(100), nullable=True)
    province_code: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    commune: Mapped[str | None] = mapped_column(String(100), nullable=True)
    commune_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sector: Mapped[str | None] = mapped_column(String(300), nullable=True)
    products: Mapped[str | None] = mapped_column(Text, nullable=True)
    workers: Mapped[int | None] = mapped_column(Integer, nullable=True)
    plan: Mapped[str | None] = mapped_column(Text, nullable=True)
    estimated_cost: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    counterpart_funds: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    estimated_support: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    expected_results: Mapped[str | None] = mapped_column(Text, nullable=True)
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)
    # Why staff should look (eligibility unsure, ...), Vietnamese sentences.
    review_notes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # Every answer as given (the columns above are copies for listing and export).
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Indexed for the staff pages' date filter (0009_web_indexes).
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(nullable=True)


class DraftEvent(Base):
    """A status change or a notification: who, when, what, with a note."""

    __tablename__ = "draft_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    # status | notification
    kind: Mapped[str] = mapped_column(String(16), default="status")
    from_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    to_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
