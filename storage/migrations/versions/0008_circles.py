"""circles: the outer circle's ideas, their history, and the digests to the inner circle

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ideas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("theme", sa.String(length=60), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_key", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=400), nullable=True),
        sa.Column("channel", sa.String(length=255), nullable=False),
        sa.Column("thread", sa.String(length=255), nullable=False),
        sa.Column("link", sa.Text(), nullable=False),
        sa.Column("source_deleted", sa.Boolean(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("added_by", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("digest_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["members.id"], name=op.f("fk_ideas_author_id_members"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["added_by"], ["members.id"], name=op.f("fk_ideas_added_by_members"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["owner_id"], ["members.id"], name=op.f("fk_ideas_owner_id_members"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ideas")),
        sa.UniqueConstraint("text_key", name=op.f("uq_ideas_text_key")),
        sa.UniqueConstraint("source", name=op.f("uq_ideas_source")),
    )
    op.create_index(op.f("ix_ideas_status"), "ideas", ["status"])
    op.create_index(op.f("ix_ideas_digest_id"), "ideas", ["digest_id"])
    op.create_table(
        "idea_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idea_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["idea_id"], ["ideas.id"], name=op.f("fk_idea_events_idea_id_ideas"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["actor_id"], ["members.id"], name=op.f("fk_idea_events_actor_id_members"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idea_events")),
    )
    op.create_index(op.f("ix_idea_events_idea_id"), "idea_events", ["idea_id"])
    op.create_table(
        "digests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pages", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digests")),
        sa.UniqueConstraint("key", name=op.f("uq_digests_key")),
    )


def downgrade() -> None:
    op.drop_table("digests")
    op.drop_index(op.f("ix_idea_events_idea_id"), table_name="idea_events")
    op.drop_table("idea_events")
    op.drop_index(op.f("ix_ideas_digest_id"), table_name="ideas")
    op.drop_index(op.f("ix_ideas_status"), table_name="ideas")
    op.drop_table("ideas")
