"""OAuth2 endpoints (SPEC 2): the login form, the token endpoint and revocation (authlib)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs
from urllib.parse import urlsplit

from apiflask import APIBlueprint
from apiflask.fields import Dict
from apiflask.fields import String
from apiflask.validators import OneOf
from authlib.oauth2 import OAuth2Error
from flask import Response
from flask import render_template
from flask import request

import api_schemas
import ratelimits
import scopes as scope_rules
from auth import find_token
from auth import issue_token
from auth import oauth_server
from auth import session_account
from errors import ApiError
from errors import error_response
from models import Account
from models import App
from models import MfaSettings
from models import db
from openapi import LOCATION_HEADER
from openapi import answer
from openapi import responds
from params import IdStr
from params import Params
from services import email_confirmation
from services import security
from services.passwords import check_password
from services.sessions import revoke
from services.sessions import start_session

bp = APIBlueprint("oauth", __name__, url_prefix="/oauth", tag="OAuth")

OOB = "urn:ietf:wg:oauth:2.0:oob"
_HIDDEN = (
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "response_type",
    "code_challenge",
    "code_challenge_method",
)
# authlib error codes that Pleroma reports as one wording (SPEC 2, POST /oauth/token).
_CREDENTIAL_ERRORS = {
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "invalid_request",
    "invalid_scope",
}
# The login pages answer with HTML, errors included (documented in /openapi.json).
PAGE = answer(api_schemas.HTML, content_type="text/html")


class AuthorizeIn(Params):
    """The authorization request; the login form also nests these as `authorization[...]`."""

    client_id = String(required=True)
    redirect_uri = String(required=True)
    response_type = String(load_default="code")
    scope = String(metadata={"description": "space-separated; also `scopes[]`"})
    state = String()
    code_challenge = String()
    code_challenge_method = String()


class LoginIn(AuthorizeIn):
    name = String(metadata={"description": "nickname or e-mail (also `username`)"})
    password = String()
    use_session = String(metadata={"description": "log in as the `_pleroma_key` session's account"})


class MfaVerifyIn(AuthorizeIn):
    mfa = Dict(metadata={"description": "{mfa_token, code, challenge_type}"})


class TokenIn(Params):
    grant_type = String(
        required=True,
        validate=OneOf(("password", "authorization_code", "client_credentials", "refresh_token")),
    )
    client_id = String()
    client_secret = String()
    username = String(metadata={"description": "nickname or e-mail (also `name`)"})
    password = String()
    code = String()
    code_verifier = String()
    redirect_uri = String()
    refresh_token = String()
    scope = String()


class RevokeIn(Params):
    token = String(required=True)
    token_type_hint = String()
    client_id = String()
    client_secret = String()


# authlib and these views parse the parameters themselves (`validation=False`): the schemas
# above document them and hand over the merged query/form/JSON parameters.
def _form(params: dict) -> dict:
    data = dict(params)
    nested = data.pop("authorization", None) or {}
    data.update({k: v for k, v in nested.items() if v not in (None, "")})
    if isinstance(data.get("scopes"), list):
        data.setdefault("scope", " ".join(data["scopes"]))
    return data


def _client_and_scope(data: dict) -> tuple[App, str]:
    client = db.session.scalar(db.select(App).where(App.client_id == str(data.get("client_id", ""))))
    if client is None:
        raise ApiError(400, "Invalid client")
    if str(data.get("redirect_uri", "")) not in client.redirect_uris:
        raise ApiError(400, "The redirect_uri is not registered for this app")
    requested = str(data.get("scope") or client.scopes).replace("+", " ").split()
    return client, " ".join(requested)


def _login_page(client: App, data: dict, scope: str, error: str | None = None, status: int = 200) -> Response:
    hidden = {k: data[k] for k in _HIDDEN if data.get(k)} | {"scope": scope}
    html = render_template(
        "login.html",
        title="Log in",
        app_name=client.name,
        scope=scope,
        hidden=hidden,
        error=error,
        session_account=session_account(),
    )
    return Response(html, status=status, mimetype="text/html")


@bp.get("/authorize")
@ratelimits.authentication
@bp.input(AuthorizeIn, location="query", arg_name="params", validation=False)
@responds(api_schemas.HTML, 400, 401, content_type="text/html")
def authorize_form(params: dict) -> Response:
    """Show the login form."""
    data = _form(params)
    client, scope = _client_and_scope(data)
    unknown = scope_rules.unknown(scope.split())
    if unknown:
        raise ApiError(401, f"Unsupported scope: {' '.join(unknown)}")
    return _login_page(client, data, scope)


def _authenticate_form(data: dict) -> Account | None:
    if data.get("use_session"):
        # Only a session that is still valid (not ended by a password change or revocation).
        return session_account()
    account = Account.find_by_login(str(data.get("name") or data.get("username") or ""))
    password = str(data.get("password") or "")
    return account if account and check_password(account, password) else None


def _scope_allowed(client: App, scope: str) -> bool:
    allowed = client.scopes.split()
    return all(any(scope_rules.covers(a, s) for a in allowed) for s in scope.split())


@bp.post("/authorize")
@ratelimits.authentication
@bp.input(LoginIn, location="json_or_form", arg_name="params", validation=False)
@responds(None, 400, status=302, headers=LOCATION_HEADER, also={200: PAGE, 401: PAGE, 403: PAGE})
def authorize_submit(params: dict) -> Response:
    """Log in through the form and issue an authorization code."""
    data = _form(params)
    client, scope = _client_and_scope(data)
    account = _authenticate_form(data)
    if account is None:
        return _login_page(client, data, scope, "Invalid Username/Password", 401)
    if not _scope_allowed(client, scope) or scope_rules.unknown(scope.split()):
        return _login_page(client, data, scope, "This action is outside of authorized scopes", 401)
    if not account.is_active:
        return _login_page(client, data, scope, "Your account is currently disabled", 403)
    if email_confirmation.login_blocked(account):
        return _login_page(client, data, scope, email_confirmation.LOGIN_BLOCKED, 403)
    if not data.get("use_session") and MfaSettings.is_enabled_for(account.id):
        # The password was right; the second factor comes next, on its own page (SPEC 2).
        return _mfa_page(client, data, scope, security.new_mfa_token(account, client, scope))
    return issue_code(client, account)


def _mfa_page(
    client: App, data: dict, scope: str, mfa_token: str, error: str | None = None, status: int = 200
) -> Response:
    hidden = {k: data[k] for k in _HIDDEN if data.get(k)} | {"scope": scope}
    html = render_template(
        "mfa.html",
        title="Two-factor authentication",
        app_name=client.name,
        hidden=hidden,
        mfa_token=mfa_token,
        error=error,
    )
    return Response(html, status=status, mimetype="text/html")


@bp.post("/mfa/verify")
@ratelimits.authentication
@ratelimits.mfa_account
@bp.input(MfaVerifyIn, location="json_or_form", arg_name="params", validation=False)
@responds(None, 400, status=302, headers=LOCATION_HEADER, also={200: PAGE, 401: PAGE})
def mfa_verify(params: dict) -> Response:
    """The login form's second step: check the code, then continue the authorization."""
    data = _form(params)
    client, scope = _client_and_scope(data)
    mfa = data.get("mfa") if isinstance(data.get("mfa"), dict) else {}
    mfa_token = str(mfa.get("mfa_token") or "")
    if not _scope_allowed(client, scope) or scope_rules.unknown(scope.split()):
        return _mfa_page(client, data, scope, mfa_token, "This action is outside of authorized scopes", 401)
    challenge_type = str(mfa.get("challenge_type") or "totp")
    login = security.redeem_mfa_token(mfa_token, client.client_id, challenge_type, str(mfa.get("code") or ""))
    if login is None:
        return _mfa_page(client, data, scope, mfa_token, "Two-factor authentication failed.", 401)
    return issue_code(client, login.account)


class MfaChallengeIn(Params):
    client_id = String(load_default="")
    client_secret = String(load_default="")
    mfa_token = String(required=True)
    challenge_type = String(load_default="totp")
    code = IdStr(required=True)  # the digits may come as a JSON number


@bp.post("/mfa/challenge")
@ratelimits.authentication
@ratelimits.mfa_account
@bp.input(MfaChallengeIn, location="json_or_form", arg_name="data")
@responds(api_schemas.Token, 400, 403)
def mfa_challenge(data: dict) -> dict:
    """Finish a password login that answered `mfa_required`: the token, as /oauth/token gives it."""
    client = _challenge_client(data["client_id"], data["client_secret"])
    login = None
    if client is not None:
        login = security.redeem_mfa_token(
            data["mfa_token"], client.client_id, data["challenge_type"], data["code"]
        )
    if login is None:
        # Pleroma answers every failure here the same way: bad client, ticket or code.
        raise ApiError(400, "Invalid code")
    return issue_token(login.app, login.account, login.scope, login=True)


def _challenge_client(client_id: str, client_secret: str) -> App | None:
    """The app, by its credentials in the body or, as at /oauth/token, in HTTP Basic."""
    basic = request.authorization
    if not client_id and basic is not None and basic.type == "basic":
        client_id, client_secret = basic.username or "", basic.password or ""
    client = db.session.scalar(db.select(App).where(App.client_id == client_id)) if client_id else None
    if client is None or not client_secret or not client.check_client_secret(client_secret):
        return None
    return client


def issue_code(client: App, account: Account) -> Response:
    """Let authlib make the code; OOB clients are shown it instead of being redirected."""
    start_session(account, None)
    try:
        grant = oauth_server.get_consent_grant(end_user=account)
    except OAuth2Error as error:
        raise ApiError(400, error.description or error.error) from error
    except ValueError as error:  # authlib cannot word its error about a non-ASCII parameter
        raise ApiError(400, "Bad request") from error
    response = oauth_server.create_authorization_response(grant=grant, grant_user=account)
    location = response.headers.get("Location", "")
    if not location.startswith(OOB):
        return response
    code = parse_qs(urlsplit(location).query).get("code", [""])[0]
    html = render_template("oob.html", title="Authorization code", app_name=client.name, code=code)
    return Response(html, status=200, mimetype="text/html")


@bp.post("/token")
@ratelimits.authentication
@bp.input(TokenIn, location="json_or_form", arg_name="params", validation=False)
@responds(api_schemas.Token, 400, 403)
def token(params: dict) -> Response:
    """Issue a token (password, authorization_code, client_credentials, refresh_token)."""
    grant_type = params.get("grant_type")
    if grant_type not in ("password", "authorization_code", "client_credentials", "refresh_token"):
        return error_response(400, "Bad request")
    return _pleroma_errors(oauth_server.create_token_response())


def _pleroma_errors(response: Response) -> Response:
    """authlib speaks RFC 6749 errors; Pleroma clients expect `Invalid credentials` (400)."""
    if response.status_code < 400:
        return response
    try:
        body = json.loads(response.get_data())
    except ValueError:
        body = {}
    if body.get("error") in _CREDENTIAL_ERRORS:
        return error_response(400, "Invalid credentials")
    return error_response(400, "Bad request")


@bp.post("/revoke")
@bp.input(RevokeIn, location="json_or_form", arg_name="params", validation=False)
@responds(api_schemas.EMPTY, 400)
def revoke_token(params: dict) -> Response | dict:
    """Revoke a token; always `{}`, also for unknown tokens (RFC 7009)."""
    value = str(params.get("token") or "")
    if not value:
        return error_response(400, "Bad request")
    try:
        oauth_server.create_endpoint_response("revocation")
    except OAuth2Error:
        pass
    # Without client credentials, possessing the token is proof enough to end it.
    row = find_token(value)
    if row is not None:
        revoke(row)
    return {}
