"""pupil: held-back texts of the pupil-data check, coordinators and their log, circle membership

Revision ID: 0009_pupil
Revises: 0009_defects
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_pupil"
down_revision = "0009_defects"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_shares",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_pending_shares_member_id_members"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_pending_shares")),
    )
    op.create_index(op.f("ix_pending_shares_member_id"), "pending_shares", ["member_id"])
    op.create_index(op.f("ix_pending_shares_created_at"), "pending_shares", ["created_at"])
    op.create_table(
        "coordinators",
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("added_by", sa.Integer(), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["added_by"], ["members.id"], name=op.f("fk_coordinators_added_by_members"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("platform", "user_id", name=op.f("pk_coordinators")),
    )
    op.create_table(
        "coordinator_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("what", sa.String(length=200), nullable=False),
        sa.Column("outcome", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_coordinator_log_member_id_members"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coordinator_log")),
    )
    op.create_index(op.f("ix_coordinator_log_at"), "coordinator_log", ["at"])
    op.create_index(op.f("ix_coordinator_log_member_id"), "coordinator_log", ["member_id"])
    op.create_table(
        "circle_members",
        sa.Column("circle", sa.String(length=20), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("circle", "platform", "user_id", name=op.f("pk_circle_members")),
    )


def downgrade() -> None:
    op.drop_table("circle_members")
    op.drop_index(op.f("ix_coordinator_log_member_id"), table_name="coordinator_log")
    op.drop_index(op.f("ix_coordinator_log_at"), table_name="coordinator_log")
    op.drop_table("coordinator_log")
    op.drop_table("coordinators")
    op.drop_index(op.f("ix_pending_shares_created_at"), table_name="pending_shares")
    op.drop_index(op.f("ix_pending_shares_member_id"), table_name="pending_shares")
    op.drop_table("pending_shares")
