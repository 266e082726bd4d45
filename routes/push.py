"""Web Push subscriptions (SPEC 7): one per OAuth token, stored and shown; no push is sent."""

from __future__ import annotations

from apiflask import APIBlueprint
from apiflask.fields import Dict
from apiflask.fields import Nested
from apiflask.fields import String
from apiflask.validators import OneOf

import api_schemas
import serializers
from auth import current_identity
from auth import me
from auth import require_auth
from errors import ApiError
from models import Token
from openapi import responds
from params import Bool
from params import Length
from params import Params
from services import push_subscriptions
from services import web_push  # noqa: F401 - registers the send_web_push job

bp = APIBlueprint("push", __name__, url_prefix="/api/v1/push/subscription", tag="Push")


class KeysIn(Params):
    p256dh = String(required=True, validate=Length(min=1, max=255))
    auth = String(required=True, validate=Length(min=1, max=255))


class SubscriptionIn(Params):
    endpoint = String(required=True, validate=Length(min=1, max=2048))
    keys = Nested(KeysIn, required=True)
    # Mastodon 4.4: the client decrypts RFC 8291 aes128gcm (else the older aesgcm is sent).
    standard = Bool(load_default=False)


class AlertsDataIn(Params):
    alerts = Dict(keys=String(), values=Bool(), load_default=dict)
    policy = String(load_default=None, validate=OneOf(push_subscriptions.POLICIES))


class SubscribeIn(Params):
    subscription = Nested(SubscriptionIn, required=True)
    data = Nested(AlertsDataIn, load_default=dict)


class AlertsIn(Params):
    data = Nested(AlertsDataIn, load_default=dict)


def _token() -> Token:
    """The OAuth token of the call: a subscription belongs to it (SPEC 7)."""
    identity = current_identity()
    if identity is None or identity.token is None:
        # HTTP Basic carries no token, so there is nothing a subscription could belong to.
        raise ApiError(403, "Invalid credentials.")
    return identity.token


@bp.post("")
@require_auth("push")
@bp.input(SubscribeIn, location="json_or_form", arg_name="data")
@responds(api_schemas.PushSubscription)
def subscribe(data: dict) -> dict:
    """Create (or replace) this token's push subscription."""
    subscription = data["subscription"]
    created = push_subscriptions.subscribe(
        me(),
        _token(),
        subscription["endpoint"],
        subscription["keys"],
        data["data"].get("alerts"),
        policy=data["data"].get("policy") or "all",
        standard=subscription["standard"],
    )
    return serializers.push_subscription_json(created)


@bp.get("")
@require_auth("push")
@responds(api_schemas.PushSubscription, 404)
def get_subscription() -> dict:
    """This token's push subscription."""
    return serializers.push_subscription_json(push_subscriptions.find(_token()))


@bp.put("")
@require_auth("push")
@bp.input(AlertsIn, location="json_or_form", arg_name="data")
@responds(api_schemas.PushSubscription, 404)
def update_subscription(data: dict) -> dict:
    """Replace the alerts of this token's subscription (and its policy, when given)."""
    updated = push_subscriptions.update_alerts(
        _token(), data["data"].get("alerts"), data["data"].get("policy")
    )
    return serializers.push_subscription_json(updated)


@bp.delete("")
@require_auth("push")
@responds(api_schemas.EMPTY)
def delete_subscription() -> dict:
    """Remove this token's subscription."""
    push_subscriptions.unsubscribe(_token())
    return {}
