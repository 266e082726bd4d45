"""activity (type, object_id) index: a deleted local object's Tombstone is found by its Delete

Revision ID: a19c4e7b2d05
Revises: 7e3b9d2a4c18
Create Date: 2026-12-03 12:20:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a19c4e7b2d05'
down_revision = '7e3b9d2a4c18'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.create_index('ix_activity_type_object', ['type', 'object_id'], unique=False)


def downgrade():
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.drop_index('ix_activity_type_object')
