"""proposals: pitches with their schools and history, votes and ballots

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pitches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("benefit", sa.Text(), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("cofunding_cents", sa.Integer(), nullable=False),
        sa.Column("theme", sa.String(length=100), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=False),
        sa.Column("submitter_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("meeting", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["submitter_id"], ["members.id"], name=op.f("fk_pitches_submitter_id_members"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pitches")),
    )
    op.create_index(op.f("ix_pitches_status"), "pitches", ["status"])
    op.create_table(
        "pitch_schools",
        sa.Column("pitch_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                name=op.f("fk_pitch_schools_organisation_id_organisations"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["pitch_id"], ["pitches.id"], name=op.f("fk_pitch_schools_pitch_id_pitches"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("pitch_id", "organisation_id", name=op.f("pk_pitch_schools")),
    )
    op.create_table(
        "pitch_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pitch_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["members.id"], name=op.f("fk_pitch_events_actor_id_members"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["pitch_id"], ["pitches.id"], name=op.f("fk_pitch_events_pitch_id_pitches"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pitch_events")),
    )
    op.create_index(op.f("ix_pitch_events_pitch_id"), "pitch_events", ["pitch_id"])
    op.create_table(
        "votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question", sa.String(length=300), nullable=False),
        sa.Column("options", sa.Text(), nullable=False),
        sa.Column("electorate", sa.String(length=20), nullable=False),
        sa.Column("werkgebied", sa.String(length=100), nullable=False),
        sa.Column("secret", sa.Boolean(), nullable=False),
        sa.Column("show_while_open", sa.Boolean(), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("quorum", sa.Integer(), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("pitch_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=255), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["members.id"], name=op.f("fk_votes_created_by_members"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["pitch_id"], ["pitches.id"], name=op.f("fk_votes_pitch_id_pitches"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_votes")),
    )
    op.create_table(
        "ballots",
        sa.Column("vote_id", sa.Integer(), nullable=False),
        sa.Column("voter", sa.String(length=40), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("option", sa.Integer(), nullable=False),
        sa.Column("cast_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_ballots_member_id_members"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["vote_id"], ["votes.id"], name=op.f("fk_ballots_vote_id_votes"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("vote_id", "voter", name=op.f("pk_ballots")),
    )


def downgrade() -> None:
    op.drop_table("ballots")
    op.drop_table("votes")
    op.drop_index(op.f("ix_pitch_events_pitch_id"), table_name="pitch_events")
    op.drop_table("pitch_events")
    op.drop_table("pitch_schools")
    op.drop_index(op.f("ix_pitches_status"), table_name="pitches")
    op.drop_table("pitches")
