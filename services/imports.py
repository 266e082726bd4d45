"""Follow, block and mute imports (SPEC 11, 21.9): a list of account references becomes the
relationships the single-account endpoints would make, skipping what cannot be resolved or
applied. A list may hold tens of thousands of entries, so everything is done in batches: local
names resolve with one query per chunk, rows go in with INSERT OR IGNORE executemany, counters
move once per chunk and notifications are written together. Only entries naming another server
cost a network lookup each."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from collections.abc import Iterator
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement
from sqlalchemy import and_
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import tuple_
from sqlalchemy import update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import load_only

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
from services import remote
from services.accounts import local_host_names
from services.notifications import notify_many

# IN lists and executemany batches stay well under SQLite's bound-parameter limit.
CHUNK = 500
CSV_HEADER = "account address"  # first column title of Mastodon's CSV exports
# A server that failed this many lookups in a row, with none answered, is skipped for the rest
# of the import: a long list naming a dead host must not hold the job queue for hours.
HOST_FAILURE_LIMIT = 5


def _chunks(items: list) -> Iterator[list]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _count(where: ColumnElement[bool], **deltas: int) -> None:
    """Move counters with SQL expressions. The session holds every resolved account: matching
    them in Python after each UPDATE (synchronize_session) would cost more than the UPDATE."""
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


# A list names thousands of accounts: load only the columns the imports read (the rest would
# load on access), so resolving 10,000 names stays well under a second.
_ONLY_WHAT_IMPORTS_READ = (
    load_only(
        Account.id, Account.nickname, Account.domain, Account.ap_id, Account.is_active, Account.is_locked
    ),
)


def resolve_all(entries: list[str], importer: Account) -> list[Account]:
    """The active accounts the entries name (the importer left out), each once. Local names and
    known ap_ids are looked up in bulk; other servers are asked only for what is not known."""
    local: list[str] = []
    ap_ids: list[str] = []
    remote_names: list[tuple[str, str]] = []
    for entry in entries:
        if entry.startswith(("http://", "https://")):
            ap_ids.append(entry)
            continue
        nick, host = remote.split_reference(entry)
        if not nick or "/" in nick:
            continue
        if host is None:
            local.append(nick.lower())
        else:
            remote_names.append((nick, host))
    found: dict[str, Account] = {}
    for chunk in _chunks(list(dict.fromkeys(local))):
        query = (
            select(Account)
            .where(func.lower(Account.nickname).in_(chunk), Account.domain.is_(None))
            .options(*_ONLY_WHAT_IMPORTS_READ)
        )
        found.update((a.id, a) for a in db.session.scalars(query))
    for account in _known_or_fetched_ap_ids(ap_ids) + _known_or_fetched_names(remote_names):
        found.setdefault(account.id, account)
    return [a for a in found.values() if a.is_active and a.id != importer.id]


def _known_or_fetched_ap_ids(ap_ids: list[str]) -> list[Account]:
    known: dict[str, Account] = {}
    for chunk in _chunks(list(dict.fromkeys(ap_ids))):
        known.update(
            (a.ap_id, a) for a in db.session.scalars(select(Account).where(Account.ap_id.in_(chunk)))
        )
    ours = local_host_names()
    missing = [(ap_id, urlsplit(ap_id).netloc.lower()) for ap_id in ap_ids if ap_id not in known]
    missing = [(ap_id, host) for ap_id, host in missing if host not in ours]  # ours would be known
    fetched = _lookup_per_host(missing, lambda ap_id: remote.find_account(ap_id, resolve_remote=True))
    return list(known.values()) + fetched


def _known_or_fetched_names(names: list[tuple[str, str]]) -> list[Account]:
    pairs = list(dict.fromkeys((nick.lower(), host) for nick, host in names))
    known: dict[tuple[str, str], Account] = {}
    for chunk in _chunks(pairs):
        query = select(Account).where(tuple_(func.lower(Account.nickname), Account.domain).in_(chunk))
        known.update(((a.nickname.lower(), a.domain or ""), a) for a in db.session.scalars(query))
    missing = [(f"{nick}@{host}", host) for nick, host in pairs if (nick, host) not in known]
    fetched = _lookup_per_host(missing, lambda ref: remote.find_account(ref, resolve_remote=True))
    return list(known.values()) + fetched


def _lookup_per_host(refs: list[tuple[str, str]], lookup: Callable[[str], Account | None]) -> list[Account]:
    """Resolve (reference, host) pairs over the network, giving up on a host that keeps failing."""
    failures: dict[str, int] = defaultdict(int)
    answered: set[str] = set()
    found: list[Account] = []
    for ref, host in refs:
        if host not in answered and failures[host] >= HOST_FAILURE_LIMIT:
            continue
        account = lookup(ref)
        if account is None:
            failures[host] += 1
            continue
        answered.add(host)
        found.append(account)
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
        follow_all(follower, resolve_all(entries, follower))


def follow_all(follower: Account, targets: list[Account]) -> None:
    """Follow each target as POST /accounts/:id/follow would: a request for locked accounts,
    nothing for those already followed or requested, none for accounts that block the follower."""
    accepted: list[str] = []
    requested: list[str] = []
    now = utcnow()
    for chunk in _chunks(targets):
        ids = [t.id for t in chunk]
        skip = set(
            db.session.scalars(
                select(Block.account_id).where(Block.target_id == follower.id, Block.account_id.in_(ids))
            )
        )
        skip |= set(
            db.session.scalars(
                select(Follow.followee_id).where(
                    Follow.follower_id == follower.id, Follow.followee_id.in_(ids)
                )
            )
        )
        rows = [
            {
                "id": new_flake_id(),
                "follower_id": follower.id,
                "followee_id": t.id,
                "is_pending": t.is_locked,
                "show_reblogs": True,
                "created_at": now,
            }
            for t in chunk
            if t.id not in skip
        ]
        if not rows:
            continue
        # RETURNING names only the rows really inserted, so a follow made meanwhile by another
        # request is neither doubled nor counted twice.
        statement = (
            sqlite_insert(Follow).on_conflict_do_nothing().returning(Follow.followee_id, Follow.is_pending)
        )
        inserted = db.session.execute(statement, rows).all()
        new_accepted = [followee for followee, pending in inserted if not pending]
        requested += [followee for followee, pending in inserted if pending]
        if new_accepted:
            _count(Account.id.in_(new_accepted), followers_count=1)
            accepted += new_accepted
    if accepted:
        _count(Account.id == follower.id, following_count=len(accepted))
    notify_many(accepted, follower, "follow")
    notify_many(requested, follower, "follow_request")
    db.session.commit()


# ---------------------------------------------------------------------------------------------
# Blocks


@jobs.job
def import_blocks(account_id: str, entries: list[str]) -> None:
    blocker = _importer(account_id)
    if blocker is not None:
        block_all(blocker, resolve_all(entries, blocker))


def block_all(blocker: Account, targets: list[Account]) -> None:
    """Block each target as POST /accounts/:id/block would: follows and requests end both ways
    (with their counters and notifications), so do endorsements and subscriptions."""
    following_lost = followers_lost = 0
    now = utcnow()
    for chunk in _chunks(targets):
        ids = [t.id for t in chunk]
        rows = [
            {"id": new_flake_id(), "account_id": blocker.id, "target_id": i, "created_at": now} for i in ids
        ]
        db.session.execute(sqlite_insert(Block).on_conflict_do_nothing(), rows)
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
        mute_all(muter, resolve_all(entries, muter))


def mute_all(muter: Account, targets: list[Account]) -> None:
    """Mute each target as POST /accounts/:id/mute with its defaults would: notifications
    included, no expiry (a mute already there, even an expired one, is set to that again)."""
    now = utcnow()
    for chunk in _chunks(targets):
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
