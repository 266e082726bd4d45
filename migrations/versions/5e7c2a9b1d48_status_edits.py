"""status edits

Revision ID: 5e7c2a9b1d48
Revises: 3b8d6e2f1a57
Create Date: 2026-12-03 08:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e7c2a9b1d48'
down_revision = '3b8d6e2f1a57'
branch_labels = None
depends_on = None


def upgrade():
    # status.edited_at already exists (the first schema has it); edits only add their history.
    op.create_table('status_edit',
    sa.Column('id', sa.String(length=18), nullable=False),
    sa.Column('status_id', sa.String(length=18), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('spoiler_text', sa.Text(), nullable=False),
    sa.Column('is_sensitive', sa.Boolean(), nullable=False),
    sa.Column('emojis', sa.JSON(), nullable=False),
    sa.Column('media', sa.JSON(), nullable=False),
    sa.Column('poll_options', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['status_id'], ['status.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('status_edit', schema=None) as batch_op:
        batch_op.create_index('ix_status_edit_status_id_created_at', ['status_id', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('status_edit', schema=None) as batch_op:
        batch_op.drop_index('ix_status_edit_status_id_created_at')

    op.drop_table('status_edit')
