"""account domain index: the hosts Kenoma knows (GET /api/v1/instance/peers)

Revision ID: b7e3f9a2c415
Revises: b7d3f1a9c2e5
Create Date: 2026-12-03 09:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b7e3f9a2c415'
down_revision = 'b7d3f1a9c2e5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.create_index('ix_account_domain', ['domain'], unique=False)


def downgrade():
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.drop_index('ix_account_domain')
