"""markers

Revision ID: 7c1e5a9d2b40
Revises: 7c1f2a9d4e10
Create Date: 2026-12-03 07:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c1e5a9d2b40'
down_revision = '7c1f2a9d4e10'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('marker',
    sa.Column('id', sa.String(length=18), nullable=False),
    sa.Column('account_id', sa.String(length=18), nullable=False),
    sa.Column('timeline', sa.String(length=20), nullable=False),
    sa.Column('last_read_id', sa.String(length=255), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account_id', 'timeline')
    )


def downgrade():
    op.drop_table('marker')
