"""push subscriptions: policy and standard (Web Push delivery)

Revision ID: 7e3b5d9a2c41
Revises: b7e2f4a91c03
Create Date: 2026-12-03 09:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7e3b5d9a2c41'
down_revision = 'b7e2f4a91c03'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('push_subscription', schema=None) as batch_op:
        batch_op.add_column(sa.Column('policy', sa.String(length=16), server_default='all', nullable=False))
        batch_op.add_column(sa.Column('is_standard', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('push_subscription', schema=None) as batch_op:
        batch_op.drop_column('is_standard')
        batch_op.drop_column('policy')
