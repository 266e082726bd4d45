"""Local changes going out (SPEC 24.5). Services announce a committed change with a
`services.events` signal; a receiver here queues a job (so the client's request only pays for
the enqueue), and the job renders the activity with `federation.documents` and publishes it."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app
from sqlalchemy import Select
from sqlalchemy import bindparam
from sqlalchemy import exists
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy.orm import aliased

import jobs
from federation import documents
from federation.delivery import publish
from models import Account
from models import Activity
from models import Follow
from models import Status
from models import StatusMention
from models import cached_statement
from models import db
from services import events


def new_activity_id() -> str:
    return f"{current_app.config['BASE_URL']}/activities/{uuid.uuid4()}"


def enqueue(name: str, **kwargs: Any) -> None:
    if current_app.config["FEDERATING"]:
        jobs.enqueue(name, **kwargs)


def addressed_remote_accounts(status_id: str) -> list[Account]:
    return list(
        db.session.scalars(
            select(Account)
            .join(StatusMention, StatusMention.account_id == Account.id)
            .where(StatusMention.status_id == status_id, Account.domain.is_not(None))
        )
    )


def last_activity(kind: str, actor_id: str, object_id: str) -> Activity | None:
    """The newest activity of `kind` an account sent (or we received from it) about an object:
    what an Undo takes back, or the Follow an Accept answers."""
    return db.session.scalar(
        select(Activity)
        .where(Activity.type == kind, Activity.actor_id == actor_id, Activity.object_id == object_id)
        .order_by(Activity.id.desc())
        .limit(1)
    )


# ---- statuses


def _remote_audience_statement() -> Select:
    """Whether federate_status would deliver a status anywhere: the author has an accepted
    remote follower, it mentions a remote account, or it reblogs a remote account's status."""
    status, original = aliased(Status), aliased(Status)
    follower, mentioned, author = aliased(Account), aliased(Account), aliased(Account)
    followed = exists().where(
        Follow.followee_id == status.account_id,
        Follow.is_pending.is_(False),
        follower.id == Follow.follower_id,
        follower.domain.is_not(None),
    )
    addressed = exists().where(
        StatusMention.status_id == status.id,
        mentioned.id == StatusMention.account_id,
        mentioned.domain.is_not(None),
    )
    reblogged = exists().where(
        original.id == status.reblog_of_id, author.id == original.account_id, author.domain.is_not(None)
    )
    return select(or_(followed, addressed, reblogged)).where(
        status.id == bindparam("status_id"), status.visibility != "local"
    )


def has_remote_audience(status_id: str) -> bool:
    """Asked after the commit, when the committed session can run no SQL: a connection of its own."""
    with db.engine.connect() as connection:
        query = cached_statement(_remote_audience_statement)
        return bool(connection.scalar(query, {"status_id": status_id}))


@events.status_posted.connect
def _status_posted(_sender: object, status_id: str, local: bool, remote_audience: bool | None = None) -> None:
    # Most local posts reach no other server: one indexed statement instead of a queued job,
    # whose rendering and stored Create would cost more than the request that posted. (A
    # deleted one's Tombstone does not need that Create: federation.objects.tombstone_for.)
    # `remote_audience`: the poster decided it with its reads before the write.
    if not local or not current_app.config["FEDERATING"]:
        return
    if remote_audience is None:
        remote_audience = has_remote_audience(status_id)
    if remote_audience:
        enqueue("federate_status", status_id=status_id)


@jobs.job
def federate_status(status_id: str) -> None:
    """Create (or Announce, for a reblog) to the followers and the addressed remote accounts."""
    status = db.session.get(Status, status_id)
    if status is None or not status.account.is_local or status.visibility == "local":
        return
    followers = status.visibility != "direct"
    if status.reblog_of_id is not None:
        original = db.session.get(Status, status.reblog_of_id)
        if original is None:
            return
        publish(
            documents.announce(status, original),
            status.account,
            to=[original.account],
            followers=followers,
            object_id=original.uri,
        )
        return
    publish(
        documents.create(status),
        status.account,
        to=addressed_remote_accounts(status.id),
        followers=followers,
        object_id=status.uri,
    )


@events.status_deleted.connect
def _status_deleted(_sender: object, **change: Any) -> None:
    enqueue("federate_delete", **change)


@jobs.job
def federate_delete(
    status_id: str,
    uri: str,
    author_id: str,
    visibility: str,
    reblog_of_id: str | None,
    addressed_ids: list[str],
) -> None:
    """Delete (with a Tombstone) of a local status, or Undo of a local reblog's Announce."""
    author = db.session.get(Account, author_id)
    if author is None or not author.is_local or visibility == "local":
        return
    addressed = list(
        db.session.scalars(select(Account).where(Account.id.in_(addressed_ids), Account.domain.is_not(None)))
    )
    if reblog_of_id is not None:
        announced = db.session.scalar(select(Activity).where(Activity.ap_id == uri))
        if announced is None or announced.data is None:
            return
        original = db.session.get(Status, reblog_of_id)  # its author got the Announce: the Undo too
        to = [*addressed, original.account] if original is not None else addressed
        undo = documents.undo(author, announced.data, new_activity_id())
        publish(undo, author, to=to, followers=True, object_id=uri)
        return
    direct_to = [a.ap_id for a in addressed] if visibility == "direct" else None
    delete = documents.delete(uri, author, new_activity_id(), to=direct_to, cc=[] if direct_to else None)
    publish(delete, author, to=addressed, followers=visibility != "direct", object_id=uri)


# ---- follows


@events.follow_requested.connect
def _follow_requested(_sender: object, follower_id: str, followee_id: str, pending: bool) -> None:
    enqueue("federate_follow", follower_id=follower_id, followee_id=followee_id, pending=pending)


@events.follow_accepted.connect
def _follow_accepted(_sender: object, follower_id: str, followee_id: str) -> None:
    enqueue("federate_follow_answer", follower_id=follower_id, followee_id=followee_id, kind="Accept")


@events.follow_rejected.connect
def _follow_rejected(_sender: object, follower_id: str, followee_id: str) -> None:
    enqueue("federate_follow_answer", follower_id=follower_id, followee_id=followee_id, kind="Reject")


@events.unfollowed.connect
def _unfollowed(_sender: object, follower_id: str, followee_id: str) -> None:
    enqueue("federate_unfollow", follower_id=follower_id, followee_id=followee_id)


def _pair(follower_id: str, followee_id: str) -> tuple[Account | None, Account | None]:
    return db.session.get(Account, follower_id), db.session.get(Account, followee_id)


@jobs.job
def federate_follow(follower_id: str, followee_id: str, pending: bool) -> None:
    """A local account's Follow of a remote one; or, when a remote follow of a local account
    was granted at once (unlocked), its Accept."""
    follower, followee = _pair(follower_id, followee_id)
    if follower is None or followee is None:
        return
    if follower.is_local and not followee.is_local:
        follow = documents.follow(follower, followee, new_activity_id())
        publish(follow, follower, to=[followee], object_id=followee.ap_id)
    elif followee.is_local and not follower.is_local and not pending:
        federate_follow_answer(follower_id, followee_id, "Accept")


@jobs.job
def federate_follow_answer(follower_id: str, followee_id: str, kind: str) -> None:
    """Accept or Reject of a remote account's Follow of a local one."""
    follower, followee = _pair(follower_id, followee_id)
    if follower is None or followee is None or follower.is_local or not followee.is_local:
        return
    received = last_activity("Follow", follower.id, followee.ap_id)  # the Follow we were sent
    request: dict | str = received.data if received is not None and received.data else ""
    if not request:
        return  # a follow that did not come over ActivityPub (an import of old data)
    render = documents.accept if kind == "Accept" else documents.reject
    answer = render(followee, request, new_activity_id(), follower.ap_id)
    publish(
        answer,
        followee,
        to=[follower],
        object_id=str(request.get("id", "")) if isinstance(request, dict) else "",
    )


@jobs.job
def federate_unfollow(follower_id: str, followee_id: str) -> None:
    """Undo of a local account's Follow of a remote one (a withdrawn request too)."""
    follower, followee = _pair(follower_id, followee_id)
    if follower is None or followee is None or not follower.is_local or followee.is_local:
        return
    sent = last_activity("Follow", follower.id, followee.ap_id)
    inner = (
        sent.data
        if sent is not None and sent.data
        else documents.follow(follower, followee, new_activity_id())
    )
    publish(
        documents.undo(follower, inner, new_activity_id()), follower, to=[followee], object_id=followee.ap_id
    )


# ---- accounts


@events.account_deleted.connect
def _account_deleted(_sender: object, account_id: str, follower_ids: list[str]) -> None:
    enqueue("federate_account_deletion", account_id=account_id, follower_ids=follower_ids)


@jobs.job
def federate_account_deletion(account_id: str, follower_ids: list[str]) -> None:
    """Delete of a local actor, to the servers of those who followed it (their follows are gone)."""
    account = db.session.get(Account, account_id)
    if account is None or not account.is_local or not account.private_key:
        return
    followers = list(
        db.session.scalars(select(Account).where(Account.id.in_(follower_ids), Account.domain.is_not(None)))
    )
    if followers:  # no other server knew of it: nothing to tell, and no row left naming it
        publish(documents.delete(account.ap_id, account, new_activity_id()), account, to=followers)
