"""search changes: what each raise of the search version changed, so caches forget only that

Revision ID: 0016_search_changes
Revises: 0016_ballot_kinds
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_search_changes"
down_revision = "0016_ballot_kinds"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "search_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("ref", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_changes")),
    )
    op.create_index(op.f("ix_search_changes_version"), "search_changes", ["version"])


def downgrade() -> None:
    op.drop_index(op.f("ix_search_changes_version"), table_name="search_changes")
    op.drop_table("search_changes")
