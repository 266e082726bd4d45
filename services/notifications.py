"""Creating and removing notifications (SPEC 20.4): never about one's own actions, never from an
account the recipient blocks, never for a thread the recipient muted."""

from __future__ import annotations

import functools
from collections.abc import Iterable

import orjson
from flask import has_request_context
from flask import request
from sqlalchemy import BindParameter
from sqlalchemy import Delete
from sqlalchemy import Select
from sqlalchemy import bindparam
from sqlalchemy import delete
from sqlalchemy import exists
from sqlalchemy import false
from sqlalchemy import insert
from sqlalchemy import literal_column
from sqlalchemy import select
from sqlalchemy import true
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.visitors import replacement_traverse

import readcache
from models import Account
from models import Block
from models import Follow
from models import Notification
from models import PushSubscription
from models import Status
from models import ThreadMute
from models import cached_statement
from models import db
from models import utcnow
from portable_sql import among
from precompiled import Precompiled
from streaming import events as stream_events

# IN lists stay well under SQLite's bound-parameter limit.
CHUNK = 500


def _suppression_statement(with_thread: bool) -> Select:
    """Everything notify() checks, in one statement (built once, models.cached_statement):
    whether the recipient blocks the actor, muted the thread, follows the actor, its
    notification settings, whether it is another server's, and whether it has a push
    subscription (so the push lookup after the commit is not another statement)."""
    recipient, actor = bindparam("recipient_id"), bindparam("actor_id")
    blocks = exists().where(Block.account_id == recipient, Block.target_id == actor)
    muted = (
        exists().where(ThreadMute.account_id == recipient, ThreadMute.context_id == bindparam("context_id"))
        if with_thread
        else false()
    )
    follows = exists().where(
        Follow.follower_id == recipient, Follow.followee_id == actor, Follow.is_pending.is_(False)
    )
    settings = select(Account.notification_settings).where(Account.id == recipient).scalar_subquery()
    # An account of another server reads its notifications there: none are kept for it here.
    remote = exists().where(Account.id == recipient, Account.domain.is_not(None))
    subscribed = exists().where(PushSubscription.account_id == recipient)
    return select(blocks, muted, follows, settings, remote, subscribed)


def suppression_columns(dialect: Dialect, recipient: str, actor: str, thread: str) -> str:
    """notify()'s checks as the six columns of a hand-written select whose rows hold the
    recipient, the actor and the thread as the SQL expressions given (interactions'
    account_and_status): _suppression_statement's own rules compiled for `dialect`, those
    expressions in place of its parameters, so the rules are written once."""
    columns = {"recipient_id": recipient, "actor_id": actor, "context_id": thread}

    def in_place(element: ClauseElement) -> ClauseElement | None:
        if isinstance(element, BindParameter) and element.key in columns:
            return literal_column(columns[element.key])
        return None

    statement = replacement_traverse(_suppression_statement(True), {}, in_place)
    return ", ".join(
        str(column.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        for column in statement.selected_columns
    )


@functools.cache
def _suppression_compiled(with_thread: bool) -> Precompiled:
    """The checks compiled once, run as their SQL (readcache.request_rows)."""
    return Precompiled(cached_statement(_suppression_statement, with_thread))


def _suppression_row(recipient_id: str, actor_id: str, context_id: int | None) -> tuple:
    """(blocked, muted, follows, settings, remote, subscribed) for notify()'s checks, on the probe
    or the Session's connection (readcache.request_rows: a check after a write of the same
    transaction sees that write)."""
    row = _known_row(recipient_id, actor_id, context_id)
    if row is None:
        values = {"recipient_id": recipient_id, "actor_id": actor_id}
        if context_id is not None:
            values["context_id"] = context_id
        row = readcache.request_rows(_suppression_compiled(context_id is not None), values)[0]
    settings = row[3]
    if isinstance(settings, str):  # SQLite's JSON is text; psycopg parses PostgreSQL's
        settings = orjson.loads(settings)
    return row[0], row[1], row[2], settings, row[4], row[5]


# Key of the request's WSGI environ: notify()'s checks read by the request's own status
# statement. The environ lives exactly as long as the request (flask.g may outlive it).
_KNOWN = "kenoma.notify_checks"


def known_checks(recipient_id: str, actor_id: str, context_id: int | None, row: tuple) -> None:
    """Hand over notify()'s checks for (recipient, actor, thread), as _suppression_row reads
    them, read by a statement the request made anyway (interactions.account_and_status: the
    caller and the status a favourite or a reaction acts on): one statement fewer."""
    request.environ.setdefault(_KNOWN, {})[(recipient_id, actor_id, context_id)] = row


def _known_row(recipient_id: str, actor_id: str, context_id: int | None) -> tuple | None:
    """The checks handed over by this request for these ids, while its Session has not begun:
    they were read on the probe, as request_rows would read them now (a write of the request's
    own transaction, which they would not see, begins the Session)."""
    if not has_request_context() or db.session().in_transaction():
        return None
    known = request.environ.get(_KNOWN)
    return known.pop((recipient_id, actor_id, context_id), None) if known else None


def _suppressed(recipient_id: str, actor_id: str, status: Status | None) -> bool:
    if recipient_id == actor_id:
        return True
    context_id = status.context_id if status is not None else None
    blocked, muted, follows, settings, remote, subscribed = _suppression_row(
        recipient_id, actor_id, context_id
    )
    stream_events.push_subscription_known(recipient_id, bool(subscribed))
    # `block_from_strangers` (SPEC 11): only accounts the recipient follows may notify it.
    from_stranger = bool((settings or {}).get("block_from_strangers")) and not follows
    return bool(blocked or muted or from_stranger or remote)


def notify(
    recipient: Account | str,
    actor: Account,
    type_: str,
    status: Status | None = None,
    target: Account | None = None,
    emoji: str | None = None,
    emoji_url: str | None = None,
) -> Notification | None:
    """Add a notification to the session (the caller commits with its own change)."""
    values = notification_values(recipient, actor, type_, status, target, emoji, emoji_url)
    if values is None:
        return None
    notification = Notification(**values)
    db.session.add(notification)
    return notification


def notification_values(
    recipient: Account | str,
    actor: Account,
    type_: str,
    status: Status | None = None,
    target: Account | None = None,
    emoji: str | None = None,
    emoji_url: str | None = None,
) -> dict | None:
    """The notification notify() would add, as column values, or None when it is suppressed.
    For a write made of Core statements: check before taking the write lock, then insert with
    ADD_NOTIFICATION and stamped() once the change it reports is made."""
    recipient_id = recipient if isinstance(recipient, str) else recipient.id
    if _suppressed(recipient_id, actor.id, status):
        return None
    return {
        "account_id": recipient_id,
        "from_account_id": actor.id,
        "type": type_,
        "status_id": status.id if status else None,
        "target_account_id": target.id if target else None,
        "emoji": emoji,
        "emoji_url": emoji_url,
    }


# RETURNING: the database numbers notifications, and streaming and push need those numbers.
ADD_NOTIFICATION = insert(Notification).returning(Notification.id, Notification.account_id)


def stamped(values: dict) -> dict:
    """Time given when the row is written; the database numbers it then, so notification ids
    follow commit order (writes are serialised)."""
    return values | {"report_id": None, "is_seen": False, "created_at": utcnow()}


# One notification (a favourite's, a reaction's) as its compiled SQL (precompiled.py): the
# columns stamped(notification_values()) gives, bound by name; the rest take their defaults.
_ONE_KEYS = frozenset(
    (
        "account_id",
        "from_account_id",
        "type",
        "status_id",
        "target_account_id",
        "emoji",
        "emoji_url",
        "report_id",
        "is_seen",
        "created_at",
    )
)
_ADD_ONE_NOTIFICATION = Precompiled(
    insert(Notification)
    .values({key: bindparam(key) for key in sorted(_ONE_KEYS)})
    .returning(Notification.id, Notification.account_id)
)


def add_notifications(values: list[dict]) -> None:
    """Insert notifications (notification_values() rows) with one statement; each is streamed,
    and pushed, once the transaction commits."""
    if not values:
        return
    rows = [stamped(v) for v in values]
    connection = db.session.connection()
    if len(rows) == 1 and rows[0].keys() == _ONE_KEYS:
        added = _ADD_ONE_NOTIFICATION.execute(connection, rows[0])
    else:
        added = connection.execute(ADD_NOTIFICATION, rows)
    for notification_id, account_id in added.all():
        stream_events.notification_created(notification_id, account_id)


def notify_many(
    recipient_ids: Iterable[str], actor: Account, type_: str, target: Account | None = None
) -> int:
    """notify() for many recipients of one action without a status (imports, moves): the same
    rules, checked with a few queries per chunk instead of several per recipient, and the rows
    written with one executemany. Returns how many notifications were added."""
    wanted = [rid for rid in dict.fromkeys(recipient_ids) if rid != actor.id]
    rows: list[dict] = []
    subscribed: set[str] = set()
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        rows += _notifiable(chunk, actor, type_, target)
        subscribed.update(_push_subscribed(chunk))
    if rows:
        added = db.session.connection().execute(ADD_NOTIFICATION, rows)
        for notification_id, account_id in added.all():
            # Only a subscribed recipient is remembered for the push after the commit: the
            # others' (notification, recipient) pairs and that lookup of thousands of ids were
            # most of a follow import's peak beside its events (bench/README.md, part N).
            if account_id in subscribed:
                stream_events.push_subscription_known(account_id, True)
                stream_events.notification_created(notification_id, account_id)
            else:
                stream_events.notification_created(notification_id)
    return len(rows)


def _notifiable(chunk: list[str], actor: Account, type_: str, target: Account | None) -> list[dict]:
    """The notification rows for the recipients of `chunk` that notify_many may notify."""
    blocking = set(
        db.session.scalars(
            select(Block.account_id).where(Block.target_id == actor.id, among(Block.account_id, chunk))
        )
    )
    strict = list(
        db.session.scalars(
            select(Account.id).where(
                among(Account.id, chunk),
                Account.notification_settings["block_from_strangers"].as_boolean() == true(),
            )
        )
    )
    friends = set()
    if strict:
        friends = set(
            db.session.scalars(
                select(Follow.follower_id).where(
                    Follow.followee_id == actor.id,
                    among(Follow.follower_id, strict),
                    Follow.is_pending.is_(False),
                )
            )
        )
    strangers = set(strict) - friends
    now = utcnow()
    return [
        {
            "account_id": rid,
            "from_account_id": actor.id,
            "type": type_,
            "target_account_id": target.id if target else None,
            "created_at": now,
        }
        for rid in chunk
        if rid not in blocking and rid not in strangers
    ]


def _push_subscribed(chunk: list[str]) -> set[str]:
    """The recipients of `chunk` with a push subscription."""
    query = select(PushSubscription.account_id).where(among(PushSubscription.account_id, chunk))
    return set(db.session.scalars(query))


def withdraw(
    type_: str,
    actor_id: str,
    recipient_id: str | None = None,
    status_id: str | None = None,
    emoji: str | None = None,
) -> None:
    """Undoing an action (unfollow, unfavourite, unreact) removes what it notified. A Core
    statement built once per shape on the session's connection: the ORM's bulk delete would
    first look for the rows among the session's objects, and cost several times more; a request
    that undoes an action has loaded no notification."""
    values = {"type": type_, "actor_id": actor_id}
    for name, value in (("recipient_id", recipient_id), ("status_id", status_id), ("emoji", emoji)):
        if value is not None:
            values[name] = value
    statement = cached_statement(
        _withdraw_compiled, recipient_id is not None, status_id is not None, emoji is not None
    )
    statement.execute(db.session.connection(), values)


def _withdraw_compiled(by_recipient: bool, by_status: bool, by_emoji: bool) -> Precompiled:
    """Run as its compiled SQL (precompiled.py): no cache-key hashing per execution."""
    return Precompiled(_withdraw_statement(by_recipient, by_status, by_emoji))


def _withdraw_statement(by_recipient: bool, by_status: bool, by_emoji: bool) -> Delete:
    query = delete(Notification).where(
        Notification.type == bindparam("type"), Notification.from_account_id == bindparam("actor_id")
    )
    if by_recipient:
        query = query.where(Notification.account_id == bindparam("recipient_id"))
    if by_status:
        query = query.where(Notification.status_id == bindparam("status_id"))
    if by_emoji:
        query = query.where(Notification.emoji == bindparam("emoji"))
    return query
