"""lists

Revision ID: 7c1f2a9d4e10
Revises: 002359344890
Create Date: 2026-12-03 07:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c1f2a9d4e10'
down_revision = '002359344890'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('list',
    sa.Column('id', sa.String(length=18), nullable=False),
    sa.Column('account_id', sa.String(length=18), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('replies_policy', sa.String(length=16), nullable=False),
    sa.Column('is_exclusive', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('list', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_list_account_id'), ['account_id'], unique=False)

    op.create_table('list_account',
    sa.Column('id', sa.String(length=18), nullable=False),
    sa.Column('list_id', sa.String(length=18), nullable=False),
    sa.Column('account_id', sa.String(length=18), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['list_id'], ['list.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('list_id', 'account_id')
    )
    with op.batch_alter_table('list_account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_list_account_account_id'), ['account_id'], unique=False)


def downgrade():
    with op.batch_alter_table('list_account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_list_account_account_id'))

    op.drop_table('list_account')
    with op.batch_alter_table('list', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_list_account_id'))

    op.drop_table('list')
