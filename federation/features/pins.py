"""Pins (SPEC 24.4, 24.5): `Add` and `Remove` of a status to its author's featured collection,
both ways. Out, to the followers; in, the remote author's status is pinned or unpinned here
(fetched first when an Add names one we do not know)."""

from __future__ import annotations

import jobs
from federation import documents
from federation import notes
from federation.delivery import publish
from federation.features.support import enqueue
from federation.features.support import id_of
from federation.fetch import host_of
from federation.inbox import handles
from federation.outbox import new_activity_id
from federation.resolve import resolve_object
from models import Account
from models import Status
from models import db
from services import events
from services import interactions

# ---- out


@events.pinned.connect
def _pinned(_sender: object, account_id: str, status_id: str) -> None:
    enqueue("federate_pin", account_id=account_id, status_id=status_id, kind="Add")


@events.unpinned.connect
def _unpinned(_sender: object, account_id: str, status_id: str) -> None:
    enqueue("federate_pin", account_id=account_id, status_id=status_id, kind="Remove")


@jobs.job
def federate_pin(account_id: str, status_id: str, kind: str) -> None:
    """Add (pinned) or Remove (unpinned) of a local account's open status, to its followers."""
    account, status = db.session.get(Account, account_id), db.session.get(Status, status_id)
    if account is None or status is None or not account.is_local or status.account_id != account.id:
        return
    if status.visibility not in ("public", "unlisted"):
        return
    render = documents.add if kind == "Add" else documents.remove
    publish(render(account, status, new_activity_id()), account, followers=True, object_id=status.uri)


# ---- in


def _to_featured(activity: dict, actor: Account) -> bool:
    # The featured collection lives on the actor's server (we keep no record of its exact id);
    # what matters is that an actor only ever pins its own statuses, checked by the callers.
    target = id_of(activity.get("target"))
    return bool(target) and host_of(target) == host_of(actor.ap_id)


def _own(status: Status | None, actor: Account) -> bool:
    return status is not None and status.account_id == actor.id and not status.is_reblog


@handles("Add")
def on_add(activity: dict, actor: Account) -> None:
    if not _to_featured(activity, actor):
        return
    status = resolve_object(id_of(activity.get("object")))
    if status is not None and _own(status, actor):
        interactions.set_remote_pin(status, True)


@handles("Remove")
def on_remove(activity: dict, actor: Account) -> None:
    if not _to_featured(activity, actor):
        return
    status = notes.known_status(id_of(activity.get("object")))
    if status is not None and _own(status, actor):
        interactions.set_remote_pin(status, False)
