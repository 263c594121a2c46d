"""Core tables: users, conversations, processed updates.

Revision ID: 0001_core
Revises:
"""

import sqlalchemy as sa
from alembic import op

from db.models.base import UTCDateTime

revision = "0001_core"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(255), nullable=True),
        sa.Column("language", sa.String(16), nullable=True),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("unreachable", sa.Boolean(), nullable=False),
        sa.Column("first_seen", UTCDateTime(), nullable=False),
        sa.Column("last_seen", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("channel", "chat_id", name="uq_users_channel"),
    )
    op.create_table(
        "conversations",
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("dialogue", sa.String(32), nullable=True),
        sa.Column("step", sa.String(64), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("last_buttons", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("channel", "chat_id", name="pk_conversations"),
    )
    op.create_table(
        "processed_updates",
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("update_id", sa.String(128), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("channel", "update_id", name="pk_processed_updates"),
    )
    op.create_index("ix_processed_updates_received_at", "processed_updates", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_processed_updates_received_at", table_name="processed_updates")
    op.drop_table("processed_updates")
    op.drop_table("conversations")
    op.drop_table("users")
