"""Which local object or activity an ActivityPub id names, and who may read it (SPEC 24.1):
public ones anyone, the others only a signed fetch by an actor among their recipients."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import exists
from sqlalchemy import false
from sqlalchemy import or_
from sqlalchemy import select

from errors import ApiError
from federation.documents import followers_of
from federation.documents import tombstone
from federation.documents.common import PUBLIC_ALIASES
from federation.inbox import verified_signer
from federation.notes import recipients
from federation.signatures import SignatureError
from federation.signatures import signature_params
from models import Account
from models import Activity
from models import Follow
from models import Status
from models import StatusMention
from models import db
from serializers.common import base_url


def object_id(uuid: str) -> str:
    return f"{base_url()}/objects/{uuid}"


def activity_id(uuid: str) -> str:
    return f"{base_url()}/activities/{uuid}"


def local_status(ap_id: str) -> Status | None:
    """The local status (not a reblog) whose ActivityPub id is `ap_id`."""
    found = db.session.scalar(select(Status).where(Status.uri == ap_id, Status.reblog_of_id.is_(None)))
    return found if found is not None and found.account.domain is None else None


def local_activity(ap_id: str) -> Activity | None:
    """An activity Kenoma sent, with the JSON it delivered."""
    found = db.session.scalar(select(Activity).where(Activity.ap_id == ap_id))
    return found if found is not None and found.is_local and found.data is not None else None


def signed_requester(method: str, target: str, headers: Mapping[str, str]) -> Account | None:
    """The remote actor a GET is signed by; None when unsigned, or signed by no valid key (the
    reader is then anonymous, so nothing tells it whether a private object exists)."""
    try:
        signature_params(headers)
    except SignatureError:  # unsigned: no key to look up
        return None
    try:
        return verified_signer(method, target, headers, None)
    except ApiError:
        return None


def may_read(status: Status, requester_ap_id: str | None) -> bool:
    """Whether the object may be served to `requester_ap_id` (the actor of a verified signed
    fetch, None when unsigned). Public and unlisted statuses are anyone's; the others go only to
    their recipients, and knowing who asks takes a signed fetch. Local-only ones never federate."""
    if status.visibility in ("public", "unlisted"):
        return True
    if requester_ap_id is None or status.visibility == "local":
        return False
    return _is_recipient(status, requester_ap_id)


def _is_recipient(status: Status, requester_ap_id: str) -> bool:
    """The author, an addressed account, or (for a followers-only status) an accepted follower."""
    if requester_ap_id == status.account.ap_id:
        return True
    addressed = exists().where(
        StatusMention.status_id == status.id,
        StatusMention.account_id == Account.id,
    )
    follows = exists().where(
        Follow.follower_id == Account.id,
        Follow.followee_id == status.account_id,
        Follow.is_pending == false(),
    )
    allowed = or_(addressed, follows) if status.visibility == "private" else addressed
    return db.session.scalar(select(Account.id).where(Account.ap_id == requester_ap_id, allowed)) is not None


def publishes_status(activity: Activity) -> bool:
    """Whether the activity is the Create of a status (shown as the status is now), not another
    Create such as a poll vote, whose Note is no status of ours."""
    inner = (activity.data or {}).get("object")
    return activity.type == "Create" and isinstance(inner, dict) and inner.get("id") == activity.object_id


def needs_requester(status: Status) -> bool:
    return status.visibility not in ("public", "unlisted")


def is_public_activity(data: dict) -> bool:
    return bool(_audience(data) & PUBLIC_ALIASES)


def _audience(data: dict) -> set[str]:
    return {*recipients(data.get("to")), *recipients(data.get("cc")), *recipients(data.get("audience"))}


def may_read_activity(activity: Activity, requester: Account | None) -> bool:
    """A public activity is anyone's; another goes to the actors it is addressed to, and to the
    sender's followers when it addresses them."""
    data = activity.data or {}
    audience = _audience(data)
    if audience & PUBLIC_ALIASES:
        return True
    if requester is None:
        return False
    if requester.ap_id in audience:
        return True
    sender = db.session.get(Account, activity.actor_id) if activity.actor_id else None
    if sender is None or followers_of(sender) not in audience:
        return False
    follows = select(Follow.id).where(
        Follow.follower_id == requester.id, Follow.followee_id == sender.id, Follow.is_pending.is_(False)
    )
    return db.session.scalar(follows) is not None


def tombstone_for(ap_id: str) -> dict | None:
    """The Tombstone of a deleted local object, served with a 410: the Delete its author sent
    (kept in the activities table) says when it went. None (404) when no Delete was sent for it.
    The Delete is looked up by itself: a status that had no remote audience was never sent in a
    Create (federation.outbox), so no Create row names its author."""
    deleted = db.session.scalar(
        select(Activity)
        .where(
            Activity.type == "Delete",
            Activity.object_id == ap_id,
            Activity.is_local.is_(True),
            Activity.actor_id.is_not(None),
        )
        .order_by(Activity.id.desc())
        .limit(1)
    )
    if deleted is None or local_status(ap_id) is not None:
        return None
    return tombstone(ap_id, "Note", deleted.created_at)
