"""Web Push delivery (SPEC 25.2): each new notification whose type a subscription's `alerts`
allows and whose sender its `policy` admits goes out encrypted to the subscription's push
service, as Mastodon sends it: `aesgcm` by default, RFC 8291 `aes128gcm` for a subscription made
with standard=true; VAPID-signed with the instance key pair (keys.py). A job per commit that
notified someone with a subscription (streaming.events queues it); a push service answering
404/410 has forgotten the subscription, so it is removed; other failures retry."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
from flask import current_app
from sqlalchemy import delete
from sqlalchemy import select

import formatting
import jobs
from jobs import job
from models import Account
from models import Follow
from models import Notification
from models import PushSubscription
from models import Status
from models import Token
from models import db
from serializers import account_json

log = logging.getLogger(__name__)

TTL_SECONDS = 48 * 3600  # how long a push service keeps a message for an offline device
TIMEOUT_SECONDS = 10
GONE = (404, 410)
BODY_CHARS = 140
# A notification type -> the `alerts` key that allows it (SPEC 7).
ALERT_OF = {"follow_request": "follow", "update": "mention"}
TITLES = {
    "mention": "{name} mentioned you",
    "follow": "{name} followed you",
    "follow_request": "{name} requested to follow you",
    "favourite": "{name} favourited your post",
    "reblog": "{name} boosted your post",
    "poll": "A poll you have voted in has ended",
    "update": "{name} edited a post",
    "move": "{name} moved",
    "pleroma:emoji_reaction": "{name} reacted to your post",
    "pleroma:chat_mention": "{name} sent you a chat message",
}


# Seconds before each retry of a message a push service did not take (not 404/410).
RETRY_DELAYS = (10, 60, 300, 1800)


@job
def send_web_push(notification_ids: list[str], attempt: int = 0, only: list[list] | None = None) -> None:
    """Push each notification to its recipient's subscriptions; `only` (retries) names the
    (notification, subscription) pairs still to deliver."""
    retry: list[list] = []
    wanted = {(n, s) for n, s in only} if only is not None else None
    for notification_id in notification_ids:
        notification = db.session.get(Notification, notification_id)
        if notification is None:
            continue  # dismissed or undone since
        for subscription in _subscriptions_for(notification):
            if wanted is not None and (notification_id, subscription.id) not in wanted:
                continue
            if not _deliver(subscription, notification):
                retry.append([notification_id, subscription.id])
    db.session.commit()
    if retry and attempt < len(RETRY_DELAYS):
        ids = sorted({n for n, _ in retry})
        jobs.enqueue(
            "send_web_push",
            delay=RETRY_DELAYS[attempt],
            notification_ids=ids,
            attempt=attempt + 1,
            only=retry,
        )
    elif retry:
        log.warning("web push: %d message(s) given up after %d attempts", len(retry), attempt + 1)


def _subscriptions_for(notification: Notification) -> list[PushSubscription]:
    subscriptions = db.session.scalars(
        select(PushSubscription).where(PushSubscription.account_id == notification.account_id)
    ).all()
    alert = ALERT_OF.get(notification.type, notification.type)
    wanted = [s for s in subscriptions if (s.alerts or {}).get(alert) and s.policy != "none"]
    return [s for s in wanted if _admitted(s.policy, notification)]


def _admitted(policy: str, notification: Notification) -> bool:
    """`followed`: only accounts the owner follows; `follower`: only its followers."""
    if policy == "all":
        return True
    owner, sender = notification.account_id, notification.from_account_id
    follower, followee = (owner, sender) if policy == "followed" else (sender, owner)
    query = select(Follow.id).where(
        Follow.follower_id == follower, Follow.followee_id == followee, Follow.is_pending.is_(False)
    )
    return db.session.scalar(query) is not None


def payload(subscription: PushSubscription, notification: Notification) -> dict[str, Any]:
    """Mastodon's Web Push payload."""
    sender = db.session.get(Account, notification.from_account_id)
    token = db.session.get(Token, subscription.token_id)
    name = (sender.display_name or sender.nickname) if sender else ""
    return {
        "access_token": token.access_token if token else "",
        "preferred_locale": "en",
        "notification_id": str(notification.id),  # a string, as the API shows it
        "notification_type": notification.type,
        "icon": account_json(sender)["avatar"] if sender else "",
        "title": TITLES.get(notification.type, "New notification").format(name=name),
        "body": _body(notification, sender),
    }


def _body(notification: Notification, sender: Account | None) -> str:
    status = db.session.get(Status, notification.status_id) if notification.status_id else None
    if status is not None:
        text = status.spoiler_text or formatting.html_to_text(status.content)
    else:
        text = formatting.html_to_text(sender.note_html) if sender and sender.note_html else ""
    return text if len(text) <= BODY_CHARS else text[: BODY_CHARS - 1] + "…"


def _contact() -> str:
    """The VAPID `sub`: the instance's e-mail, else its https URL, else a mailto: at its host."""
    config = current_app.config
    if config["INSTANCE_EMAIL"]:
        return f"mailto:{config['INSTANCE_EMAIL']}"
    if config["BASE_URL"].startswith("https://"):
        return config["BASE_URL"]
    return f"mailto:admin@{urlsplit(config['BASE_URL']).hostname}"


def _deliver(subscription: PushSubscription, notification: Notification) -> bool:
    """Send one message; False when it should be tried again."""
    from py_vapid import Vapid01
    from py_vapid import Vapid02
    from pywebpush import WebPushException  # lazy: pywebpush loads aiohttp (~10 MB)
    from pywebpush import webpush

    import outbound  # lazy, as the libraries below: a server that never pushes loads none

    info = {
        "endpoint": subscription.endpoint,
        "keys": {"p256dh": subscription.key_p256dh, "auth": subscription.key_auth},
    }
    config = current_app.config
    key_file = Path(current_app.instance_path) / "vapid_private.pem"
    try:
        webpush(
            info,
            data=orjson.dumps(payload(subscription, notification)).decode(),
            # aesgcm goes with VAPID draft 01 (`Authorization: WebPush <jwt>`, the key in
            # `Crypto-Key: ...;p256ecdsa=`), as Mastodon sends it; aes128gcm with RFC 8292.
            vapid_private_key=(Vapid02 if subscription.is_standard else Vapid01).from_file(str(key_file)),
            vapid_claims={"sub": _contact()},
            content_encoding="aes128gcm" if subscription.is_standard else "aesgcm",
            ttl=TTL_SECONDS,
            timeout=TIMEOUT_SECONDS,
            requests_session=outbound.guarded_session(config["ALLOW_PRIVATE_FETCH"]),
        )
    except WebPushException as error:
        status = error.response.status_code if error.response is not None else None
        if status in GONE:
            db.session.execute(delete(PushSubscription).where(PushSubscription.id == subscription.id))
            return True
        log.warning("web push to subscription %s failed: %s", subscription.id, status or error)
        return False
    except Exception as error:  # unreachable service, refused address...
        log.warning("web push to subscription %s failed: %s", subscription.id, error)
        return False
    return True
