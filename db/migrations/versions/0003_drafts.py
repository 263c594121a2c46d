"""Draft support applications and their history.

Revision ID: 0003_drafts
Revises: 0001_core
"""

import sqlalchemy as sa
from alembic import op

from db.models.base import UTCDateTime

revision = "0003_drafts"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "drafts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("step", sa.String(32), nullable=True),
        sa.Column("support_type", sa.String(32), nullable=True),
        sa.Column("facility_name", sa.String(300), nullable=True),
        sa.Column("facility_kind", sa.String(32), nullable=True),
        sa.Column("reg_no", sa.String(32), nullable=True),
        sa.Column("owner_name", sa.String(200), nullable=True),
        sa.Column("phone", sa.String(20), nullable=True),
        sa.Column("province", sa.String(100), nullable=True),
        sa.Column("province_code", sa.Integer(), nullable=True),
        sa.Column("commune", sa.String(100), nullable=True),
        sa.Column("commune_code", sa.Integer(), nullable=True),
        sa.Column("sector", sa.String(300), nullable=True),
        sa.Column("products", sa.Text(), nullable=True),
        sa.Column("workers", sa.Integer(), nullable=True),
        sa.Column("plan", sa.Text(), nullable=True),
        sa.Column("estimated_cost", sa.BigInteger(), nullable=True),
        sa.Column("counterpart_funds", sa.BigInteger(), nullable=True),
        sa.Column("estimated_support", sa.BigInteger(), nullable=True),
        sa.Column("expected_results", sa.Text(), nullable=True),
        sa.Column("needs_review", sa.Boolean(), nullable=False),
        sa.Column("review_notes", sa.JSON(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("confirmed_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_drafts"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_drafts_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_drafts_user_id", "drafts", ["user_id"])
    op.create_index("ix_drafts_status", "drafts", ["status"])
    op.create_table(
        "draft_history",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("draft_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("from_status", sa.String(20), nullable=True),
        sa.Column("to_status", sa.String(20), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_draft_history"),
        sa.ForeignKeyConstraint(
            ["draft_id"],
            ["drafts.id"],
            name="fk_draft_history_draft_id_drafts",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_draft_history_draft_id", "draft_history", ["draft_id"])


def downgrade() -> None:
    op.drop_index("ix_draft_history_draft_id", table_name="draft_history")
    op.drop_table("draft_history")
    op.drop_index("ix_drafts_status", table_name="drafts")
    op.drop_index("ix_drafts_user_id", table_name="drafts")
    op.drop_table("drafts")
