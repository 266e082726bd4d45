"""filters

Revision ID: 5c1e7a9d2b64
Revises: 5e7b1c9a2d64
Create Date: 2026-12-03 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5c1e7a9d2b64'
down_revision = '5e7b1c9a2d64'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('filter',
    sa.Column('id', sa.String(length=18), nullable=False),
    sa.Column('account_id', sa.String(length=18), nullable=False),
    sa.Column('title', sa.String(length=256), nullable=False),
    sa.Column('context', sa.JSON(), nullable=False),
    sa.Column('action', sa.String(length=8), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('filter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_filter_account_id'), ['account_id'], unique=False)

    op.create_table('filter_keyword',
    sa.Column('id', sa.String(length=18), nullable=False),
    sa.Column('filter_id', sa.String(length=18), nullable=False),
    sa.Column('keyword', sa.String(length=512), nullable=False),
    sa.Column('is_whole_word', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['filter_id'], ['filter.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('filter_keyword', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_filter_keyword_filter_id'), ['filter_id'], unique=False)

    op.create_table('filter_status',
    sa.Column('id', sa.String(length=18), nullable=False),
    sa.Column('filter_id', sa.String(length=18), nullable=False),
    sa.Column('status_id', sa.String(length=18), nullable=False),
    sa.ForeignKeyConstraint(['filter_id'], ['filter.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['status_id'], ['status.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('filter_id', 'status_id')
    )
    with op.batch_alter_table('filter_status', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_filter_status_status_id'), ['status_id'], unique=False)


def downgrade():
    with op.batch_alter_table('filter_status', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_filter_status_status_id'))

    op.drop_table('filter_status')
    with op.batch_alter_table('filter_keyword', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_filter_keyword_filter_id'))

    op.drop_table('filter_keyword')
    with op.batch_alter_table('filter', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_filter_account_id'))

    op.drop_table('filter')
