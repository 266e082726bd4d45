"""Mastodon accounts (SPEC 3)."""

from __future__ import annotations

from apiflask import APIBlueprint
from apiflask.fields import String
from flask import current_app
from flask import request

import serializers
from auth import current_identity
from auth import me
from auth import oauth_server
from auth import require_auth
from errors import ApiError
from params import Bool
from params import Params
from services import captchas
from services.accounts import create_local_account

bp = APIBlueprint("accounts", __name__, url_prefix="/api/v1/accounts", tag="Accounts")


class RegisterIn(Params):
    username = String(required=True)
    password = String(required=True)
    email = String(load_default=None, allow_none=True)
    agreement = Bool(load_default=False)
    locale = String(load_default=None, allow_none=True)
    reason = String(load_default=None, allow_none=True)
    fullname = String(load_default=None, allow_none=True)
    bio = String(load_default="")
    captcha_token = String(load_default=None, allow_none=True)
    captcha_solution = String(load_default=None, allow_none=True)
    captcha_answer_data = String(load_default=None, allow_none=True)


@bp.post("")
@require_auth(app_token=True)
@bp.input(RegisterIn, location="json_or_form", arg_name="data")
def register(data: dict) -> dict:
    """Register an account; the answer is a token, so the client is logged in at once."""
    if not current_app.config["REGISTRATIONS_OPEN"]:
        # Pleroma treats closed registrations as invite-only and asks for the invite token.
        raise ApiError(400, "Invalid token")
    identity = current_identity()
    if identity is None or identity.token is None or identity.token.app is None:
        raise ApiError(403, "Invalid credentials")  # registration goes through an app's token
    captchas.check(data)
    account = create_local_account(
        data["username"], data["password"], email=data["email"],
        display_name=data["fullname"] or "", bio=data["bio"],
    )
    return _token_for(identity.token.app, account)


def _token_for(app: object, account: object) -> dict:
    """A user token with the app's scopes, issued through authlib's token generator."""
    from models import Token
    from models import db

    generator = oauth_server._token_generators["default"]
    token = generator(grant_type="password", client=app, user=account, scope=app.scopes)
    row = Token(client_id=app.client_id, app_id=app.id, account_id=account.id, **token)
    db.session.add(row)
    db.session.commit()
    return token | {"id": row.id, "created_at": row.issued_at, "me": account.ap_id}


@bp.get("/verify_credentials")
@require_auth("read:accounts")
def verify_credentials() -> dict:
    """The caller's own account, with `source` and the owner-only `pleroma` keys."""
    return serializers.account_json(me(), me(), with_source=True)
