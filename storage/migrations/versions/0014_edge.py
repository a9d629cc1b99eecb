"""edge: the inbox of inputs acknowledged before they are handled

Revision ID: 0009_edge
Revises: 0009_pupil
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_edge"
down_revision = "0009_pupil"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox")),
    )


def downgrade() -> None:
    op.drop_table("inbox")
