"""Delivering local activities (SPEC 24.5): each activity is stored once, then one job per inbox
POSTs it signed by its actor. A server with a shared inbox gets one request however many of
its accounts are addressed. Network errors, 5xx and 429 are retried with exponential backoff for
about two days; other 4xx answers are final. Nothing here runs inside a client's request."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable

from flask import current_app
from sqlalchemy import func
from sqlalchemy import select

import jobs
import outbound
from federation.fetch import host_of
from federation.fetch import is_blocked_host
from federation.fetch import signing_key
from federation.signatures import sign_request
from models import Account
from models import Activity
from models import Follow
from models import db

log = logging.getLogger(__name__)

AP_CONTENT_TYPE = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
# Seconds before each retry: 30 s, 2 min, 10 min, 1 h, 4 h, 12 h, 24 h — about 42 h in all.
BACKOFF = (30, 120, 600, 3600, 4 * 3600, 12 * 3600, 24 * 3600)


def federating() -> bool:
    return bool(current_app.config["FEDERATING"])


def follower_inboxes(account_id: str) -> set[str]:
    """One inbox per remote server among the account's accepted followers (shared when it has one)."""
    query = (
        select(func.coalesce(Account.shared_inbox, Account.inbox))
        .join(Follow, Follow.follower_id == Account.id)
        .where(Follow.followee_id == account_id, Follow.is_pending.is_(False), Account.domain.is_not(None))
        .distinct()
    )
    return {inbox for inbox in db.session.scalars(query) if inbox}


def account_inboxes(accounts: Iterable[Account]) -> set[str]:
    return {
        a.shared_inbox or a.inbox for a in accounts if a.domain is not None and (a.shared_inbox or a.inbox)
    }


def publish(
    data: dict,
    actor: Account | None,
    *,
    to: Iterable[Account] = (),
    followers: bool = False,
    object_id: str = "",
    extra_inboxes: Iterable[str] = (),
) -> Activity | None:
    """Store a local activity and queue its delivery to the remote accounts in `to` and, with
    `followers`, to the actor's remote followers. Returns the stored activity."""
    activity = Activity(
        ap_id=data["id"],
        type=str(data["type"]),
        actor_id=actor.id if actor is not None else None,
        object_id=object_id,
        is_local=True,
        data=data,
    )
    db.session.add(activity)
    inboxes = account_inboxes(to) | set(extra_inboxes)
    if followers and actor is not None:
        inboxes |= follower_inboxes(actor.id)
    db.session.commit()
    if not federating():
        return activity
    for inbox in sorted(inboxes):
        if not is_blocked_host(host_of(inbox)):
            jobs.enqueue("deliver", inbox=inbox, activity_id=activity.id)
    return activity


def _retry(inbox: str, activity_id: str, attempt: int, reason: str) -> None:
    if attempt >= len(BACKOFF):
        log.warning("delivery to %s given up after %d attempts: %s", inbox, attempt + 1, reason)
        return
    log.info("delivery to %s failed (%s); retrying in %d s", inbox, reason, BACKOFF[attempt])
    jobs.enqueue("deliver", delay=BACKOFF[attempt], inbox=inbox, activity_id=activity_id, attempt=attempt + 1)


@jobs.job
def deliver(inbox: str, activity_id: str, attempt: int = 0) -> None:
    """POST one stored activity to one inbox, signed by its actor (or the instance actor)."""
    activity = db.session.get(Activity, activity_id)
    if activity is None or activity.data is None or not federating() or is_blocked_host(host_of(inbox)):
        return
    signer = db.session.get(Account, activity.actor_id) if activity.actor_id else None
    key_id, private = signing_key(signer)
    body = json.dumps(activity.data).encode()
    headers = {"Content-Type": AP_CONTENT_TYPE, **sign_request("POST", inbox, body, key_id, private)}
    try:
        status = outbound.post(inbox, body, headers, allow_private=current_app.config["ALLOW_PRIVATE_FETCH"])
    except outbound.FetchError as exc:
        if "refused non-public address" in str(exc):
            log.warning("delivery to %s refused: %s", inbox, exc)
            return
        _retry(inbox, activity_id, attempt, str(exc))
        return
    if status >= 500 or status == 429:
        _retry(inbox, activity_id, attempt, f"HTTP {status}")
    elif status >= 400:
        log.info("delivery to %s refused with HTTP %d; not retried", inbox, status)
