"""Follow, block and mute imports (SPEC 11, 21.9): a list of account references becomes the
relationships the single-account endpoints would make, skipping what cannot be resolved or
applied. A list may hold tens of thousands of entries, so everything is done in chunks, as plain
rows rather than ORM objects: local names resolve with one query per chunk, rows go in with
INSERT OR IGNORE executemany, counters move and notifications are written once per chunk, and
the job's memory stays flat whatever the list's length. Only entries naming another server cost
a network lookup each."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from datetime import datetime
from itertools import chain
from itertools import islice
from typing import NamedTuple
from typing import TypeVar
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement
from sqlalchemy import and_
from sqlalchemy import delete
from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import not_
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import tuple_
from sqlalchemy import update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

import engines
import jobs
from models import Account
from models import Block
from models import Endorsement
from models import Follow
from models import Mute
from models import Notification
from models import Subscription
from models import db
from models import new_flake_id
from models import utcnow
from portable_sql import among
from services import events
from services import remote
from services.notifications import notify_many
from services.remote import local_host_names

# IN lists and executemany batches stay well under SQLite's bound-parameter limit.
CHUNK = 500
CSV_HEADER = "account address"  # first column title of Mastodon's CSV exports
# A server that failed this many lookups in a row, with none answered, is skipped for the rest
# of the import: a long list naming a dead host must not hold the job queue for hours.
HOST_FAILURE_LIMIT = 5

T = TypeVar("T")


def _batched(items: Iterable[T]) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, CHUNK)):
        yield chunk


def _count(where: ColumnElement[bool], **deltas: int) -> None:
    """Move counters with SQL expressions. The accounts they change are not loaded as objects
    (the importer is, and expires at the commit), so there is nothing in the session to match
    after the UPDATE (synchronize_session)."""
    values = {name: getattr(Account, name) + delta for name, delta in deltas.items()}
    statement = update(Account).where(where).values(values).execution_options(synchronize_session=False)
    db.session.execute(statement)


# ---------------------------------------------------------------------------------------------
# Reading the list


def parse_list(text: str) -> list[str]:
    """The references of an import list, in order and each once: whitespace-separated names;
    from a Mastodon CSV export the first column, its header line dropped; a leading `@` removed."""
    entries: dict[str, None] = {}
    for line in text.splitlines():
        first = line.split(",", 1)[0].strip()
        if first.lower() == CSV_HEADER:
            continue
        for word in first.split():
            word = word.lstrip("@")
            if word:
                entries[word] = None
    return list(entries)


def start(kind: str, account: Account, text: str) -> None:
    """Queue the import of `kind` ("follows", "blocks", "mutes") for the account."""
    jobs.enqueue(f"import_{kind}", account_id=account.id, entries=parse_list(text))


# ---------------------------------------------------------------------------------------------
# Resolving references


class Target(NamedTuple):
    """What the imports need of an account they act on. Plain rows, not ORM objects: a list
    names tens of thousands of accounts, and an identity-mapped Account per name costs the job's
    process tens of megabytes it never gives back."""

    id: str
    is_active: bool
    is_locked: bool

    @classmethod
    def of(cls, account: Account) -> Target:
        return cls(account.id, account.is_active, account.is_locked)


def resolve_all(entries: list[str], importer: Account) -> Iterator[list[Target]]:
    """The active accounts the entries name (the importer left out), in chunks. Names on other
    servers and ap_ids are resolved now, before the caller writes anything, so the import's one
    transaction never holds the write lock while another server is asked; local names are looked
    up a chunk at a time as the caller asks for them. An account named twice in different forms
    can come twice in different chunks: every import writes idempotently."""
    elsewhere = _resolve_elsewhere(entries, importer.id)
    # No empty chunks: an executemany given no rows would run its INSERT once, with no values.
    return (chunk for chunk in chain(_local_chunks(entries, importer.id), _batched(elsewhere)) if chunk)


def _split(entry: str) -> tuple[str, str | None] | None:
    """(nick, host) of a name, host None for this server; None for an ap_id or no usable name."""
    if entry.startswith(("http://", "https://")):
        return None
    nick, host = remote.split_reference(entry)
    if not nick or "/" in nick:
        return None
    return nick, host


def _local_chunks(entries: list[str], importer_id: str) -> Iterator[list[Target]]:
    names = (split[0].lower() for split in map(_split, entries) if split and split[1] is None)
    for chunk in _batched(names):
        # Both expressions of the unique (nickname, domain) index, so each name is one lookup.
        query = select(Account.id, Account.is_active, Account.is_locked).where(
            among(func.lower(Account.nickname), dict.fromkeys(chunk)),
            func.coalesce(Account.domain, "") == "",
            Account.domain.is_(None),
            Account.is_active.is_(True),
            Account.id != importer_id,
        )
        yield [Target(*row) for row in db.session.execute(query)]


def _resolve_elsewhere(entries: list[str], importer_id: str) -> list[Target]:
    """Accounts named by ap_id or as nick@host of another server: known ones from the database,
    the rest asked of their servers (as ORM objects: one remote lookup at a time)."""
    ap_ids = [entry for entry in entries if entry.startswith(("http://", "https://"))]
    names = [(split[0], split[1]) for split in map(_split, entries) if split and split[1] is not None]
    found = _known_or_fetched_ap_ids(ap_ids) + _known_or_fetched_names(names)
    usable = {t.id: t for t in found if t.is_active and t.id != importer_id}
    return list(usable.values())


def _known_or_fetched_ap_ids(ap_ids: list[str]) -> list[Target]:
    known: dict[str, Target] = {}
    for chunk in _batched(dict.fromkeys(ap_ids)):
        query = select(Account.ap_id, Account.id, Account.is_active, Account.is_locked)
        rows = db.session.execute(query.where(Account.ap_id.in_(chunk)))
        known.update((ap_id, Target(*rest)) for ap_id, *rest in rows)
    ours = local_host_names()
    missing = [(ap_id, urlsplit(ap_id).netloc.lower()) for ap_id in ap_ids if ap_id not in known]
    missing = [(ap_id, host) for ap_id, host in missing if host not in ours]  # ours would be known
    fetched = _lookup_per_host(missing, lambda ap_id: remote.find_account(ap_id, resolve_remote=True))
    return list(known.values()) + fetched


def _known_or_fetched_names(names: list[tuple[str, str]]) -> list[Target]:
    pairs = list(dict.fromkeys((nick.lower(), host) for nick, host in names))
    known: dict[tuple[str, str], Target] = {}
    for chunk in _batched(pairs):
        query = select(Account.nickname, Account.domain, Account.id, Account.is_active, Account.is_locked)
        rows = db.session.execute(
            query.where(tuple_(func.lower(Account.nickname), Account.domain).in_(chunk))
        )
        known.update(((nick.lower(), domain or ""), Target(*rest)) for nick, domain, *rest in rows)
    missing = [(f"{nick}@{host}", host) for nick, host in pairs if (nick, host) not in known]
    fetched = _lookup_per_host(missing, lambda ref: remote.find_account(ref, resolve_remote=True))
    return list(known.values()) + fetched


def _lookup_per_host(refs: list[tuple[str, str]], lookup: Callable[[str], Account | None]) -> list[Target]:
    """Resolve (reference, host) pairs over the network, giving up on a host that keeps failing.
    Each account comes back as an ORM object, kept only as the row the imports need."""
    failures: dict[str, int] = defaultdict(int)
    answered: set[str] = set()
    found: list[Target] = []
    for ref, host in refs:
        if host not in answered and failures[host] >= HOST_FAILURE_LIMIT:
            continue
        account = lookup(ref)
        if account is None:
            failures[host] += 1
            continue
        answered.add(host)
        found.append(Target.of(account))
    return found


def _importer(account_id: str) -> Account | None:
    account = db.session.get(Account, account_id)
    return account if account is not None and account.is_active else None


# ---------------------------------------------------------------------------------------------
# Follows


@jobs.job
def import_follows(account_id: str, entries: list[str]) -> None:
    follower = _importer(account_id)
    if follower is not None:
        engines.shrink_when_returned(db.session.connection())
        follow_all(follower, resolve_all(entries, follower))


def follow_all(follower: Account, chunks: Iterable[list[Target]]) -> None:
    """Follow each target as POST /accounts/:id/follow would: a request for locked accounts,
    nothing for those already followed or requested, none for accounts that block the follower."""
    now = utcnow()
    following_gained = 0
    for chunk in chunks:
        accepted, requested = _follow_chunk(follower.id, chunk, now)
        following_gained += len(accepted)
        notify_many(accepted, follower, "follow")
        notify_many(requested, follower, "follow_request")
    if following_gained:
        # One UPDATE for every followee, found again by the follows this import wrote (their
        # `created_at` is its `now`): keeping their ids until here held 10,000 small strings
        # across the whole job, pinning the pymalloc arenas its chunks had used (bench/README.md,
        # part N).
        added = select(Follow.followee_id).where(
            Follow.follower_id == follower.id, Follow.created_at == now, Follow.is_pending.is_(False)
        )
        _count(Account.id.in_(added), followers_count=1)
        _count(Account.id == follower.id, following_count=following_gained)
    db.session.commit()


def _follow_chunk(follower_id: str, chunk: list[Target], now: datetime) -> tuple[list[str], list[str]]:
    """Insert the chunk's new follows; the (accepted, requested) followee ids really inserted."""
    ids = [t.id for t in chunk]
    # Accounts already followed or requested are not looked up: the INSERT below skips them (its
    # ON CONFLICT), and a lookup of a few hundred of them among a growing list of follows was the
    # costliest statement of a chunk on PostgreSQL.
    blocking = select(Block.account_id).where(Block.target_id == follower_id, among(Block.account_id, ids))
    skip = set(db.session.scalars(blocking))
    rows = [
        {
            "id": new_flake_id(),
            "follower_id": follower_id,
            "followee_id": t.id,
            "is_pending": t.is_locked,
            "show_reblogs": True,
            "created_at": now,
        }
        for t in chunk
        if t.id not in skip
    ]
    if not rows:
        return [], []
    # RETURNING names only the rows really inserted, so a follow made meanwhile by another
    # request, or an account named twice, is neither doubled nor counted twice.
    statement = (
        sqlite_insert(Follow).on_conflict_do_nothing().returning(Follow.followee_id, Follow.is_pending)
    )
    inserted = db.session.execute(statement, rows).all()
    return [f for f, pending in inserted if not pending], [f for f, pending in inserted if pending]


# ---------------------------------------------------------------------------------------------
# Blocks


@jobs.job
def import_blocks(account_id: str, entries: list[str]) -> None:
    blocker = _importer(account_id)
    if blocker is not None:
        engines.shrink_when_returned(db.session.connection())
        block_all(blocker, resolve_all(entries, blocker))


def block_all(blocker: Account, chunks: Iterable[list[Target]]) -> None:
    """Block each target as POST /accounts/:id/block would: follows and requests end both ways
    (with their counters and notifications), so do endorsements and subscriptions."""
    following_lost = followers_lost = 0
    now = utcnow()
    for chunk in chunks:
        ids = [t.id for t in chunk]
        newly_blocked_remote = _new_remote_blocks(blocker.id, ids)
        rows = [
            {"id": new_flake_id(), "account_id": blocker.id, "target_id": i, "created_at": now} for i in ids
        ]
        db.session.execute(sqlite_insert(Block).on_conflict_do_nothing(), rows)
        for target_id in newly_blocked_remote:  # their servers are told, as for one block
            events.emit(events.blocked, blocker_id=blocker.id, target_id=target_id, local=True)
        outgoing = and_(Follow.follower_id == blocker.id, Follow.followee_id.in_(ids))
        incoming = and_(Follow.followee_id == blocker.id, Follow.follower_id.in_(ids))
        ended = db.session.execute(
            select(Follow.id, Follow.follower_id, Follow.followee_id, Follow.is_pending).where(
                or_(outgoing, incoming)
            )
        ).all()
        theirs_followed = [f.followee_id for f in ended if f.follower_id == blocker.id and not f.is_pending]
        their_follows = [f.follower_id for f in ended if f.followee_id == blocker.id and not f.is_pending]
        following_lost += len(theirs_followed)
        followers_lost += len(their_follows)
        if theirs_followed:
            _count(Account.id.in_(theirs_followed), followers_count=-1)
        if their_follows:
            _count(Account.id.in_(their_follows), following_count=-1)
        db.session.execute(delete(Follow).where(Follow.id.in_([f.id for f in ended])))
        _drop_between(blocker.id, ids)
    if following_lost or followers_lost:
        _count(Account.id == blocker.id, following_count=-following_lost, followers_count=-followers_lost)
    db.session.commit()


def _new_remote_blocks(blocker_id: str, ids: list[str]) -> list[str]:
    """The accounts of other servers among `ids` that the blocker does not block yet."""
    already = exists().where(Block.account_id == blocker_id, Block.target_id == Account.id)
    return list(
        db.session.scalars(
            select(Account.id).where(Account.id.in_(ids), Account.domain.is_not(None), not_(already))
        )
    )


def _drop_between(account_id: str, others: list[str]) -> None:
    """What a block ends besides follows, both ways: follow notifications, endorsements,
    subscriptions."""
    db.session.execute(
        delete(Notification).where(
            Notification.type.in_(("follow", "follow_request")),
            or_(
                and_(Notification.from_account_id == account_id, Notification.account_id.in_(others)),
                and_(Notification.account_id == account_id, Notification.from_account_id.in_(others)),
            ),
        )
    )
    for model in (Endorsement, Subscription):
        db.session.execute(
            delete(model).where(
                or_(
                    and_(model.account_id == account_id, model.target_id.in_(others)),
                    and_(model.target_id == account_id, model.account_id.in_(others)),
                )
            )
        )


# ---------------------------------------------------------------------------------------------
# Mutes


@jobs.job
def import_mutes(account_id: str, entries: list[str]) -> None:
    muter = _importer(account_id)
    if muter is not None:
        engines.shrink_when_returned(db.session.connection())
        mute_all(muter, resolve_all(entries, muter))


def mute_all(muter: Account, chunks: Iterable[list[Target]]) -> None:
    """Mute each target as POST /accounts/:id/mute with its defaults would: notifications
    included, no expiry (a mute already there, even an expired one, is set to that again)."""
    now = utcnow()
    for chunk in chunks:
        rows = [
            {
                "id": new_flake_id(),
                "account_id": muter.id,
                "target_id": t.id,
                "hide_notifications": True,
                "expires_at": None,
                "created_at": now,
            }
            for t in chunk
        ]
        statement = sqlite_insert(Mute)
        statement = statement.on_conflict_do_update(
            index_elements=[Mute.account_id, Mute.target_id],
            set_={"hide_notifications": True, "expires_at": None},
        )
        db.session.execute(statement, rows)
    db.session.commit()
