"""privacy: when a member was last seen, and whether they were forgotten (pseudonymised)

Revision ID: 0009_privacy
Revises: 0009_ops
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_privacy"
down_revision = "0009_ops"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.drop_column("erased_at")
        batch.drop_column("last_seen_at")
