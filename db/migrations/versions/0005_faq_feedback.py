"""FAQ: answers given and users' feedback on them.

Revision ID: 0005_faq_feedback
Revises: 0001_core
"""

import sqlalchemy as sa
from alembic import op

from db.models.base import UTCDateTime

revision = "0005_faq_feedback"
down_revision = "0001_core"
branch_labels = ("faq_feedback",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "faq_feedback",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("entry_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("question", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_faq_feedback"),
    )
    op.create_index("ix_faq_feedback_entry_kind", "faq_feedback", ["entry_id", "kind"])
    op.create_index("ix_faq_feedback_created_at", "faq_feedback", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_faq_feedback_created_at", table_name="faq_feedback")
    op.drop_index("ix_faq_feedback_entry_kind", table_name="faq_feedback")
    op.drop_table("faq_feedback")
