"""defects: a vote linked to a pitch says which of its options accepts the pitch

Revision ID: 0009_defects
Revises: 0009_privacy
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0009_defects"
down_revision = "0009_privacy"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("votes", sa.Column("accepting_option", sa.Integer(), nullable=True))
    # votes started before this: only an option spelled "voor" accepted the pitch
    bind = op.get_bind()
    for vote_id, options in bind.execute(sa.text("SELECT id, options FROM votes WHERE pitch_id IS NOT NULL")):
        folded = [str(o).strip().casefold() for o in json.loads(options)]
        if "voor" in folded:
            bind.execute(sa.text("UPDATE votes SET accepting_option = :i WHERE id = :id"),
                         {"i": folded.index("voor"), "id": vote_id})


def downgrade() -> None:
    with op.batch_alter_table("votes") as batch:
        batch.drop_column("accepting_option")
