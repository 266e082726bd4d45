"""announcements and email confirmation

Revision ID: 4c7e9a1d3b62
Revises: 5c1e7a9d2b64
Create Date: 2026-12-03 07:36:01.178816

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4c7e9a1d3b62'
down_revision = '5c1e7a9d2b64'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('announcement',
    sa.Column('id', sa.String(length=18), nullable=False),
    sa.Column('content_source', sa.Text(), nullable=False),
    sa.Column('content_html', sa.Text(), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=True),
    sa.Column('ends_at', sa.DateTime(), nullable=True),
    sa.Column('is_all_day', sa.Boolean(), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('announcement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_announcement_published_at'), ['published_at'], unique=False)

    op.create_table('announcement_reaction',
    sa.Column('id', sa.String(length=18), nullable=False),
    sa.Column('account_id', sa.String(length=18), nullable=False),
    sa.Column('announcement_id', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['announcement_id'], ['announcement.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('announcement_id', 'name', 'account_id')
    )
    with op.batch_alter_table('announcement_reaction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_announcement_reaction_account_id'), ['account_id'], unique=False)

    op.create_table('announcement_read',
    sa.Column('id', sa.String(length=18), nullable=False),
    sa.Column('account_id', sa.String(length=18), nullable=False),
    sa.Column('announcement_id', sa.String(length=18), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['announcement_id'], ['announcement.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account_id', 'announcement_id')
    )
    with op.batch_alter_table('announcement_read', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_announcement_read_announcement_id'), ['announcement_id'], unique=False)

    op.create_table('email_confirmation_token',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.String(length=18), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash')
    )
    with op.batch_alter_table('email_confirmation_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_email_confirmation_token_account_id'), ['account_id'], unique=False)



def downgrade():
    with op.batch_alter_table('email_confirmation_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_email_confirmation_token_account_id'))

    op.drop_table('email_confirmation_token')
    with op.batch_alter_table('announcement_read', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_announcement_read_announcement_id'))

    op.drop_table('announcement_read')
    with op.batch_alter_table('announcement_reaction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_announcement_reaction_account_id'))

    op.drop_table('announcement_reaction')
    with op.batch_alter_table('announcement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_announcement_published_at'))

    op.drop_table('announcement')
