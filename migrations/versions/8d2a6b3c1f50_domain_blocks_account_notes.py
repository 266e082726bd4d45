"""domain blocks and account notes

Revision ID: 8d2a6b3c1f50
Revises: 3b8d6f1a2c70
Create Date: 2026-12-03 07:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8d2a6b3c1f50'
down_revision = '3b8d6f1a2c70'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('domain_block',
    sa.Column('id', sa.String(length=18), nullable=False),
    sa.Column('account_id', sa.String(length=18), nullable=False),
    sa.Column('domain', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account_id', 'domain')
    )
    op.create_table('account_note',
    sa.Column('id', sa.String(length=18), nullable=False),
    sa.Column('account_id', sa.String(length=18), nullable=False),
    sa.Column('target_id', sa.String(length=18), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['target_id'], ['account.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account_id', 'target_id')
    )
    with op.batch_alter_table('account_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_note_target_id'), ['target_id'], unique=False)


def downgrade():
    with op.batch_alter_table('account_note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_note_target_id'))

    op.drop_table('account_note')
    op.drop_table('domain_block')
