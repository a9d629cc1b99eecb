"""expertise_terms: the term index covers the weight too, so a search never reads the table

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_expertise_terms_term", table_name="expertise_terms")
    op.create_index("ix_expertise_terms_term", "expertise_terms", ["term", "expertise_id", "weight"])


def downgrade() -> None:
    op.drop_index("ix_expertise_terms_term", table_name="expertise_terms")
    op.create_index("ix_expertise_terms_term", "expertise_terms", ["term", "expertise_id"])
