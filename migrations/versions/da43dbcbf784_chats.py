"""chats

Revision ID: da43dbcbf784
Revises: 7c1e5a9d2b40
Create Date: 2026-12-03 07:24:18.764184

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'da43dbcbf784'
down_revision = '7c1e5a9d2b40'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('chat',
    sa.Column('id', sa.String(length=18), nullable=False),
    sa.Column('account_id', sa.String(length=18), nullable=False),
    sa.Column('recipient_id', sa.String(length=18), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('activity_id', sa.String(length=18), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recipient_id'], ['account.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account_id', 'recipient_id')
    )
    with op.batch_alter_table('chat', schema=None) as batch_op:
        batch_op.create_index('ix_chat_account_activity', ['account_id', 'activity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_chat_recipient_id'), ['recipient_id'], unique=False)

    op.create_table('chat_message',
    sa.Column('id', sa.String(length=18), nullable=False),
    sa.Column('account_id', sa.String(length=18), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('media_id', sa.String(length=18), nullable=True),
    sa.Column('emojis', sa.JSON(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['media_id'], ['media.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('chat_message', schema=None) as batch_op:
        batch_op.create_index('ix_chat_message_account_key', ['account_id', 'idempotency_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_chat_message_media_id'), ['media_id'], unique=False)

    op.create_table('chat_message_reference',
    sa.Column('id', sa.String(length=18), nullable=False),
    sa.Column('chat_id', sa.String(length=18), nullable=False),
    sa.Column('message_id', sa.String(length=18), nullable=False),
    sa.Column('is_unread', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['chat_id'], ['chat.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['chat_message.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('chat_message_reference', schema=None) as batch_op:
        batch_op.create_index('ix_chat_message_reference_chat_id_id', ['chat_id', 'id'], unique=False)
        batch_op.create_index('ix_chat_message_reference_chat_unread', ['chat_id', 'is_unread'], unique=False)
        batch_op.create_index(batch_op.f('ix_chat_message_reference_message_id'), ['message_id'], unique=False)

    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chat_message_id', sa.String(length=18), nullable=True))
        batch_op.create_index(batch_op.f('ix_notification_chat_message_id'), ['chat_message_id'], unique=False)
        batch_op.create_foreign_key('fk_notification_chat_message_id', 'chat_message_reference', ['chat_message_id'], ['id'], ondelete='CASCADE')


def downgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_constraint('fk_notification_chat_message_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_notification_chat_message_id'))
        batch_op.drop_column('chat_message_id')

    with op.batch_alter_table('chat_message_reference', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_message_reference_message_id'))
        batch_op.drop_index('ix_chat_message_reference_chat_unread')
        batch_op.drop_index('ix_chat_message_reference_chat_id_id')

    op.drop_table('chat_message_reference')
    with op.batch_alter_table('chat_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_message_media_id'))
        batch_op.drop_index('ix_chat_message_account_key')

    op.drop_table('chat_message')
    with op.batch_alter_table('chat', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_recipient_id'))
        batch_op.drop_index('ix_chat_account_activity')

    op.drop_table('chat')
