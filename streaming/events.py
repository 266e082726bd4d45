"""Publishing streaming events: queued on the session, sent once its transaction has committed.

A service that makes a change calls one of the functions below inside its transaction; the
events wait in the session and go out from the `after_commit` hook (a rollback drops them), so a
recipient never hears of a row it could not read yet. Events carry ids, not rendered entities:
each process renders them for its own connections' readers (streaming.dispatch)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from collections.abc import Iterator
from itertools import islice
from typing import Any
from typing import NamedTuple

import orjson
from flask import current_app
from flask import has_app_context
from sqlalchemy import event
from sqlalchemy import inspect
from sqlalchemy import select
from sqlalchemy.orm import Session

import jobs
from models import Account
from models import ChatMessageReference
from models import Filter
from models import FilterKeyword
from models import FilterStatus
from models import Follow
from models import Notification
from models import PushSubscription
from models import Status
from models import StatusMention
from models import Token
from models import db
from portable_sql import among

log = logging.getLogger(__name__)

_PENDING = "kenoma_stream_events"
_PUSH = "kenoma_push_notifications"  # (notification id, recipient id) to push once committed
# Recipient id -> whether it has a push subscription, when the notifying write read that already.
_SUBSCRIBED = "kenoma_push_subscribed"
# app.extensions key of the app's sender: a callable taking one committed batch (bytes).
SENDER = "kenoma_streaming_sender"
# A unix datagram larger than the socket's send buffer (net.core.wmem_default, 208 KB on Linux)
# is refused whole, and a follow import's 10,000 notification events make a 340 KB batch.
MAX_BATCH = 128 * 1024
# Queued events are turned into dicts and encoded this many at a time when sent.
SLICE = 1000


def _sender() -> Callable[[bytes], None] | None:
    return current_app.extensions.get(SENDER) if has_app_context() else None


def publish(kind: str, **data: Any) -> None:
    """Queue an event for after the current transaction's commit."""
    if _sender() is None:
        return
    # A dict, not a list: a bulk write (a follow import) queues thousands, and a list's `in` made
    # that quadratic; it keeps the order of first appearance. The key is a tuple of the values,
    # not the event's encoding: 10,000 orjson results, each shrunk from a larger buffer, left the
    # worker's heap fragmented by ~40 MB after the transaction had freed them (bench/README.md,
    # issue 19 part K). Each kind is queued by one function with its keywords in one order, so
    # the values name the event; a list (delete's `addressed`) follows from the event's id.
    # The event is kept as that key and its field names (one tuple shared by every event of a
    # shape), not as a dict: 10,000 dicts were 2 MB of the import's peak, whose small objects
    # left pymalloc arenas behind (part N). The dicts are built a SLICE at a time when sent.
    pending: dict[tuple, Any] = db.session.info.setdefault(_PENDING, {})
    values = tuple(data.values())
    scalars = tuple(value for value in values if not isinstance(value, list))
    key = (kind, *scalars)
    if key not in pending:
        names = _NAMES.setdefault(tuple(data), tuple(data))
        pending[key] = names if len(scalars) == len(values) else _Listed(names, values)


class _Listed(NamedTuple):
    """A queued event with a list among its values: its names and all its values."""

    names: tuple[str, ...]
    values: tuple


# Field names of each shape of event (the keywords of its publish call, in order).
_NAMES: dict[tuple[str, ...], tuple[str, ...]] = {}


def _event(key: tuple, queued: tuple[str, ...] | _Listed) -> dict:
    if isinstance(queued, _Listed):
        return {"kind": key[0], **dict(zip(queued.names, queued.values, strict=True))}
    return {"kind": key[0], **dict(zip(queued, key[1:], strict=True))}


def status_created(status_id: str) -> None:
    publish("status", id=status_id)


def status_updated(status_id: str) -> None:
    publish("status.update", id=status_id)


def status_deleted(status: Status) -> None:
    """What deciding its recipients needs, read before the row goes."""
    if _sender() is None:
        return
    addressed = select(StatusMention.account_id).where(StatusMention.status_id == status.id)
    publish(
        "delete",
        id=status.id,
        account_id=status.account_id,
        visibility=status.visibility,
        reblog_of_id=status.reblog_of_id,
        addressed=list(db.session.scalars(addressed)),
    )


def notification_created(notification_id: str, account_id: str | None = None) -> None:
    """Streamed to the recipient, and pushed (services/web_push.py) if it has a push
    subscription, which is looked up after the commit (nothing is read under the write lock)."""
    publish("notification", id=notification_id)
    if account_id is not None and has_app_context():
        db.session.info.setdefault(_PUSH, []).append((notification_id, account_id))


def push_subscription_known(account_id: str, subscribed: bool) -> None:
    """The notifying write read whether the recipient has a push subscription with its other
    checks (services.notifications): the lookup after the commit is skipped for it. A
    subscription made in between is missed for this one notification, as one made a moment later."""
    if has_app_context():
        db.session.info.setdefault(_SUBSCRIBED, {})[account_id] = subscribed


def conversation_updated(status_id: str) -> None:
    publish("conversation", id=status_id)


def filters_changed(account_id: str) -> None:
    publish("filters_changed", account_id=account_id)


def chat_updated(chat_id: str) -> None:
    publish("chat", id=chat_id)


def follow_relationship(state: str, follower_id: str, followee_id: str) -> None:
    publish("follow_relationship", state=state, follower_id=follower_id, followee_id=followee_id)


def access_changed(account_id: str) -> None:
    """Some of the account's tokens stopped working (revoked, the account disabled or deleted):
    every process re-checks the tokens its streams hold for it and closes those that no longer
    work (streaming.hub). Token and account rows changed through the ORM announce themselves
    (below); a bulk UPDATE of tokens calls this."""
    publish("access", account_id=account_id)


def _access_rows_changed(session: Session) -> None:
    for row in session.dirty:
        if isinstance(row, Token) and row.account_id and _changed(row, "access_token_revoked_at"):
            access_changed(row.account_id)
        elif isinstance(row, Account) and _changed(row, "is_active") and not row.is_active:
            access_changed(row.id)
    for row in session.deleted:
        if isinstance(row, Token) and row.account_id:
            access_changed(row.account_id)
        elif isinstance(row, Account):
            access_changed(row.id)


def _changed(row: Any, attribute: str) -> bool:
    return inspect(row).attrs[attribute].history.has_changes()


@event.listens_for(Session, "after_flush")
def _rows_changed(session: Session, _context: Any) -> None:
    """Changes made through the ORM publish themselves, whoever makes them (a service, the
    federation inbox): new statuses and notifications, filter edits, follow states, chat
    messages. The Core inserts of post_status and stamped() call the functions above."""
    filter_ids: set[str] = set()
    for row in session.new:
        if isinstance(row, Notification):
            notification_created(row.id, row.account_id)
        elif isinstance(row, Status):
            status_created(row.id)
        elif isinstance(row, ChatMessageReference):
            chat_updated(row.chat_id)
        elif isinstance(row, Follow):
            state = "follow_pending" if row.is_pending else "follow_accept"
            follow_relationship(state, row.follower_id, row.followee_id)
    for row in session.dirty:
        if isinstance(row, Follow) and inspect(row).attrs.is_pending.history.deleted == [True]:
            follow_relationship("follow_accept", row.follower_id, row.followee_id)
    for row in session.deleted:
        if isinstance(row, Follow) and row.is_pending:
            follow_relationship("follow_reject", row.follower_id, row.followee_id)
    for row in (*session.new, *session.dirty, *session.deleted):
        if isinstance(row, Filter):
            filters_changed(row.account_id)
        elif isinstance(row, (FilterKeyword, FilterStatus)):
            filter_ids.add(row.filter_id)
    if filter_ids:
        owners = session.scalars(select(Filter.account_id).where(Filter.id.in_(filter_ids)).distinct())
        for account_id in owners:
            filters_changed(account_id)
    _access_rows_changed(session)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    pushes = session.info.pop(_PUSH, None)
    known = session.info.pop(_SUBSCRIBED, None) or {}
    if pushes:
        _queue_pushes(pushes, known)
    events = session.info.pop(_PENDING, None)
    sender = _sender()
    if not events or sender is None:
        return
    at = time.time()
    queued = iter(events.items())
    while piece := [_event(key, value) for key, value in islice(queued, SLICE)]:
        for batch in _batches(piece, at):
            try:
                sender(batch)
            except Exception:  # the write is done: a lost event must not turn it into an error
                log.exception("streaming events not sent")


def _batches(events: list[dict], at: float) -> Iterator[bytes]:
    """The events encoded in batches of at most MAX_BATCH bytes (one alone may be larger), in
    order: halved until each fits, so the usual small batch is encoded once."""
    batch = orjson.dumps({"events": events, "at": at})
    if len(batch) <= MAX_BATCH or len(events) == 1:
        yield batch
        return
    half = len(events) // 2
    yield from _batches(events[:half], at)
    yield from _batches(events[half:], at)


def _queue_pushes(pushes: list[tuple[str, str]], known: dict[str, bool]) -> None:
    """One job for the notifications whose recipients have a push subscription. Recipients the
    write did not check are looked up; the committed session cannot run SQL here, so the lookup
    takes a connection of its own."""
    subscribed = {account_id for account_id, has in known.items() if has}
    unknown = sorted({account_id for _, account_id in pushes if account_id not in known})
    try:
        if unknown:
            # One JSON string, not thousands of bound parameters (portable_sql.among).
            query = select(PushSubscription.account_id).where(among(PushSubscription.account_id, unknown))
            with db.engine.connect() as connection:
                subscribed.update(connection.scalars(query))
        wanted = [nid for nid, account_id in pushes if account_id in subscribed]
        if wanted:
            jobs.enqueue("send_web_push", notification_ids=wanted)
    except Exception:  # the write is done: a lost push must not turn it into an error
        log.exception("web push not queued")


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    for key in (_PENDING, _PUSH, _SUBSCRIBED):
        session.info.pop(key, None)
