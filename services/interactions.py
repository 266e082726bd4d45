"""Acting on statuses (SPEC 4): favourites, reblogs, bookmarks, pins, thread mutes, deletion and
the thread view. Counters move with SQL expressions in the same transaction as the row they
count, so two concurrent requests can neither lose an increment nor count a row twice."""

from __future__ import annotations

import functools
import uuid
from collections import defaultdict
from typing import Any

from blinker import Signal
from flask import current_app
from sqlalchemy import and_
from sqlalchemy import bindparam
from sqlalchemy import delete
from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import inspect
from sqlalchemy import not_
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.orm.attributes import set_committed_value

import readcache
from errors import ApiError
from jobs import job
from models import Account
from models import Block
from models import Bookmark
from models import ClientApp
from models import Context
from models import Favourite
from models import Participation
from models import Status
from models import StatusMention
from models import ThreadMute
from models import as_loaded
from models import begin_write
from models import commit_keeping_loaded
from models import db
from models import new_flake_id
from models import utcnow
from precompiled import Precompiled
from services import events
from services import row_loader
from services.notifications import add_notifications
from services.notifications import known_checks
from services.notifications import notification_values
from services.notifications import notify
from services.notifications import suppression_columns
from services.notifications import withdraw
from services.pleroma_misc import own_folder
from services.row_loader import ACCOUNT_KEYS
from services.row_loader import RowTypes
from services.row_loader import columns
from services.row_loader import keys
from streaming import events as stream_events

MAX_PINNED = 5
OPEN_VISIBILITIES = ("public", "unlisted", "local")


# Built once: Session.get builds its select again on every call, which costs more than this one.
_STATUS_BY_ID = select(Status).where(Status.id == bindparam("status_id"))
_STATUS_MAPPER = inspect(Status)


def status_by_id(status_id: str) -> Status | None:
    """Session.get(Status, status_id) with the select built once: the one already in the
    session as Session.get finds it, else loaded by the built statement."""
    if _STATUS_MAPPER.identity_key_from_primary_key((status_id,)) in db.session.identity_map:
        return db.session.get(Status, status_id)
    return db.session.scalars(_STATUS_BY_ID, {"status_id": status_id}).first()


def get_visible(status_id: str, viewer: Account | None) -> Status:
    """The status if it exists and the viewer may see it; 404 otherwise (SPEC 1.9)."""
    return visible_or_404(status_by_id(status_id), viewer)


def visible_or_404(status: Status | None, viewer: Account | None) -> Status:
    if status is None or not status.is_visible_to(viewer):
        raise ApiError(404, "Record not found")
    return status


# The caller and the status it acts on, with the status' author and thread, in one statement on
# readcache's probe (as auth.py's token lookup): plain SQL, no Session or ORM (row_loader.py).
_ACCOUNT_AND_STATUS_SQL = f"""
SELECT {columns("caller", Account)}, {columns("s", Status)}, {columns("author", Account)},
       {columns("c", Context)}
FROM account AS caller LEFT JOIN status AS s ON s.id = ?
     LEFT JOIN account AS author ON author.id = s.account_id
     LEFT JOIN context AS c ON c.id = s.context_id
WHERE caller.id = ?
"""


@functools.cache
def _with_checks_sql(dialect_name: str) -> str:
    """_ACCOUNT_AND_STATUS_SQL with notify()'s checks for a notification from the caller to the
    status' author (notifications.suppression_columns): a favourite's or a reaction's
    notification then costs no statement of its own before the write."""
    checks = suppression_columns(db.engine.dialect, "s.account_id", "caller.id", "s.context_id")
    return _ACCOUNT_AND_STATUS_SQL.replace(
        "\nFROM account AS caller", f",\n       {checks}\nFROM account AS caller"
    )


_CHECKS = 6
_STATUS_KEYS, _CONTEXT_KEYS = keys(Status), keys(Context)
_ROW_TYPES = RowTypes(Account, Status, Account, Context)


def account_and_status(
    account_id: str, status_id: str, notify_checks: bool = False
) -> tuple[Account | None, Status | None]:
    """(the account, the status or None); (None, None) when the account is gone. Both are
    read-only instances outside the session (row_loader.py), the status with its author and
    context: the views acting on a status only read them. `notify_checks`: read notify()'s
    checks for the caller notifying the status' author too (notifications.known_checks)."""
    if not notify_checks:
        row, _ = readcache.probe_row(_ACCOUNT_AND_STATUS_SQL, status_id, account_id)
        return _account_and_status(row)
    row, _ = readcache.probe_row(_with_checks_sql(db.engine.dialect.name), status_id, account_id)
    if row is None:
        return None, None
    account, status = _account_and_status(row[:-_CHECKS])
    if account is not None and status is not None:
        known_checks(status.account_id, account.id, status.context_id, tuple(row[-_CHECKS:]))
    return account, status


def _account_and_status(row: Any) -> tuple[Account | None, Status | None]:
    if row is None:
        return None, None
    values, accounts, statuses = _ROW_TYPES.typed(row), len(ACCOUNT_KEYS), len(_STATUS_KEYS)
    account = row_loader.account(values[:accounts])
    found = dict(zip(_STATUS_KEYS, values[accounts : accounts + statuses], strict=True))
    if found["id"] is None:
        return account, None
    rest = values[accounts + statuses :]
    author = account if found["account_id"] == account.id else row_loader.account(rest[:accounts])
    context = as_loaded(Context, dict(zip(_CONTEXT_KEYS, rest[accounts:], strict=True)), read_only=True)
    return account, as_loaded(Status, found | {"account": author, "context": context}, read_only=True)


def original_of(status: Status) -> Status:
    """Acting on a reblog acts on the reblogged status, as Mastodon and Pleroma do."""
    if status.reblog_of_id is None:
        return status
    original = db.session.get(Status, status.reblog_of_id)
    if original is None:
        raise ApiError(404, "Record not found")
    return original


def _add_to(counter: Any, status_id: str, delta: int) -> None:
    # max(…, 0): a counter never goes below zero, even after rows removed outside the services.
    db.session.execute(
        update(Status).where(Status.id == status_id).values({counter: func.max(counter + delta, 0)})
    )


def _insert_once(model: Any, **values: Any) -> bool:
    """Insert a row unless its unique key already exists; True when this call added it."""
    result = db.session.execute(insert(model).values(**values).on_conflict_do_nothing())
    return result.rowcount == 1


# ---------------------------------------------------------------------------------------------
# Favourites


# Built once (the statements of a favourite cost more to build than to run) and run as their
# compiled SQL (precompiled.py: no cache-key hashing per execution). A second favourite is a
# no-op, decided by the unique (account, status) even when two requests race.
_ADD_FAVOURITE = Precompiled(insert(Favourite).on_conflict_do_nothing())  # every column given
_REMOVE_FAVOURITE = Precompiled(
    delete(Favourite).where(
        Favourite.account_id == bindparam("account_id"), Favourite.status_id == bindparam("status_id")
    )
)
# max(…, 0): a counter never goes below zero, even after rows removed outside the services.
_COUNT_FAVOURITES = Precompiled(
    update(Status)
    .where(Status.id == bindparam("status_id"))
    .values(favourites_count=func.max(Status.favourites_count + bindparam("delta"), 0))
    .returning(Status.favourites_count)
)


def favourite(account: Account, status: Status) -> Status:
    """Every read comes first (SQLite writers queue for one lock, held for the writes only);
    the status stays loaded across the commit, its new count set from the UPDATE."""
    status = original_of(status)
    notification = notification_values(status.account_id, account, "favourite", status=status)
    connection = db.session.connection()
    values = {"id": new_flake_id(), "account_id": account.id, "status_id": status.id, "created_at": utcnow()}
    if _ADD_FAVOURITE.execute(connection, values).rowcount == 1:
        _count_favourites(status, 1)
        if notification is not None:
            add_notifications([notification])
        _announce(events.favourited, account, status)
    commit_keeping_loaded()
    return status


def _count_favourites(status: Status, delta: int) -> None:
    counted = _COUNT_FAVOURITES.execute(db.session.connection(), {"status_id": status.id, "delta": delta})
    set_committed_value(status, "favourites_count", counted.scalar_one())


def _announce(signal: Signal, account: Account, status: Status) -> None:
    events.emit(
        signal,
        account_id=account.id,
        status_id=status.id,
        local=account.is_local,
        author_local=status.account.is_local,
    )


def unfavourite(account: Account, status: Status) -> Status:
    status = original_of(status)
    connection = db.session.connection()
    removed = _REMOVE_FAVOURITE.execute(
        connection, {"account_id": account.id, "status_id": status.id}
    ).rowcount
    if removed:
        _count_favourites(status, -removed)
        withdraw("favourite", account.id, status_id=status.id)
        _announce(events.unfavourited, account, status)
    commit_keeping_loaded()
    return status


# ---------------------------------------------------------------------------------------------
# Reblogs


def reblog(
    account: Account,
    status: Status,
    visibility: str | None,
    app: ClientApp | None = None,
    uri: str | None = None,
) -> Status:
    """The reblog wrapper (an existing one when the account reblogged it already). `uri`: the
    Announce's id when a remote account reblogged; a local reblog's uri is its own Announce's."""
    status = original_of(status)
    is_own_private = status.visibility == "private" and status.account_id == account.id
    if status.visibility not in OPEN_VISIBILITIES and not is_own_private:
        raise ApiError(404, "Record not found")
    begin_write()  # two racing reblogs must not both find none and both insert a wrapper
    existing = db.session.scalar(
        select(Status).where(Status.account_id == account.id, Status.reblog_of_id == status.id)
    )
    if existing is not None:
        return existing
    wrapper = Status(
        id=new_flake_id(),
        account=account,
        uri=uri or f"{current_app.config['BASE_URL']}/activities/{uuid.uuid4()}",
        visibility=_reblog_visibility(status, visibility),
        reblog_of_id=status.id,
        context_id=status.context_id,
        app_name=app.name if app else None,
        app_website=app.website if app else None,
    )
    db.session.add(wrapper)
    # A reblog is not a post of the reblogger: Pleroma's statuses_count counts notes only.
    _add_to(Status.reblogs_count, status.id, 1)
    notify(status.account_id, account, "reblog", status=status)
    events.emit(events.status_posted, status_id=wrapper.id, local=account.is_local)
    db.session.commit()
    return wrapper


def _reblog_visibility(status: Status, wanted: str | None) -> str:
    if status.visibility == "private":  # only the author's own followers may see it again
        return "private"
    wanted = wanted or "public"
    if status.visibility == "local" and wanted == "public":  # a local-only post stays local
        return "local"
    return wanted


def unreblog(account: Account, status: Status) -> Status:
    """Delete the account's reblog wrapper: deleting it is what takes the reblog back (its
    counter, its notification, and the Undo of its Announce)."""
    status = original_of(status)
    wrapper = db.session.scalar(
        select(Status).where(Status.account_id == account.id, Status.reblog_of_id == status.id)
    )
    if wrapper is not None:
        delete_status(wrapper)
    return status


# ---------------------------------------------------------------------------------------------
# Bookmarks, pins, thread mutes


def bookmark(account: Account, status: Status, folder_id: str | None = None) -> Status:
    status = original_of(status)
    # Only into one of the caller's folders (403 otherwise, SPEC 18.5). Bookmarking again files
    # the bookmark under the folder given — none means unfiled — as Pleroma does.
    folder = own_folder(account, folder_id).id if folder_id else None
    db.session.execute(
        insert(Bookmark)
        .values(id=new_flake_id(), account_id=account.id, status_id=status.id, folder_id=folder)
        .on_conflict_do_update(index_elements=["account_id", "status_id"], set_={"folder_id": folder})
    )
    db.session.commit()
    return status


def unbookmark(account: Account, status: Status) -> Status:
    status = original_of(status)
    db.session.execute(
        delete(Bookmark).where(Bookmark.account_id == account.id, Bookmark.status_id == status.id)
    )
    db.session.commit()
    return status


def pin(account: Account, status: Status) -> Status:
    if status.account_id != account.id or status.is_reblog:
        raise ApiError(422, "Someone else's status cannot be pinned")
    if status.visibility not in ("public", "unlisted"):
        raise ApiError(422, "Non-public status cannot be pinned")
    if status.pinned_at is not None:
        return status
    pinned = db.session.scalar(
        select(func.count())
        .select_from(Status)
        .where(Status.account_id == account.id, Status.pinned_at.is_not(None))
    )
    if pinned >= MAX_PINNED:
        raise ApiError(400, "You have already pinned the maximum number of statuses")
    status.pinned_at = utcnow()
    events.emit(events.pinned, account_id=account.id, status_id=status.id)
    db.session.commit()
    return status


def unpin(account: Account, status: Status) -> Status:
    if status.account_id == account.id and status.pinned_at is not None:
        status.pinned_at = None
        events.emit(events.unpinned, account_id=account.id, status_id=status.id)
        db.session.commit()
    return status


def set_remote_pin(status: Status, pinned: bool) -> None:
    """A remote author added its status to (or removed it from) its featured collection: its
    own server decides how many it may pin, so no limit applies here."""
    if pinned and status.pinned_at is None:
        status.pinned_at = utcnow()
    elif not pinned:
        status.pinned_at = None
    db.session.commit()


def mute_thread(account: Account, status: Status) -> Status:
    _insert_once(ThreadMute, account_id=account.id, context_id=status.context_id)
    db.session.commit()
    return status


def unmute_thread(account: Account, status: Status) -> Status:
    db.session.execute(
        delete(ThreadMute).where(
            ThreadMute.account_id == account.id, ThreadMute.context_id == status.context_id
        )
    )
    db.session.commit()
    return status


# ---------------------------------------------------------------------------------------------
# Deletion


def delete_status(status: Status) -> None:
    """Delete a status; the database cascades its notifications, favourites, bookmarks, mentions,
    tags and reblogs. Replies keep their dangling `in_reply_to_id` (SPEC 4)."""
    stream_events.status_deleted(status)
    addressed = db.session.scalars(
        select(StatusMention.account_id).where(StatusMention.status_id == status.id)
    )
    events.emit(
        events.status_deleted,
        status_id=status.id,
        uri=status.uri,
        author_id=status.account_id,
        visibility=status.visibility,
        reblog_of_id=status.reblog_of_id,
        addressed_ids=list(addressed),
    )
    if status.reblog_of_id is not None:
        _add_to(Status.reblogs_count, status.reblog_of_id, -1)
        withdraw("reblog", status.account_id, status_id=status.reblog_of_id)
    else:
        db.session.execute(
            update(Account)
            .where(Account.id == status.account_id)
            .values(statuses_count=func.max(Account.statuses_count - 1, 0))
        )
        if status.in_reply_to_id:
            _add_to(Status.replies_count, status.in_reply_to_id, -1)
        if status.visibility == "direct":
            _rewind_participations(status)
    db.session.delete(status)
    db.session.commit()


def _rewind_participations(status: Status) -> None:
    """Conversations whose last status goes away show the newest remaining one instead."""
    newest = (
        select(func.max(Status.id))
        .where(
            Status.context_id == status.context_id,
            Status.id != status.id,
            Status.reblog_of_id.is_(None),
            Status.visibility == "direct",
        )
        .scalar_subquery()
    )
    db.session.execute(
        update(Participation)
        .where(Participation.context_id == status.context_id, Participation.last_status_id == status.id)
        .values(last_status_id=newest)
    )


@job
def expire_status(status_id: str) -> None:
    """Delete a status whose `expires_in` has run out (scheduled when it was posted)."""
    status = db.session.get(Status, status_id)
    if status is not None and status.expires_at is not None:
        delete_status(status)


# ---------------------------------------------------------------------------------------------
# Thread view


def thread(status: Status, viewer: Account | None) -> tuple[list[Status], list[Status]]:
    """(ancestors oldest first, descendants depth-first oldest first), only what the viewer may
    see. One query loads the whole thread with a visibility flag computed in SQL; the tree walk
    goes through hidden statuses so a visible reply under a hidden one is still found."""
    shown = Status.visibility_filter(viewer)
    if viewer is not None:  # statuses of accounts the viewer blocks stay out (Pleroma)
        blocked = exists().where(Block.account_id == viewer.id, Block.target_id == Status.account_id)
        shown = and_(shown, not_(blocked))
    rows = db.session.execute(
        select(Status, shown.label("shown"))
        .where(Status.context_id == status.context_id, Status.reblog_of_id.is_(None))
        .order_by(Status.id)
    ).all()
    by_id = {row[0].id: row[0] for row in rows}
    visible = {row[0].id for row in rows if row[1]}
    ancestors = _ancestors(status, by_id)
    descendants = _descendants(status, rows)
    return (
        [s for s in ancestors if s.id in visible],
        [s for s in descendants if s.id in visible],
    )


def _ancestors(status: Status, by_id: dict[str, Status]) -> list[Status]:
    chain: list[Status] = []
    seen = {status.id}
    parent_id = status.in_reply_to_id
    while parent_id and parent_id in by_id and parent_id not in seen:
        seen.add(parent_id)
        parent = by_id[parent_id]
        chain.append(parent)
        parent_id = parent.in_reply_to_id
    chain.reverse()
    return chain


def _descendants(status: Status, rows: list[Any]) -> list[Status]:
    children: dict[str, list[Status]] = defaultdict(list)
    for row in rows:  # rows come oldest first, so each child list is too
        if row[0].in_reply_to_id:
            children[row[0].in_reply_to_id].append(row[0])
    found: list[Status] = []
    seen = {status.id}
    stack = list(reversed(children[status.id]))
    while stack:
        current = stack.pop()
        if current.id in seen:
            continue
        seen.add(current.id)
        found.append(current)
        stack.extend(reversed(children[current.id]))
    return found
