"""initial schema

Revision ID: 0001
Revises: 
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('deliveries',
    sa.Column('platform', sa.String(length=20), nullable=False),
    sa.Column('delivery_id', sa.String(length=255), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('platform', 'delivery_id', name=op.f('pk_deliveries'))
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deliveries_received_at'), ['received_at'], unique=False)

    op.create_table('organisations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('werkgebied', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations')),
    sa.UniqueConstraint('name_key', name=op.f('uq_organisations_name_key'))
    )
    op.create_table('search_terms',
    sa.Column('term', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('term', name=op.f('pk_search_terms'))
    )
    op.create_table('members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('role', sa.String(length=30), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('profile_fetched_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_members_organisation_id_organisations'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_members')),
    sa.UniqueConstraint('email', name=op.f('uq_members_email'))
    )
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_members_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('expertise',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('topic', sa.String(length=100), nullable=False),
    sa.Column('topic_key', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(member_id IS NULL) <> (organisation_id IS NULL)', name=op.f('ck_expertise_one_holder')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_expertise_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_expertise_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expertise')),
    sa.UniqueConstraint('member_id', 'topic_key', name='uq_expertise_member_topic'),
    sa.UniqueConstraint('organisation_id', 'topic_key', name='uq_expertise_organisation_topic')
    )
    with op.batch_alter_table('expertise', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_expertise_topic_key'), ['topic_key'], unique=False)

    op.create_table('identities',
    sa.Column('platform', sa.String(length=20), nullable=False),
    sa.Column('user_id', sa.String(length=255), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_identities_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('platform', 'user_id', name=op.f('pk_identities'))
    )
    with op.batch_alter_table('identities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identities_member_id'), ['member_id'], unique=False)

    op.create_table('expertise_terms',
    sa.Column('expertise_id', sa.Integer(), nullable=False),
    sa.Column('term', sa.String(length=100), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['expertise_id'], ['expertise.id'], name=op.f('fk_expertise_terms_expertise_id_expertise'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('expertise_id', 'term', name=op.f('pk_expertise_terms'))
    )
    with op.batch_alter_table('expertise_terms', schema=None) as batch_op:
        batch_op.create_index('ix_expertise_terms_term', ['term', 'expertise_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('expertise_terms', schema=None) as batch_op:
        batch_op.drop_index('ix_expertise_terms_term')

    op.drop_table('expertise_terms')
    with op.batch_alter_table('identities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identities_member_id'))

    op.drop_table('identities')
    with op.batch_alter_table('expertise', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_expertise_topic_key'))

    op.drop_table('expertise')
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_members_organisation_id'))

    op.drop_table('members')
    op.drop_table('search_terms')
    op.drop_table('organisations')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deliveries_received_at'))

    op.drop_table('deliveries')
