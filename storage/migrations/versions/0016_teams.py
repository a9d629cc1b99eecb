"""teams: the conversations the bot may write to on Microsoft Teams (issue 20)

Revision ID: 0016_teams
Revises: 0009_budget
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_teams"
down_revision = "0009_budget"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "teams_conversations",
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("service_url", sa.String(length=500), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("team_id", sa.String(length=255), nullable=False),
        sa.Column("bot_id", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_teams_conversations")),
    )
    op.create_index(op.f("ix_teams_conversations_user_id"), "teams_conversations", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_teams_conversations_user_id"), table_name="teams_conversations")
    op.drop_table("teams_conversations")
