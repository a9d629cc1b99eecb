"""budget: trimester budget rounds and their approval ballots

Revision ID: 0009_budget
Revises: 0009_edge
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_budget"
down_revision = "0009_edge"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "budget_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("budget_cents", sa.BigInteger(), nullable=False),
        sa.Column("pitches", sa.Text(), nullable=False),
        sa.Column("electorate", sa.String(length=10), nullable=False),
        sa.Column("werkgebied", sa.String(length=100), nullable=False),
        sa.Column("secret", sa.Boolean(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=255), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["members.id"], name=op.f("fk_budget_rounds_created_by_members"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budget_rounds")),
    )
    op.create_table(
        "budget_ballots",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("voter", sa.String(length=40), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("choices", sa.Text(), nullable=False),
        sa.Column("cast_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["budget_rounds.id"], 
                                name=op.f("fk_budget_ballots_round_id_budget_rounds"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_budget_ballots_member_id_members"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("round_id", "voter", name=op.f("pk_budget_ballots")),
    )


def downgrade() -> None:
    op.drop_table("budget_ballots")
    op.drop_table("budget_rounds")
