"""ops: a school's BRIN code with its vestiging (DUO's key), for `netwerkbot import duo`

Revision ID: 0009_ops
Revises: 0009_trust
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_ops"
down_revision = "0009_trust"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organisations") as batch:
        batch.add_column(sa.Column("brin", sa.String(length=6), nullable=True))
        batch.create_unique_constraint("uq_organisations_brin", ["brin"])


def downgrade() -> None:
    with op.batch_alter_table("organisations") as batch:
        batch.drop_constraint("uq_organisations_brin", type_="unique")
        batch.drop_column("brin")
