"""Events, subscriptions, the outbox and its attempts.

Revision ID: 0004_events
Revises: 0001_core
"""

import sqlalchemy as sa
from alembic import op

from db.models.base import UTCDateTime

revision = "0004_events"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=True),
        sa.Column("all_day", sa.Boolean(), nullable=False),
        sa.Column("place", sa.String(500), nullable=True),
        sa.Column("provinces", sa.JSON(), nullable=False),
        sa.Column("sectors", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("contact", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.UniqueConstraint("key", name="uq_events_key"),
    )
    op.create_index("ix_events_starts_at", "events", ["starts_at"])
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("province", sa.String(64), nullable=True),
        sa.Column("sectors", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_subscriptions"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_subscriptions_user_id_users",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("user_id", name="uq_subscriptions_user_id"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("campaign", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("buttons", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("not_before", UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claimed_until", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("campaign", "channel", "chat_id", name="uq_outbox_campaign"),
    )
    op.create_index("ix_outbox_status_not_before", "outbox", ["status", "not_before"])
    op.create_index("ix_outbox_channel_chat", "outbox", ["channel", "chat_id"])
    op.create_table(
        "outbox_attempts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("worker", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox_attempts"),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["outbox.id"],
            name="fk_outbox_attempts_outbox_id_outbox",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_outbox_attempts_outbox_id", "outbox_attempts", ["outbox_id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_attempts_outbox_id", table_name="outbox_attempts")
    op.drop_table("outbox_attempts")
    op.drop_index("ix_outbox_channel_chat", table_name="outbox")
    op.drop_index("ix_outbox_status_not_before", table_name="outbox")
    op.drop_table("outbox")
    op.drop_table("subscriptions")
    op.drop_index("ix_events_starts_at", table_name="events")
    op.drop_table("events")
