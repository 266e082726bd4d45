"""Account moves (SPEC 11, 24.4, 24.5). Out: when a local account moves, a Move to its remote
followers' servers. In: a Move from a remote account is what `move_account` does, seen from
its followers' side — the target must list the origin in `alsoKnownAs` (read afresh from the
target's server, not from a stored copy); then the origin points at the target and
`services.migration.move_followers` moves the local followers (each new follow of a remote
target goes out as a Follow through its own event)."""

from __future__ import annotations

import jobs
from federation import actors
from federation import documents
from federation.delivery import publish
from federation.inbox import handles
from federation.notes import recipients
from federation.outbox import enqueue
from federation.outbox import new_activity_id
from models import Account
from models import db
from services import events
from services import migration


@events.account_moved.connect
def _account_moved(_sender: object, origin_id: str, target_id: str) -> None:
    enqueue("federate_move", origin_id=origin_id, target_id=target_id)


@jobs.job
def federate_move(origin_id: str, target_id: str) -> None:
    origin, target = db.session.get(Account, origin_id), db.session.get(Account, target_id)
    if origin is None or target is None or not origin.is_local:
        return
    publish(documents.move(origin, target, new_activity_id()), origin, followers=True, object_id=target.ap_id)


@handles("Move")
def on_move(activity: dict, actor: Account) -> None:
    moved = recipients(activity.get("object"))
    target_ids = recipients(activity.get("target"))
    if moved != [actor.ap_id] or len(target_ids) != 1 or target_ids[0] == actor.ap_id:
        return  # one may only move oneself
    target = _fresh_target(target_ids[0])
    if target is None or not target.is_active or actor.ap_id not in (target.also_known_as or []):
        return
    # Not skipped when the origin already points at the target: an Update of its actor with
    # `movedTo` may have come first, and the followers still have to move.
    actor.moved_to_id = target.id
    db.session.commit()
    migration.move_followers(actor.id, target.id)


def _fresh_target(ap_id: str) -> Account | None:
    """The target as it is now: a remote one is fetched again (its aliases may have changed
    since it was stored); a local one is read from the database."""
    known = actors.known_actor(ap_id)
    if known is not None and known.is_local:
        return known
    return actors.fetch_actor(ap_id)
