"""remote polls: the counts another server's Question gives

Revision ID: b7e2f4a91c03
Revises: b7e3f9a2c415
Create Date: 2026-12-03 09:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e2f4a91c03'
down_revision = 'b7e3f9a2c415'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('poll', schema=None) as batch_op:
        batch_op.add_column(sa.Column('remote_tallies', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('remote_voters', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('poll', schema=None) as batch_op:
        batch_op.drop_column('remote_voters')
        batch_op.drop_column('remote_tallies')
