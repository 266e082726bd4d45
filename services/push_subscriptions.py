"""Web Push subscriptions (SPEC 7): stored per OAuth token; services/web_push.py sends the pushes
(SPEC 25.2)."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy import select

from errors import ApiError
from models import Account
from models import PushSubscription
from models import Token
from models import db

# Pleroma's and Akkoma's lists together (SPEC 22): Pleroma has chat mentions, Akkoma polls.
ALERT_TYPES = (
    "follow",
    "favourite",
    "mention",
    "reblog",
    "poll",
    "pleroma:chat_mention",
    "pleroma:emoji_reaction",
)


# Whose notifications are pushed: anyone's, accounts the owner follows, its followers, nobody's.
POLICIES = ("all", "followed", "follower", "none")


def url_safe_key(value: str) -> str:
    """Browsers hand out keys in either base64 alphabet; keep the URL-safe one, unpadded."""
    return value.strip().replace("+", "-").replace("/", "_").rstrip("=")


def supported_alerts(alerts: dict | None) -> dict[str, bool]:
    """Exactly the supported types the client sent; no defaults for the others."""
    return {key: bool(value) for key, value in (alerts or {}).items() if key in ALERT_TYPES}


def find(token: Token) -> PushSubscription:
    subscription = db.session.scalar(select(PushSubscription).where(PushSubscription.token_id == token.id))
    if subscription is None:
        raise ApiError(404, "Record not found")
    return subscription


def subscribe(
    account: Account,
    token: Token,
    endpoint: str,
    keys: dict,
    alerts: dict | None,
    policy: str = "all",
    standard: bool = False,
) -> PushSubscription:
    """Replace the token's subscription with a new one."""
    db.session.execute(delete(PushSubscription).where(PushSubscription.token_id == token.id))
    subscription = PushSubscription(
        account_id=account.id,
        token_id=token.id,
        endpoint=endpoint,
        key_p256dh=url_safe_key(keys["p256dh"]),
        key_auth=url_safe_key(keys["auth"]),
        alerts=supported_alerts(alerts),
        policy=policy,
        is_standard=standard,
    )
    db.session.add(subscription)
    db.session.commit()
    return subscription


def update_alerts(token: Token, alerts: dict | None, policy: str | None = None) -> PushSubscription:
    subscription = find(token)
    subscription.alerts = supported_alerts(alerts)
    if policy is not None:
        subscription.policy = policy
    db.session.commit()
    return subscription


def unsubscribe(token: Token) -> None:
    db.session.delete(find(token))
    db.session.commit()
