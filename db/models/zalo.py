"""Zalo Official Account: the OAuth token pairs, and the messages Zalo bills.

A token pair is never updated in place: a refresh inserts the new pair and marks the old
one used in the same transaction, so whatever happens the database holds one unused pair
whose refresh token Zalo has not seen yet.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, utcnow


class ZaloOAToken(Base):
    __tablename__ = "zalo_oa_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    access_token: Mapped[str] = mapped_column(Text)
    refresh_token: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column()
    # seeded | refreshed
    source: Mapped[str] = mapped_column(String(16), default="seeded")
    # Set when a refresh spent this pair's refresh token (the new pair is the next row).
    used: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(nullable=True)


class ZaloOABilled(Base):
    """A message sent between 48 hours and 7 days after the user's last interaction:
    Zalo delivers it but bills the OA for it."""

    __tablename__ = "zalo_oa_billed"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chat_id: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_interaction: Mapped[datetime | None] = mapped_column(nullable=True)
