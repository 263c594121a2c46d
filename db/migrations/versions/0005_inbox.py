"""The durable inbox; outbox rows that carry direct replies (priority, document, phone request).

Revision ID: 0005_inbox
Revises: 0004_events
"""

import sqlalchemy as sa
from alembic import op

from db.models.base import UTCDateTime

revision = "0005_inbox"
down_revision = "0004_events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("external_id", sa.String(128), nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("incoming", sa.JSON(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claimed_until", UTCDateTime(), nullable=True),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("handled_at", UTCDateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_inbox"),
        sa.UniqueConstraint("channel", "external_id", name="uq_inbox_channel"),
    )
    op.create_index("ix_inbox_state_id", "inbox", ["state", "id"])
    op.create_index("ix_inbox_chat", "inbox", ["channel", "chat_id", "id"])
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("document_name", sa.String(255), nullable=True))
        batch.add_column(sa.Column("document", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("document_caption", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column("request_phone", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_index("ix_outbox_claim", "outbox", ["status", "priority", "not_before"])


def downgrade() -> None:
    op.drop_index("ix_outbox_claim", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        for name in ("request_phone", "document_caption", "document", "document_name", "priority"):
            batch.drop_column(name)
    op.drop_index("ix_inbox_chat", table_name="inbox")
    op.drop_index("ix_inbox_state_id", table_name="inbox")
    op.drop_table("inbox")
