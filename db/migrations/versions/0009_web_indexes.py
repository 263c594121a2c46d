"""Indexes for the staff pages: the «Hồ sơ» filters (province, support content, creation
date). The status filter has its index since 0003_drafts.

Revision ID: 0009_web_indexes
Revises: 0003_drafts
"""

from alembic import op

revision = "0009_web_indexes"
down_revision = "0003_drafts"
branch_labels = ("web_indexes",)
depends_on = None

INDEXES = {
    "ix_drafts_province_code": ("drafts", ["province_code"]),
    "ix_drafts_support_type": ("drafts", ["support_type"]),
    "ix_drafts_created_at": ("drafts", ["created_at"]),
}


def upgrade() -> None:
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, (table, _) in INDEXES.items():
        op.drop_index(name, table_name=table)
