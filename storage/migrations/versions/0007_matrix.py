"""matrix: the bot's session and sync token, direct rooms, shown buttons, polls

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "matrix_sessions",
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("device_id", sa.String(length=255), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("next_batch", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_matrix_sessions")),
    )
    op.create_table(
        "matrix_direct_rooms",
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("room_id", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_matrix_direct_rooms")),
    )
    op.create_table(
        "matrix_buttons",
        sa.Column("room_id", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("buttons", sa.Text(), nullable=False),
        sa.Column("shown_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("room_id", "user_id", name=op.f("pk_matrix_buttons")),
    )
    op.create_table(
        "matrix_polls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.String(length=255), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=True),
        sa.Column("text_event_id", sa.String(length=255), nullable=False),
        sa.Column("secret", sa.Boolean(), nullable=False),
        sa.Column("buttons", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matrix_polls")),
        sa.UniqueConstraint("event_id", name=op.f("uq_matrix_polls_event_id")),
    )


def downgrade() -> None:
    op.drop_table("matrix_polls")
    op.drop_table("matrix_buttons")
    op.drop_table("matrix_direct_rooms")
    op.drop_table("matrix_sessions")
