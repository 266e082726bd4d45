"""Reblogs (SPEC 24.4, 24.5): `Announce` and its `Undo`. Out, a local reblog is a status like
any other: `federation.outbox` sends its Announce when it is posted and the Undo when it is
deleted (unreblogging deletes it). In, here: an Announce becomes the remote account's reblog row,
its uri the Announce's id, fetching the announced status when it is not known yet."""

from __future__ import annotations

from federation import notes
from federation.documents import visibility_from
from federation.features.support import id_of
from federation.features.support import may_act_on
from federation.fetch import host_of
from federation.inbox import UNDO_HANDLERS
from federation.inbox import handles
from federation.resolve import resolve_object
from models import Account
from services import interactions


@handles("Announce")
def on_announce(activity: dict, actor: Account) -> None:
    announce_id = str(activity["id"])
    if host_of(announce_id) != host_of(actor.ap_id):
        return  # the reblog row is named by this id: it must be the actor's own
    status = resolve_object(id_of(activity.get("object")))
    if status is None or status.is_reblog or not may_act_on(status, actor):
        return
    visibility = visibility_from(activity.get("to"), activity.get("cc"), actor.followers_url)
    # An Announce only for some (never seen from Pleroma or Mastodon) is kept to followers.
    wanted = visibility if visibility in ("public", "unlisted") else "private"
    interactions.reblog(actor, status, wanted, uri=announce_id[:1024])


def _undo_announce(actor: Account, object_id: str, inner_id: str) -> None:
    wrapper = notes.known_status(inner_id)
    if wrapper is not None and wrapper.is_reblog and wrapper.account_id == actor.id:
        interactions.delete_status(wrapper)
        return
    status = notes.known_status(object_id)
    if status is not None:
        interactions.unreblog(actor, status)


UNDO_HANDLERS["Announce"] = _undo_announce
