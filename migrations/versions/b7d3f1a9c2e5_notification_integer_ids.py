"""notification ids become an integer sequence (SPEC 1.6)

Existing notifications are numbered 1, 2, 3... in the order of their flake ids, so paging and the
"read up to" markers keep their meaning; each account's notifications marker moves to the number
of the newest notification it covered.

Revision ID: b7d3f1a9c2e5
Revises: 06f108e84819
Create Date: 2026-12-03 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d3f1a9c2e5'
down_revision = '06f108e84819'
branch_labels = None
depends_on = None

COLUMNS = (
    'account_id, from_account_id, type, status_id, target_account_id, emoji, emoji_url, '
    'report_id, chat_message_id, is_seen, created_at'
)
INDEXES = (
    ('ix_notification_account_id_id', ['account_id', 'id']),
    ('ix_notification_from_account_id', ['from_account_id']),
    ('ix_notification_report_id', ['report_id']),
    ('ix_notification_status_id', ['status_id']),
    ('ix_notification_chat_message_id', ['chat_message_id']),
)


def _create(name, id_type, **kwargs):
    op.create_table(name,
    sa.Column('id', id_type, nullable=False, **kwargs.pop('id_kwargs', {})),
    sa.Column('account_id', sa.String(length=18), nullable=False),
    sa.Column('from_account_id', sa.String(length=18), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('status_id', sa.String(length=18), nullable=True),
    sa.Column('target_account_id', sa.String(length=18), nullable=True),
    sa.Column('emoji', sa.String(length=255), nullable=True),
    sa.Column('emoji_url', sa.String(length=1024), nullable=True),
    sa.Column('report_id', sa.String(length=18), nullable=True),
    sa.Column('chat_message_id', sa.String(length=18), nullable=True),
    sa.Column('is_seen', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['from_account_id'], ['account.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['status_id'], ['status.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['target_account_id'], ['account.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['chat_message_id'], ['chat_message_reference.id'], ondelete='CASCADE',
                            name='fk_notification_chat_message_id'),
    sa.PrimaryKeyConstraint('id'),
    **kwargs,
    )


FOREIGN_KEYS = ('account_id', 'from_account_id', 'report_id', 'status_id', 'target_account_id')


def _swap(new_name):
    """The copy takes the old table's name and indexes (SQLite index names are database-wide)."""
    op.drop_table('notification')
    op.rename_table(new_name, 'notification')
    if op.get_bind().dialect.name == 'postgresql':
        # PostgreSQL named the key, its index and the sequence after the copy: the names a table
        # created as `notification` has.
        op.execute(f'ALTER INDEX {new_name}_pkey RENAME TO notification_pkey')
        op.execute(f'ALTER SEQUENCE IF EXISTS {new_name}_id_seq RENAME TO notification_id_seq')
        for column in FOREIGN_KEYS:
            op.execute(f'ALTER TABLE notification RENAME CONSTRAINT {new_name}_{column}_fkey '
                       f'TO notification_{column}_fkey')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        for index, columns in INDEXES:
            batch_op.create_index(index, columns, unique=False)


def upgrade():
    bind = op.get_bind()
    op.create_table('notification_renumbering',
    sa.Column('old_id', sa.String(length=18), nullable=False),
    sa.Column('new_id', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('old_id'),
    )
    op.execute('INSERT INTO notification_renumbering (old_id, new_id) '
               'SELECT id, ROW_NUMBER() OVER (ORDER BY id) FROM notification')
    _create('notification_numbered', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
            id_kwargs={'autoincrement': True}, sqlite_autoincrement=True)
    op.execute(f'INSERT INTO notification_numbered (id, {COLUMNS}) '
               f'SELECT r.new_id, {COLUMNS} FROM notification JOIN notification_renumbering r ON r.old_id = notification.id')
    # A marker names the newest notification read: it becomes that notification's number, or the
    # number of the newest of the account's notifications below it (the one it named may be gone).
    op.execute(
        "UPDATE marker SET last_read_id = COALESCE(("
        " SELECT CAST(MAX(r.new_id) AS VARCHAR(255)) FROM notification n"
        " JOIN notification_renumbering r ON r.old_id = n.id"
        " WHERE n.account_id = marker.account_id AND n.id <= marker.last_read_id), '0')"
        " WHERE timeline = 'notifications'"
    )
    op.drop_table('notification_renumbering')
    _swap('notification_numbered')
    if bind.dialect.name == 'postgresql':
        # The ids were given explicitly: the sequence starts after the last of them.
        op.execute("SELECT setval(pg_get_serial_sequence('notification', 'id'), "
                   "COALESCE((SELECT MAX(id) FROM notification), 0) + 1, false)")


def _padded(expression, postgresql):
    """Zero-padded numbers sort as strings in the same order as the numbers did."""
    if postgresql:
        return f"LPAD(CAST({expression} AS VARCHAR(18)), 18, '0')"
    return f"printf('%018d', CAST({expression} AS INTEGER))"


def downgrade():
    postgresql = op.get_bind().dialect.name == 'postgresql'
    _create('notification_flake', sa.String(length=18))
    op.execute(f'INSERT INTO notification_flake (id, {COLUMNS}) '
               f'SELECT {_padded("id", postgresql)}, {COLUMNS} FROM notification')
    op.execute(f"UPDATE marker SET last_read_id = {_padded('last_read_id', postgresql)} "
               "WHERE timeline = 'notifications'")
    _swap('notification_flake')
