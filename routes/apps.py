"""Client app registration (SPEC 2)."""

from __future__ import annotations

import secrets
import time

from apiflask import APIBlueprint
from apiflask.fields import String

import api_schemas
import scopes as scope_rules
import serializers
from auth import current_identity
from auth import require_auth
from errors import ApiError
from models import App
from models import db
from openapi import responds
from params import Length
from params import Params

bp = APIBlueprint("apps", __name__, url_prefix="/api/v1/apps", tag="Apps")


class AppIn(Params):
    client_name = String(required=True, validate=Length(max=255))
    redirect_uris = String(required=True, validate=Length(max=2048))
    scopes = String(load_default="read", validate=Length(max=1024))
    website = String(load_default=None, allow_none=True, validate=Length(max=2048))


@bp.post("")
@bp.input(AppIn, location="json_or_form", arg_name="data")
@responds(api_schemas.App)
def create_app(data: dict) -> dict:
    """Register a client application."""
    requested = data["scopes"].replace("+", " ").split() or ["read"]
    unknown = scope_rules.unknown(requested)
    if unknown:
        raise ApiError(400, f"Unsupported scope: {unknown[0]}")
    app = App(
        name=data["client_name"],
        website=data["website"] or None,
        redirect_uris_text=" ".join(data["redirect_uris"].split()),
        scopes=" ".join(requested),
        client_id=secrets.token_urlsafe(32),
        client_secret=secrets.token_urlsafe(32),
        client_id_issued_at=int(time.time()),
    )
    db.session.add(app)
    db.session.commit()
    return serializers.app_json(app, with_secrets=True)


@bp.get("/verify_credentials")
@responds(api_schemas.App, 401)
def verify_credentials() -> dict:
    """The app the token belongs to."""
    return _verify()


@require_auth(optional=True, app_token=True)
def _verify() -> dict:
    identity = current_identity()
    if identity is None or identity.token is None or identity.token.app is None:
        # The one Mastodon-style 401 Kenoma keeps (SPEC 2).
        raise ApiError(401, "Invalid credentials")
    return serializers.app_json(identity.token.app)
