"""Inbound activities (SPEC 24.3, 24.4). `accept()` runs in the inbox request: size, JSON shape,
signature and actor containment; everything else happens in the `process_activity` job, which
claims the activity's id first so a replay changes nothing. One handler per activity type;
`federation.handlers` registers the interaction handlers beside the ones here."""

from __future__ import annotations

import logging
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

import jobs
from errors import ApiError
from federation import actors
from federation import notes
from federation import outbox
from federation.fetch import FetchError
from federation.fetch import fetch_document
from federation.fetch import host_of
from federation.fetch import is_blocked_host
from federation.signatures import SignatureError
from federation.signatures import signature_params
from federation.signatures import verify_request
from models import Account
from models import Activity
from models import Follow
from models import Status
from models import db
from services import follows
from services import interactions

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024
INVALID_SIGNATURE = "Invalid signature"
# Activities whose JSON is kept after processing: an Accept or Reject embeds the Follow it answers;
# the feature modules add the ones whose Undo needs more than the object's id (a reaction's emoji).
KEEP_DATA: set[str] = {"Follow"}

Handler = Callable[[dict, Account], None]
HANDLERS: dict[str, Handler] = {}


def handles(*kinds: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        for kind in kinds:
            HANDLERS[kind] = handler
        return handler

    return register


# ---- the request: authenticate, then queue


def _id_of(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def check_shape(activity: Any) -> dict:
    if (
        not isinstance(activity, dict)
        or not _id_of(activity.get("id"))
        or not isinstance(activity.get("type"), str)
    ):
        raise ApiError(400, "Not an activity")
    if not _id_of(activity.get("actor")):
        raise ApiError(400, "The activity names no actor")
    return activity


def verified_signer(method: str, target: str, headers: Mapping[str, str], body: bytes | None) -> Account:
    """The remote account whose key signed the request (a POST's body, or a GET when `body` is
    None); ApiError 401 (403 for a blocked instance) otherwise."""
    try:
        key_id = signature_params(headers)["keyid"]
    except SignatureError as exc:
        raise ApiError(401, INVALID_SIGNATURE) from exc
    if is_blocked_host(host_of(key_id)):
        raise ApiError(403, "Instance blocked")
    signer = actors.actor_for_key(key_id)
    for attempt in (1, 2):
        if signer is None or not signer.public_key:
            break
        try:
            verify_request(method, target, headers, body, signer.public_key)
            return signer
        except SignatureError as exc:
            log.info("signature by %s refused (%s)", key_id, exc)
            if attempt == 1:
                signer = actors.actor_for_key(key_id, refresh=True)  # the key may have rotated
    raise ApiError(401, INVALID_SIGNATURE)


def accept(method: str, target: str, headers: Mapping[str, str], body: bytes, activity: Any) -> None:
    """Authenticate an inbox POST and queue its processing; raises ApiError to refuse it."""
    activity = check_shape(activity)
    actor_id = _id_of(activity["actor"]) or ""
    if is_blocked_host(host_of(actor_id)):
        raise ApiError(403, "Instance blocked")
    if host_of(_id_of(activity["id"]) or "") != host_of(actor_id):
        raise ApiError(403, "The activity is not from its actor's server")
    signer = verified_signer(method, target, headers, body)
    if signer.ap_id != actor_id:
        raise ApiError(403, "The signature is not the actor's")
    jobs.enqueue("process_activity", activity=activity, actor_id=signer.id)


# ---- the job


def claim(activity: dict, actor: Account) -> bool:
    """Record the activity's id; False when it was seen before (a replay)."""
    row = Activity(
        ap_id=str(activity["id"])[:1024],
        type=activity["type"][:32],
        actor_id=actor.id,
        object_id=(_id_of(activity.get("object")) or "")[:1024],
        is_local=False,
        data=activity if activity["type"] in KEEP_DATA else None,
    )
    db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    return True


@jobs.job
def process_activity(activity: dict, actor_id: str) -> None:
    actor = db.session.get(Account, actor_id)
    handler = HANDLERS.get(activity.get("type", ""))
    if actor is None or handler is None:
        return
    if not claim(activity, actor):
        return
    if actors.is_stale(actor):  # a profile seen only through old activities is read again
        jobs.enqueue("refresh_actor", account_id=actor.id)
    try:
        handler(activity, actor)
    except (ApiError, FetchError) as exc:
        db.session.rollback()
        log.info("%s %s from %s not applied: %s", activity["type"], activity["id"], actor.ap_id, exc)


# ---- objects named by activities


def object_document(activity: dict, actor: Account) -> dict | None:
    """The activity's object as a document: embedded, or fetched from its own host."""
    value = activity.get("object")
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            return fetch_document(value)
        except FetchError:
            return None
    return None


def local_account(ap_id: str | None) -> Account | None:
    if not ap_id:
        return None
    account = db.session.scalar(select(Account).where(Account.ap_id == ap_id, Account.domain.is_(None)))
    return account if account is not None and account.is_active else None


def object_status(activity: dict) -> Status | None:
    return notes.known_status(_id_of(activity.get("object")) or "")


# ---- handlers: follows


@handles("Follow")
def on_follow(activity: dict, actor: Account) -> None:
    target = local_account(_id_of(activity.get("object")))
    if target is None:
        return
    known = follows.find_follow(actor.id, target.id)
    try:
        row = follows.follow(actor, target)  # a new follow is answered through its event
    except ApiError:  # blocked, or the account cannot be followed
        db.session.rollback()
        outbox.federate_follow_answer(actor.id, target.id, "Reject")
        return
    if known is not None and not row.is_pending:  # asked again: it never saw our Accept
        outbox.federate_follow_answer(actor.id, target.id, "Accept")


def _our_follow(activity: dict, actor: Account) -> Account | None:
    """The local follower whose Follow of `actor` an Accept or Reject answers."""
    inner = activity.get("object")
    follower_ap_id = _id_of(inner.get("actor")) if isinstance(inner, dict) else None
    if follower_ap_id is None and isinstance(inner, str):
        sent = db.session.scalar(select(Activity).where(Activity.ap_id == inner, Activity.is_local.is_(True)))
        follower = db.session.get(Account, sent.actor_id) if sent is not None and sent.actor_id else None
        return follower if follower is not None and follower.is_local else None
    return local_account(follower_ap_id)


@handles("Accept")
def on_accept(activity: dict, actor: Account) -> None:
    follower = _our_follow(activity, actor)
    if follower is not None:
        follows.accepted_by_remote(follower, actor)


@handles("Reject")
def on_reject(activity: dict, actor: Account) -> None:
    follower = _our_follow(activity, actor)
    if follower is not None:
        follows.rejected_by_remote(follower, actor)


# ---- handlers: objects


@handles("Create")
def on_create(activity: dict, actor: Account) -> None:
    note = object_document(activity, actor)
    if note is None or any(claim(note, actor) for claim in CREATE_CLAIMS):
        return  # not a status (a poll vote, a chat message): taken by its module
    if notes.check_contained(note, actor):
        notes.ingest(note, actor)


# Created objects that are not statuses: each claim takes the object (True) or leaves it; a
# claim checks itself that the actor wrote the object (notes.check_contained for a Note).
Claim = Callable[[dict, Account], bool]
CREATE_CLAIMS: list[Claim] = []


@handles("Delete")
def on_delete(activity: dict, actor: Account) -> None:
    object_id = _id_of(activity.get("object"))
    if object_id == actor.ap_id:
        _delete_actor(actor)
        return
    status = notes.known_status(object_id or "")
    if status is not None and status.account_id == actor.id:
        interactions.delete_status(status)


def _delete_actor(actor: Account) -> None:
    """A remote account is gone: its follows end (counters move) and its rows go with it."""
    rows = db.session.scalars(
        select(Follow).where((Follow.follower_id == actor.id) | (Follow.followee_id == actor.id))
    ).all()
    for row in rows:
        follows.drop_follow(row)
    # The follows go first: deleting the account would cascade them away in the database, and
    # the session's own DELETEs of them would then find nothing.
    db.session.flush()
    db.session.delete(actor)
    db.session.commit()


@handles("Update")
def on_update(activity: dict, actor: Account) -> None:
    document = activity.get("object")
    if not isinstance(document, dict):
        return
    if document.get("id") == actor.ap_id and actors.is_actor(document):
        actors.upsert_actor(document)
    elif notes.check_contained(document, actor):
        edit = UPDATE_HANDLERS.get("Note")  # registered where edits are applied
        if edit is not None:
            edit(document, actor)


# Updated objects by kind (the edit of a Note), registered beside the other interaction handlers.
UPDATE_HANDLERS: dict[str, Handler] = {}


@handles("Undo")
def on_undo(activity: dict, actor: Account) -> None:
    inner = activity.get("object")
    inner_id = _id_of(inner)
    if isinstance(inner, dict):
        kind, object_id = str(inner.get("type") or ""), _id_of(inner.get("object"))
    else:
        known = db.session.scalar(select(Activity).where(Activity.ap_id == (inner_id or "")))
        if known is None or known.actor_id != actor.id:
            return
        kind, object_id = known.type, known.object_id
    if isinstance(inner, dict) and _id_of(inner.get("actor")) not in (None, actor.ap_id):
        return  # one may only undo one's own activities
    undo = UNDO_HANDLERS.get(kind)
    if undo is not None:
        undo(actor, object_id or "", inner_id or "")


def _undo_follow(actor: Account, object_id: str, inner_id: str) -> None:
    target = local_account(object_id)
    if target is None:
        return
    latest = outbox.last_activity("Follow", actor.id, object_id)
    if inner_id and latest is not None and latest.ap_id != inner_id:
        return  # it takes back an earlier Follow, delivered late: the newer one stands
    follows.unfollow(actor, target)


UndoHandler = Callable[[Account, str, str], None]
UNDO_HANDLERS: dict[str, UndoHandler] = {"Follow": _undo_follow}
