"""Which local object an ActivityPub id names, and who may read it (SPEC 24.1)."""

from __future__ import annotations

from sqlalchemy import exists
from sqlalchemy import false
from sqlalchemy import or_
from sqlalchemy import select

from models import Account
from models import Follow
from models import Status
from models import StatusMention
from models import db
from serializers.common import base_url


def object_id(uuid: str) -> str:
    return f"{base_url()}/objects/{uuid}"


def local_status(ap_id: str) -> Status | None:
    """The local status (not a reblog) whose ActivityPub id is `ap_id`."""
    found = db.session.scalar(select(Status).where(Status.uri == ap_id, Status.reblog_of_id.is_(None)))
    return found if found is not None and found.account.domain is None else None


def may_read(status: Status, requester_ap_id: str | None) -> bool:
    """Whether the object may be served to `requester_ap_id` (the actor of a verified signed
    fetch, None when unsigned). Public and unlisted statuses are anyone's; the others go only to
    their recipients, and knowing who asks takes a signed fetch."""
    if status.visibility in ("public", "unlisted"):
        return True
    return False if requester_ap_id is None else _is_recipient(status, requester_ap_id)


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


def tombstone_for(ap_id: str) -> dict | None:
    """The Tombstone of a deleted local object, served with a 410. Kenoma keeps no record of the
    ids it deleted, so a deleted object is indistinguishable from an unknown one: None (404)."""
    return None
