"""Human handoff (tickets: a user's question to staff) and collaborators' leads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, utcnow

# open (nobody took it yet) → taken (a staff member owns it) → closed
TICKET_STATUSES = ("open", "taken", "closed")
# contact (the user asked), unsure (the FAQ could not answer), feedback («chưa đúng ý»)
TICKET_SOURCES = ("contact", "unsure", "feedback")
LEAD_STATUSES = ("new", "contacted", "applied", "ineligible")


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_status", "status"),
        Index("ix_tickets_chat", "channel", "chat_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    question: Mapped[str] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    source: Mapped[str] = mapped_column(String(16), default="contact")
    # The last exchange with the bot before the ticket (what the FAQ answered).
    context: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    staff_channel: Mapped[str | None] = mapped_column(String(16), nullable=True)
    staff_chat_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    staff_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # When the owner was told nobody answered in time (once per ticket).
    overdue_at: Mapped[datetime | None] = mapped_column(nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(nullable=True)


class Lead(Base):
    """A facility a collaborator registered as one that could apply."""

    __tablename__ = "leads"
    __table_args__ = (
        Index("ix_leads_phone", "phone"),
        Index("ix_leads_commune_code", "commune_code"),
        Index("ix_leads_collaborator", "channel", "chat_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # The collaborator who registered it.
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    collaborator: Mapped[str | None] = mapped_column(String(255), nullable=True)
    facility_name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200))
    owner_name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(32))
    province: Mapped[str] = mapped_column(String(100))
    province_code: Mapped[int] = mapped_column(Integer)
    commune: Mapped[str] = mapped_column(String(100))
    commune_code: Mapped[int] = mapped_column(Integer)
    sector: Mapped[str] = mapped_column(String(200))
    support: Mapped[str] = mapped_column(String(64))
    notes: Mapped[str] = mapped_column(Text, default="")
    # The collaborator confirmed the facility agreed to be contacted.
    consent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="new")
    draft_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class LeadEvent(Base):
    """A lead's status change by staff, with their note (deleted with the lead)."""

    __tablename__ = "lead_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
