"""ballot kinds: votes with several choices or a ranking, budget rounds of one circle

Revision ID: 0016_ballot_kinds
Revises: 0016_teams
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_ballot_kinds"
down_revision = "0016_teams"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("votes") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=10), server_default="single", nullable=False))
        batch.add_column(sa.Column("max_choices", sa.Integer(), server_default="1", nullable=False))
    with op.batch_alter_table("ballots") as batch:
        batch.add_column(sa.Column("choices", sa.Text(), server_default="", nullable=False))
    with op.batch_alter_table("budget_rounds") as batch:
        batch.add_column(sa.Column("circle", sa.String(length=20), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("budget_rounds") as batch:
        batch.drop_column("circle")
    with op.batch_alter_table("ballots") as batch:
        batch.drop_column("choices")
    with op.batch_alter_table("votes") as batch:
        batch.drop_column("max_choices")
        batch.drop_column("kind")
