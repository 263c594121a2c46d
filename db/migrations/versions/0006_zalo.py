"""Zalo Official Account: OAuth token pairs and billed messages.

Revision ID: 0006_zalo
Revises: 0001_core
"""

import sqlalchemy as sa
from alembic import op

from db.models.base import UTCDateTime

revision = "0006_zalo"
down_revision = "0001_core"
branch_labels = ("zalo",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "zalo_oa_tokens",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("refresh_token", sa.Text(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("used", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_zalo_oa_tokens"),
    )
    op.create_index("ix_zalo_oa_tokens_used", "zalo_oa_tokens", ["used"])
    op.create_table(
        "zalo_oa_billed",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=False),
        sa.Column("last_interaction", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_zalo_oa_billed"),
    )
    op.create_index("ix_zalo_oa_billed_sent_at", "zalo_oa_billed", ["sent_at"])


def downgrade() -> None:
    op.drop_index("ix_zalo_oa_billed_sent_at", table_name="zalo_oa_billed")
    op.drop_table("zalo_oa_billed")
    op.drop_index("ix_zalo_oa_tokens_used", table_name="zalo_oa_tokens")
    op.drop_table("zalo_oa_tokens")
