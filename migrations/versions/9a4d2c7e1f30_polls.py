"""polls

Revision ID: 9a4d2c7e1f30
Revises: 8d2a6b3c1f50
Create Date: 2026-12-03 07:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9a4d2c7e1f30'
down_revision = '8d2a6b3c1f50'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('poll',
    sa.Column('id', sa.String(length=18), nullable=False),
    sa.Column('status_id', sa.String(length=18), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('is_multiple', sa.Boolean(), nullable=False),
    sa.Column('hides_totals', sa.Boolean(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('is_closed', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['status_id'], ['status.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('poll', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_poll_status_id'), ['status_id'], unique=True)

    op.create_table('poll_vote',
    sa.Column('id', sa.String(length=18), nullable=False),
    sa.Column('poll_id', sa.String(length=18), nullable=False),
    sa.Column('account_id', sa.String(length=18), nullable=False),
    sa.Column('choice', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['poll_id'], ['poll.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('poll_id', 'account_id', 'choice')
    )
    with op.batch_alter_table('poll_vote', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_poll_vote_account_id'), ['account_id'], unique=False)


def downgrade():
    with op.batch_alter_table('poll_vote', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_poll_vote_account_id'))

    op.drop_table('poll_vote')
    with op.batch_alter_table('poll', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_poll_status_id'))

    op.drop_table('poll')
