"""Favourites (SPEC 24.4, 24.5): `Like` and its `Undo`, both ways. Out, as Mastodon: a local
account's Like of a remote status goes to its author's server (the one that counts it). In, a
`Like` carrying `content` (how Misskey sends a reaction) is an emoji reaction, handed to
`features.reactions`."""

from __future__ import annotations

from sqlalchemy import select

import jobs
from federation import documents
from federation import notes
from federation.delivery import publish
from federation.features import reactions
from federation.features.support import enqueue
from federation.features.support import may_act_on
from federation.inbox import KEEP_DATA
from federation.inbox import UNDO_HANDLERS
from federation.inbox import handles
from federation.inbox import object_status
from federation.outbox import last_activity
from federation.outbox import new_activity_id
from models import Account
from models import Activity
from models import Status
from models import db
from services import events
from services import interactions

# A Like's Undo must know whether it took back a favourite or a (Misskey) reaction.
KEEP_DATA.add("Like")

# ---- out


@events.favourited.connect
def _favourited(_sender: object, account_id: str, status_id: str, local: bool, author_local: bool) -> None:
    if local and not author_local:
        enqueue("federate_like", account_id=account_id, status_id=status_id)


@events.unfavourited.connect
def _unfavourited(_sender: object, account_id: str, status_id: str, local: bool, author_local: bool) -> None:
    if local and not author_local:
        enqueue("federate_unlike", account_id=account_id, status_id=status_id)


def _liked(account_id: str, status_id: str) -> tuple[Account, Status] | None:
    account, status = db.session.get(Account, account_id), db.session.get(Status, status_id)
    if account is None or status is None or not account.is_local or status.account.is_local:
        return None
    return account, status


@jobs.job
def federate_like(account_id: str, status_id: str) -> None:
    """Like of a remote status by a local account, to its author."""
    pair = _liked(account_id, status_id)
    if pair is None:
        return
    account, status = pair
    like = documents.like(account, status, new_activity_id())
    publish(like, account, to=[status.account], object_id=status.uri)


@jobs.job
def federate_unlike(account_id: str, status_id: str) -> None:
    """Undo of the Like sent for that favourite (a fresh one when it went out before we kept it)."""
    pair = _liked(account_id, status_id)
    if pair is None:
        return
    account, status = pair
    sent = last_activity("Like", account.id, status.uri)
    inner = (
        sent.data if sent is not None and sent.data else documents.like(account, status, new_activity_id())
    )
    undo = documents.undo(account, inner, new_activity_id())
    publish(undo, account, to=[status.account], object_id=status.uri)


# ---- in


@handles("Like")
def on_like(activity: dict, actor: Account) -> None:
    status = object_status(activity)
    if status is None or not may_act_on(status, actor):
        return
    if activity.get("content") and reactions.react_from(activity, actor, status):
        return  # Misskey's reaction; one whose emoji we cannot take stays a plain favourite
    interactions.favourite(actor, status)


def _undo_like(actor: Account, object_id: str, inner_id: str) -> None:
    status = notes.known_status(object_id)
    if status is None:
        return
    received = db.session.scalar(
        select(Activity).where(Activity.ap_id == inner_id, Activity.actor_id == actor.id)
    )
    if received is not None and received.data and received.data.get("content"):
        if reactions.unreact_from(received.data, actor, status):
            return
    interactions.unfavourite(actor, status)


UNDO_HANDLERS["Like"] = _undo_like
