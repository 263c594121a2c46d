"""Indexes for the staff pages: the «Hồ sơ» filters (province, support content, creation
date) and the overview's count of drafts confirmed per day.

Revision ID: 0009_web_indexes
Revises: 0003_drafts
"""

from alembic import op

revision = "0009_web_indexes"
down_revision = "0003_drafts"
branch_labels = ("web_indexes",)
depends_on = None

INDEXES = {
    "ix_drafts_province_code": ["province_code"],
    "ix_drafts_support_type": ["support_type"],
    "ix_drafts_created_at": ["created_at"],
    "ix_drafts_confirmed_at": ["confirmed_at"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "drafts", columns)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="drafts")
