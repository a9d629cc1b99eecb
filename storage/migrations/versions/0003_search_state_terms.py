"""search state: the size of the vocabulary, so that reading it costs no count

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("search_state") as batch:
        batch.add_column(sa.Column("terms", sa.Integer(), server_default="0", nullable=False))
    op.execute("UPDATE search_state SET terms = (SELECT count(*) FROM search_terms)")


def downgrade() -> None:
    with op.batch_alter_table("search_state") as batch:
        batch.drop_column("terms")
