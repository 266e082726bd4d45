"""Blocks (SPEC 24.4, 24.5): `Block` and its `Undo`, both ways. A remote account that blocks a
local one ends the follows between them (both directions) and shows as `blocked_by`."""

from __future__ import annotations

import jobs
from federation import documents
from federation.delivery import publish
from federation.features.support import enqueue
from federation.features.support import id_of
from federation.inbox import UNDO_HANDLERS
from federation.inbox import handles
from federation.inbox import local_account
from federation.outbox import last_activity
from federation.outbox import new_activity_id
from models import Account
from models import db
from services import events
from services import follows

# ---- out


@events.blocked.connect
def _blocked(_sender: object, blocker_id: str, target_id: str, local: bool) -> None:
    if local:
        enqueue("federate_block", blocker_id=blocker_id, target_id=target_id)


@events.unblocked.connect
def _unblocked(_sender: object, blocker_id: str, target_id: str, local: bool) -> None:
    if local:
        enqueue("federate_unblock", blocker_id=blocker_id, target_id=target_id)


def _pair(blocker_id: str, target_id: str) -> tuple[Account, Account] | None:
    """(local blocker, remote target), None when the block does not concern another server."""
    blocker, target = db.session.get(Account, blocker_id), db.session.get(Account, target_id)
    if blocker is None or target is None or not blocker.is_local or target.is_local:
        return None
    return blocker, target


@jobs.job
def federate_block(blocker_id: str, target_id: str) -> None:
    """Block of a remote account, to it alone (as Pleroma with outgoing blocks on)."""
    pair = _pair(blocker_id, target_id)
    if pair is not None:
        blocker, target = pair
        publish(
            documents.block(blocker, target, new_activity_id()), blocker, to=[target], object_id=target.ap_id
        )


@jobs.job
def federate_unblock(blocker_id: str, target_id: str) -> None:
    pair = _pair(blocker_id, target_id)
    if pair is None:
        return
    blocker, target = pair
    sent = last_activity("Block", blocker.id, target.ap_id)
    inner = (
        sent.data if sent is not None and sent.data else documents.block(blocker, target, new_activity_id())
    )
    publish(documents.undo(blocker, inner, new_activity_id()), blocker, to=[target], object_id=target.ap_id)


# ---- in


@handles("Block")
def on_block(activity: dict, actor: Account) -> None:
    target = local_account(id_of(activity.get("object")))
    if target is not None:
        follows.block(actor, target)


def _undo_block(actor: Account, object_id: str, _inner_id: str) -> None:
    target = local_account(object_id)
    if target is not None:
        follows.unblock(actor, target)


UNDO_HANDLERS["Block"] = _undo_block
