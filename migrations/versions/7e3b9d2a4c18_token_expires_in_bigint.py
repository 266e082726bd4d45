"""oauth_token.expires_in as a 64-bit integer (PostgreSQL refuses Pleroma's century-long lifetime)

Revision ID: 7e3b9d2a4c18
Revises: 7e3b5d9a2c41
Create Date: 2026-12-03 09:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7e3b9d2a4c18'
down_revision = '7e3b5d9a2c41'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('oauth_token', schema=None) as batch_op:
        batch_op.alter_column('expires_in', existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=False)


def downgrade():
    with op.batch_alter_table('oauth_token', schema=None) as batch_op:
        batch_op.alter_column('expires_in', existing_type=sa.BigInteger(), type_=sa.Integer(), existing_nullable=False)
