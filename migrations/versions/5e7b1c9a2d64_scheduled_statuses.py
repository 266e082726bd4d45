"""scheduled statuses

Revision ID: 5e7b1c9a2d64
Revises: 5e7c2a9b1d48
Create Date: 2026-12-03 07:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e7b1c9a2d64'
down_revision = '5e7c2a9b1d48'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('scheduled_status',
    sa.Column('id', sa.String(length=18), nullable=False),
    sa.Column('account_id', sa.String(length=18), nullable=False),
    sa.Column('scheduled_at', sa.DateTime(), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('app_name', sa.String(length=255), nullable=True),
    sa.Column('app_website', sa.String(length=1024), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('scheduled_status', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scheduled_status_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scheduled_status_scheduled_at'), ['scheduled_at'], unique=False)

    with op.batch_alter_table('media', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scheduled_status_id', sa.String(length=18), nullable=True))
        batch_op.create_index(batch_op.f('ix_media_scheduled_status_id'), ['scheduled_status_id'], unique=False)
        batch_op.create_foreign_key('fk_media_scheduled_status_id', 'scheduled_status', ['scheduled_status_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('media', schema=None) as batch_op:
        batch_op.drop_constraint('fk_media_scheduled_status_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_media_scheduled_status_id'))
        batch_op.drop_column('scheduled_status_id')

    with op.batch_alter_table('scheduled_status', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scheduled_status_scheduled_at'))
        batch_op.drop_index(batch_op.f('ix_scheduled_status_account_id'))

    op.drop_table('scheduled_status')
