"""scheduling: occurrences, the outbox, meeting changes, agenda items, series settings

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "occurrences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_occurrences")),
        sa.UniqueConstraint("key", name=op.f("uq_occurrences_key")),
    )
    op.create_index("ix_occurrences_state_due_at", "occurrences", ["state", "due_at"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=True),
        sa.Column("channel", sa.String(length=255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("message_ref", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("key", name=op.f("uq_outbox_key")),
    )
    op.create_index("ix_outbox_sent_at_id", "outbox", ["sent_at", "id"])
    op.create_table(
        "meeting_changes",
        sa.Column("series", sa.String(length=60), nullable=False),
        sa.Column("planned", sa.Date(), nullable=False),
        sa.Column("skip_reason", sa.Text(), nullable=True),
        sa.Column("moved_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("changed_by", sa.Integer(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["changed_by"], ["members.id"], name=op.f("fk_meeting_changes_changed_by_members"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("series", "planned", name=op.f("pk_meeting_changes")),
    )
    op.create_table(
        "agenda_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("series", sa.String(length=60), nullable=False),
        sa.Column("planned", sa.Date(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_by", sa.Integer(), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["author_id"], ["members.id"], name=op.f("fk_agenda_items_author_id_members"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["removed_by"], ["members.id"], name=op.f("fk_agenda_items_removed_by_members"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agenda_items")),
    )
    op.create_index("ix_agenda_items_series_planned", "agenda_items", ["series", "planned"])
    op.create_table(
        "series_settings",
        sa.Column("series", sa.String(length=60), nullable=False),
        sa.Column("values", sa.Text(), nullable=False),
        sa.Column("changed_by", sa.Integer(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["changed_by"], ["members.id"], name=op.f("fk_series_settings_changed_by_members"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("series", name=op.f("pk_series_settings")),
    )


def downgrade() -> None:
    op.drop_table("series_settings")
    op.drop_index("ix_agenda_items_series_planned", table_name="agenda_items")
    op.drop_table("agenda_items")
    op.drop_table("meeting_changes")
    op.drop_index("ix_outbox_sent_at_id", table_name="outbox")
    op.drop_table("outbox")
    op.drop_index("ix_occurrences_state_due_at", table_name="occurrences")
    op.drop_table("occurrences")
