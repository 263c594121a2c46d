"""Leads' status history: who moved a lead, when, with what note.

Revision ID: 0008_lead_history
Revises: 0006_handoff
"""

import sqlalchemy as sa
from alembic import op

from db.models.base import UTCDateTime

revision = "0008_lead_history"
down_revision = "0006_handoff"
branch_labels = ("lead_history",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lead_history",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("from_status", sa.String(16), nullable=False),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["leads.id"],
            name="fk_lead_history_lead_id_leads",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_lead_history"),
    )
    op.create_index("ix_lead_history_lead_id", "lead_history", ["lead_id"])


def downgrade() -> None:
    op.drop_index("ix_lead_history_lead_id", table_name="lead_history")
    op.drop_table("lead_history")
