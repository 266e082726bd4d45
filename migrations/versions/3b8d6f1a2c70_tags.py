"""followed tags, featured tags, suggestion dismissals

Revision ID: 3b8d6f1a2c70
Revises: da43dbcbf784
Create Date: 2026-12-03 08:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3b8d6f1a2c70'
down_revision = 'da43dbcbf784'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('tag_follow',
    sa.Column('id', sa.String(length=18), nullable=False),
    sa.Column('account_id', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account_id', 'name')
    )
    op.create_table('featured_tag',
    sa.Column('id', sa.String(length=18), nullable=False),
    sa.Column('account_id', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account_id', 'name')
    )
    op.create_table('suggestion_dismissal',
    sa.Column('id', sa.String(length=18), nullable=False),
    sa.Column('account_id', sa.String(length=18), nullable=False),
    sa.Column('target_id', sa.String(length=18), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['target_id'], ['account.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account_id', 'target_id')
    )
    with op.batch_alter_table('suggestion_dismissal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_suggestion_dismissal_target_id'), ['target_id'], unique=False)


def downgrade():
    with op.batch_alter_table('suggestion_dismissal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_suggestion_dismissal_target_id'))
    op.drop_table('suggestion_dismissal')
    op.drop_table('featured_tag')
    op.drop_table('tag_follow')
