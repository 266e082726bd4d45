"""The collections of a local actor (SPEC 24.1): outbox, followers, following and featured, each a
head (OrderedCollection with totalItems) and pages walked newest first by `max_id`. A page costs
the same few queries whatever its length."""

from __future__ import annotations

from sqlalchemy import false
from sqlalchemy import func
from sqlalchemy import select

from federation.documents import NoteBatch
from federation.documents import announce
from federation.documents import create
from federation.documents import ordered_collection
from federation.documents import ordered_collection_page
from federation.documents import with_context
from federation.documents import without_context
from models import Account
from models import Follow
from models import Status
from models import db

PAGE_SIZE = 20
# What a server that does not follow the account may read of it.
OPEN_VISIBILITIES = ("public", "unlisted")


class HiddenCollection(Exception):
    """The owner hides this collection's items (hide_followers / hide_follows)."""


def _page_url(collection_id: str, max_id: str | None) -> str:
    return f"{collection_id}?page=true" + (f"&max_id={max_id}" if max_id else "")


# ---- Outbox


def _outbox_filter(account: Account) -> list:
    return [Status.account_id == account.id, Status.visibility.in_(OPEN_VISIBILITIES)]


def outbox(account: Account) -> dict:
    outbox_id = f"{account.ap_id}/outbox"
    total = db.session.scalar(select(func.count()).select_from(Status).where(*_outbox_filter(account)))
    return ordered_collection(outbox_id, total or 0, _page_url(outbox_id, None))


def outbox_page(account: Account, max_id: str | None) -> dict:
    """Create of each public post and Announce of each public reblog, newest first."""
    query = select(Status).where(*_outbox_filter(account))
    if max_id:
        query = query.where(Status.id < max_id)
    statuses = list(db.session.scalars(query.order_by(Status.id.desc()).limit(PAGE_SIZE)))
    original_ids = {s.reblog_of_id for s in statuses if s.reblog_of_id}
    originals = {}
    if original_ids:
        originals = {s.id: s for s in db.session.scalars(select(Status).where(Status.id.in_(original_ids)))}
    batch = NoteBatch([s for s in statuses if not s.reblog_of_id])
    items = [
        without_context(
            announce(s, originals.get(s.reblog_of_id)) if s.reblog_of_id else create(s, batch=batch)
        )
        for s in statuses
        if not s.reblog_of_id or s.reblog_of_id in originals
    ]
    outbox_id = f"{account.ap_id}/outbox"
    more = _page_url(outbox_id, statuses[-1].id) if len(statuses) == PAGE_SIZE else None
    return ordered_collection_page(_page_url(outbox_id, max_id), outbox_id, items, more)


# ---- Followers and following


def _relation(account: Account, followers: bool) -> tuple[str, int, bool]:
    """(collection id, total shown, items hidden) of the followers or following collection."""
    if followers:
        count = 0 if account.hide_followers_count else account.followers_count
        return f"{account.ap_id}/followers", count, account.hide_followers
    count = 0 if account.hide_follows_count else account.following_count
    return f"{account.ap_id}/following", count, account.hide_follows


def relation_collection(account: Account, followers: bool) -> dict:
    collection_id, total, hidden = _relation(account, followers)
    return ordered_collection(collection_id, total, None if hidden else _page_url(collection_id, None))


def relation_page(account: Account, followers: bool, max_id: str | None) -> dict:
    """A page of the followers' (or followed accounts') ids, most recent follow first."""
    collection_id, total, hidden = _relation(account, followers)
    if hidden:
        raise HiddenCollection
    if followers:
        mine, other = Follow.followee_id, Follow.follower_id
    else:
        mine, other = Follow.follower_id, Follow.followee_id
    query = (
        select(Follow.id, Account.ap_id)
        .join(Account, Account.id == other)
        .where(mine == account.id, Follow.is_pending == false())
    )
    if max_id:
        query = query.where(Follow.id < max_id)
    rows = db.session.execute(query.order_by(Follow.id.desc()).limit(PAGE_SIZE)).all()
    more = _page_url(collection_id, rows[-1][0]) if len(rows) == PAGE_SIZE else None
    items = [ap_id for _, ap_id in rows]
    return ordered_collection_page(_page_url(collection_id, max_id), collection_id, items, more, total)


# ---- Featured


def featured(account: Account) -> dict:
    """The pinned public statuses as Notes, most recently pinned first (a handful: no paging)."""
    statuses = list(
        db.session.scalars(
            select(Status)
            .where(*_outbox_filter(account), Status.pinned_at.is_not(None), Status.reblog_of_id.is_(None))
            .order_by(Status.pinned_at.desc())
        )
    )
    batch = NoteBatch(statuses)
    return with_context(
        {
            "id": f"{account.ap_id}/collections/featured",
            "type": "OrderedCollection",
            "totalItems": len(statuses),
            "orderedItems": [batch.note_object(s) for s in statuses],
        }
    )
