"""Who is calling: the OAuth2 server (authlib), and Bearer / `_pleroma_key` cookie / Basic auth
(Flask-HTTPAuth's parser) behind one `require_auth(scope)` decorator (SPEC 1.1, 1.2, 2)."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cached_property
from functools import wraps
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.integrations.flask_oauth2.requests import FlaskOAuth2Payload
from authlib.integrations.flask_oauth2.requests import FlaskOAuth2Request
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidClientError
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import Flask
from flask import g
from flask import request
from flask import session
from flask_httpauth import HTTPBasicAuth
from sqlalchemy import bindparam
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

import readcache
import scopes as scope_rules
from errors import ApiError
from models import Account
from models import App
from models import AuthorizationCode
from models import ClientApp
from models import MfaSettings
from models import Token
from models import db
from params import merged_params
from services import email_confirmation
from services import row_loader
from services.passwords import check_password
from services.security import new_mfa_token
from services.sessions import revoke
from services.sessions import start_session

TOKEN_LIFETIME = 3155695200  # Pleroma's tokens practically never expire (SPEC 2, example)


# ---------------------------------------------------------------------------------------------
# The OAuth2 server


class _MergedPayload(FlaskOAuth2Payload):
    def __init__(self, data: MultiDict) -> None:
        self._data = data

    @property
    def data(self) -> MultiDict:
        return self._data


class KenomaOAuth2Request(FlaskOAuth2Request):
    """authlib reads form fields only; clients also send JSON and multipart (CLIENTS.md §4.3),
    and Pleroma accepts `name` for `username`."""

    def __init__(self, flask_request: Any) -> None:
        super().__init__(flask_request)
        self.payload = _MergedPayload(self.form)

    @cached_property
    def form(self) -> MultiDict:  # type: ignore[override]
        merged = merged_params(self._request)
        # The login form posts Pleroma's nested names: authorization[name], authorization[scopes][]
        for key, value in (merged.pop("authorization", None) or {}).items():
            merged.setdefault("scope" if key == "scopes" else key, value)
        merged.setdefault("response_type", "code")
        flat = MultiDict()
        for key, value in merged.items():
            if isinstance(value, list):
                value = " ".join(str(v) for v in value)
            if isinstance(value, (str, int, float)) and not isinstance(value, bool):
                flat[key] = str(value)
        if "username" not in flat and "name" in flat:
            flat["username"] = flat["name"]
        return flat


class KenomaAuthorizationServer(AuthorizationServer):
    def create_oauth2_request(self, flask_request: Any) -> KenomaOAuth2Request:
        return KenomaOAuth2Request(request)


def _query_client(client_id: str) -> App | None:
    return db.session.scalar(select(App).where(App.client_id == client_id))


def _save_token(token: dict, oauth_request: Any) -> None:
    account: Account | None = oauth_request.user
    if account is not None:  # the answer shows the scope the token really has
        token["scope"] = scope_rules.for_account(token.get("scope") or "", account.is_admin)
    row = Token(
        client_id=oauth_request.client.client_id,
        app_id=oauth_request.client.id,
        account_id=account.id if account else None,
        **{k: token.get(k) for k in ("token_type", "access_token", "refresh_token", "scope", "expires_in")},
    )
    db.session.add(row)
    db.session.commit()
    # The token answer carries Pleroma's extra keys (SPEC 2, POST /oauth/token).
    token["id"] = row.id
    token["created_at"] = row.issued_at
    token.setdefault("scope", row.scope or "")
    if account is not None:
        token["me"] = account.ap_id
        start_session(account, row)


def _usable_account(account: Account | None) -> Account | None:
    if account is None:
        return None
    if not account.is_active:
        raise ApiError(403, "Your account is currently disabled", identifier="account_is_disabled")
    if email_confirmation.login_blocked(account):
        raise ApiError(403, email_confirmation.LOGIN_BLOCKED, identifier="missing_confirmed_email")
    return account


class PasswordGrant(grants.ResourceOwnerPasswordCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def authenticate_user(self, username: str, password: str) -> Account | None:
        account = Account.find_by_login(username)
        if account is None or not check_password(account, password):
            return None
        return _usable_account(account)

    def validate_token_request(self) -> None:
        super().validate_token_request()
        account, client = self.request.user, self.request.client
        if MfaSettings.is_enabled_for(account.id):
            # The password was right; the login finishes at /oauth/mfa/challenge (SPEC 2).
            mfa_token = new_mfa_token(account, client, client.get_allowed_scope(self.request.payload.scope))
            raise ApiError(403, "mfa_required", mfa_token=mfa_token, supported_challenge_types="totp")


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def save_authorization_code(self, code: str, oauth_request: Any) -> None:
        data = oauth_request.payload
        row = AuthorizationCode(
            code=code,
            client_id=oauth_request.client.client_id,
            redirect_uri=data.redirect_uri or "",
            scope=oauth_request.client.get_allowed_scope(data.scope),
            account_id=oauth_request.user.id,
            code_challenge=data.data.get("code_challenge"),
            code_challenge_method=data.data.get("code_challenge_method"),
        )
        db.session.add(row)
        db.session.commit()

    def query_authorization_code(self, code: str, client: App) -> AuthorizationCode | None:
        row = db.session.scalar(
            select(AuthorizationCode).where(
                AuthorizationCode.code == code, AuthorizationCode.client_id == client.client_id
            )
        )
        return row if row and not row.is_expired() else None

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        db.session.delete(authorization_code)
        db.session.commit()

    def authenticate_user(self, authorization_code: AuthorizationCode) -> Account | None:
        return _usable_account(db.session.get(Account, authorization_code.account_id))


class SecretOrVerifier(CodeChallenge):
    """PKCE is optional, but a client that sends no secret must prove itself with a verifier:
    without this, a code from a non-PKCE login could be exchanged knowing the client id alone."""

    def validate_code_verifier(self, grant: Any, result: Any) -> None:
        oauth_request = grant.request
        challenge = self.get_authorization_code_challenge(oauth_request.authorization_code)
        if oauth_request.auth_method == "none" and not challenge:
            raise InvalidClientError()
        super().validate_code_verifier(grant, result)


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
        row = db.session.scalar(select(Token).where(Token.refresh_token == refresh_token))
        return row if row and not row.is_revoked() else None

    def authenticate_user(self, credential: Token) -> Account | None:
        return _usable_account(credential.account)

    def revoke_old_credential(self, credential: Token) -> None:
        now = int(time.time())
        credential.access_token_revoked_at = now
        credential.refresh_token_revoked_at = now
        db.session.commit()


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


class TokenRevocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def query_token(self, token_string: str, token_type_hint: str | None) -> Token | None:
        column = Token.refresh_token if token_type_hint == "refresh_token" else Token.access_token
        row = db.session.scalar(select(Token).where(column == token_string))
        if row is None and token_type_hint is None:
            row = db.session.scalar(select(Token).where(Token.refresh_token == token_string))
        return row

    def revoke_token(self, token: Token, oauth_request: Any) -> None:
        revoke(token)


def _token_generator(client: App, grant_type: str, user: Any = None, scope: str | None = None) -> str:
    from authlib.common.security import generate_token

    return generate_token(43)


def issue_token(client: App, account: Account, scope: str | None = None, login: bool = False) -> dict:
    """A user token outside the /oauth/token flow (registration, MFA challenge), made by the
    same generator and answered in the same shape as /oauth/token. `login` also starts the
    session cookie, as a successful /oauth/token does."""
    generator = oauth_server._token_generators["default"]
    scope = scope_rules.for_account(client.get_allowed_scope(scope), account.is_admin)
    token = generator(grant_type="password", client=client, user=account, scope=scope)
    row = Token(client_id=client.client_id, app_id=client.id, account_id=account.id, **token)
    db.session.add(row)
    db.session.commit()
    if login:
        start_session(account, row)
    return token | {"id": row.id, "created_at": row.issued_at, "me": account.ap_id}


oauth_server = KenomaAuthorizationServer()


def init_oauth(app: Flask) -> None:
    oauth_server.init_app(app, query_client=_query_client, save_token=_save_token)
    oauth_server.register_token_generator(
        "default",
        BearerTokenGenerator(
            access_token_generator=_token_generator,
            refresh_token_generator=_token_generator,
            expires_generator=lambda client, grant_type: TOKEN_LIFETIME,
        ),
    )
    oauth_server.register_grant(PasswordGrant)
    oauth_server.register_grant(AuthorizationCodeGrant, [SecretOrVerifier(required=False)])
    oauth_server.register_grant(RefreshTokenGrant)
    oauth_server.register_grant(ClientCredentialsGrant)
    oauth_server.register_endpoint(TokenRevocation)


# ---------------------------------------------------------------------------------------------
# Authenticating API requests


# Built once: Session.get builds its select again on every call, which costs more than running it.
_ACCOUNT_BY_ID = select(Account).where(Account.id == bindparam("id"))


class Identity:
    """Who is calling. The rows load on first use: most requests need only the ids, and a kept
    answer (readcache.py) needs nothing more."""

    __slots__ = ("account_id", "token_id", "scopes", "client_app", "caller_row", "_account", "_token")

    def __init__(
        self,
        account: Account | str | None,  # None for an app-only (client_credentials) token
        token: Token | int | None,
        scopes: frozenset[str] | None,  # None: every scope (HTTP Basic, cookie without a token)
        client_app: ClientApp | None = None,  # given with a token id; read off a Token object
    ) -> None:
        self.account_id = account.id if isinstance(account, Account) else account
        self.token_id = token.id if isinstance(token, Token) else token
        self.scopes = scopes
        self._account = account if isinstance(account, Account) else None
        self._token = token if isinstance(token, Token) else None
        if isinstance(token, Token) and token.app is not None:
            client_app = ClientApp(token.app.name, token.app.website)
        self.client_app = client_app
        # The caller's account read with the token (require_auth(caller_row=True)): read-only.
        self.caller_row: Account | None = None

    @property
    def account(self) -> Account | None:
        if self._account is None and self.account_id is not None:
            self._account = db.session.scalars(_ACCOUNT_BY_ID, {"id": self.account_id}).first()
        return self._account

    @property
    def token(self) -> Token | None:
        if self._token is None and self.token_id is not None:
            self._token = db.session.get(Token, self.token_id)
        return self._token


# Flask-HTTPAuth's parser of `Basic` credentials (UTF-8, else Latin-1), as clients send them.
basic = HTTPBasicAuth()


# The token lookup runs on every authenticated request, so it runs on readcache's probe
# connection as plain SQL: no Session, pool checkout or ORM object. It brings what a request needs
# to go on (ids, scopes, whether the account is active, the app a new status names) and, for
# readcache.py, the database state and the reader's next mute end, so a kept answer costs this
# one statement. A view that opts in (require_auth(caller_row=True)) has the caller's whole
# account row with it: me_row(), a read-only Account (services/row_loader.py), no ORM load.
def _token_sql(caller: str) -> str:
    return f"""
SELECT t.id, t.account_id, t.scope, t.issued_at, t.expires_in, t.access_token_revoked_at,
       t.refresh_token_revoked_at, a.is_active, {readcache.STATE},
       {readcache.NEXT_MUTE_END.format(account="t.account_id")}, app.name, app.website{caller}
FROM oauth_token AS t LEFT JOIN account AS a ON a.id = t.account_id
     LEFT JOIN oauth_app AS app ON app.id = t.app_id
WHERE t.access_token = ?
"""


_TOKEN_SQL = _token_sql("")
_TOKEN_AND_CALLER_SQL = _token_sql(", " + row_loader.columns("a", Account))
_TOKEN_COLUMNS = 12  # the token's columns, before the caller's


def _usable(issued_at: int, expires_in: int, revoked: int, refresh_revoked: int) -> bool:
    """authlib's token rules (OAuth2TokenMixin.is_revoked / is_expired) on the bare columns."""
    if revoked or refresh_revoked:
        return False
    return not expires_in or issued_at + expires_in >= time.time()


def _token_row(value: str, sql: str = _TOKEN_SQL) -> tuple[tuple, int] | None:
    """(the token's row, the probe's serial) for a usable token, else None."""
    if not value:
        return None
    row, serial = readcache.probe_row(sql, readcache.now_param(), value)
    return (row, serial) if row is not None and _usable(*row[3:7]) else None


def find_token(value: str) -> Token | None:
    found = _token_row(value)
    return db.session.get(Token, found[0][0]) if found is not None else None


def _verify_bearer(value: str, caller_row: bool = False) -> Identity | None:
    found = _token_row(value, _TOKEN_AND_CALLER_SQL if caller_row else _TOKEN_SQL)
    if found is None:
        return None
    row, serial = found
    token_id, account_id, scope, *_, is_active, data_version, next_mute, app_name, app_website = row[
        :_TOKEN_COLUMNS
    ]
    if account_id is not None and not is_active:
        return None
    readcache.note_state(serial, data_version, next_mute)
    client_app = ClientApp(app_name, app_website) if app_name is not None else None
    identity = Identity(account_id, token_id, frozenset((scope or "").split()), client_app)
    if caller_row and account_id is not None:
        identity.caller_row = row_loader.account(row_loader.ACCOUNT_TYPES.typed(row[_TOKEN_COLUMNS:]))
    return identity


def token_identity(value: str) -> Identity | None:
    """The caller a bare access token names (usable, of an active account), as the Bearer check
    finds it: streaming takes the token from the query string or Sec-WebSocket-Protocol."""
    identity = _verify_bearer(value.strip()) if value else None
    return identity if identity is not None and identity.account_id is not None else None


def usable_token_ids(ids: set[int]) -> set[int]:
    """Of these token ids, those that still work (the streaming hub re-checks its readers')."""
    query = (
        select(
            Token.id,
            Token.issued_at,
            Token.expires_in,
            Token.access_token_revoked_at,
            Token.refresh_token_revoked_at,
        )
        .join(Account, Account.id == Token.account_id)
        .where(Token.id.in_(sorted(ids)), Account.is_active.is_(True))
    )
    return {row[0] for row in db.session.execute(query) if _usable(*row[1:])}


def _verify_basic(username: str, password: str) -> Identity | None:
    if not username:
        return None
    account = Account.find_by_login(username)
    if account is None or not account.is_active or not check_password(account, password):
        return None
    if email_confirmation.login_blocked(account):
        return None
    if MfaSettings.is_enabled_for(account.id):  # a password alone is not enough (SPEC 1.1)
        raise ApiError(403, "Two-factor authentication enabled, you must use a access token.")
    return Identity(account, None, None)


def _from_cookie() -> Identity | None:
    account_id = session.get("account_id")
    if not account_id:
        return None
    account = db.session.get(Account, account_id)
    if account is None or not account.is_active:
        return None
    if session.get("epoch", 0) != (account.session_epoch or 0):  # ended by a password change
        return None
    token_id = session.get("token_id")
    token = db.session.get(Token, token_id) if token_id else None
    if token is not None and token.is_usable():
        return Identity(account, token, frozenset(token.scope.split()))
    if token is not None:  # the session's token was revoked: the session ends with it
        return None
    return Identity(account, None, None)


def session_account() -> Account | None:
    """The account of a still-valid `_pleroma_key` session (the login form's "Authorize as")."""
    identity = _from_cookie()
    return identity.account if identity else None


def _from_header(caller_row: bool = False) -> Identity | None:
    """The caller the Authorization header names, chosen as Flask-HTTPAuth's MultiAuth(bearer,
    basic) chooses: `Basic <credentials>` goes to the password check, anything else to the token
    check (werkzeug's parse, any case of "bearer"). Called directly: login_required builds and
    runs two decorators per request, a tenth of a kept answer's time."""
    if request.method == "OPTIONS":  # as login_required: a preflight is never authenticated
        return None
    parts = request.headers.get("Authorization", "").split(None, 1)
    if len(parts) == 2 and parts[0] == "Basic":
        credentials = basic.get_auth()
        username, password = (credentials.username, credentials.password) if credentials else ("", "")
        return _verify_basic(username or "", password or "")
    credentials = request.authorization
    if credentials is None or credentials.type.lower() != "bearer" or not credentials.token:
        return None
    return _verify_bearer(credentials.token, caller_row)


def _identify(caller_row: bool = False) -> Identity | None:
    """Bearer, then the session cookie, then Basic: the first that names a caller wins."""
    return _from_header(caller_row) or _from_cookie()


def _check_scope(identity: Identity, required: tuple[str, ...]) -> None:
    if not required or identity.scopes is None:
        return
    if not scope_rules.any_covered(identity.scopes, required):
        raise ApiError(403, f"Insufficient permissions: {' | '.join(required)}.")


def require_auth(
    *required: str,
    optional: bool = False,
    app_token: bool = False,
    admin: bool = False,
    caller_row: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Guard a view. `required` lists alternative scopes (any one suffices).

    optional: anonymous callers get through, and so do callers whose token lacks the scope
    (Pleroma treats them as anonymous instead of failing, SPEC 1.1).
    app_token: an app-only token counts (registration, apps/verify_credentials).
    caller_row: a Bearer token's lookup also reads the caller's account, for me_row().
    """

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            identity = _identify(caller_row)
            if identity is not None and identity.account_id is None and not app_token:
                identity = None
            if identity is not None and optional and identity.scopes is not None and required:
                if not scope_rules.any_covered(identity.scopes, required):
                    identity = None
            if identity is None and not optional:
                raise ApiError(403, "Invalid credentials.")
            if identity is not None:
                _check_scope(identity, required)
                if admin and not (identity.account and identity.account.is_admin):
                    raise ApiError(403, "User is not an admin.")
            g.identity = identity
            return view(*args, **kwargs)

        # openapi.py documents the operation's security and its 403 from this.
        wrapper.auth_requirement = (required, optional, admin)  # type: ignore[attr-defined]
        return wrapper

    return decorator


def current_identity() -> Identity | None:
    return g.get("identity")


def current_account() -> Account | None:
    identity = g.get("identity")
    return identity.account if identity else None


def me() -> Account:
    """The caller of a view guarded by a non-optional require_auth."""
    account = current_account()
    assert account is not None
    return account


def me_row() -> Account:
    """The caller of a view guarded by require_auth(..., caller_row=True), read with its token
    in one statement (no ORM load): a read-only Account outside the session, for a view that
    only reads it and never puts it (or a new row holding it) into the session. me() when the
    caller came another way (cookie, Basic)."""
    identity = g.get("identity")
    if identity is not None and identity.caller_row is not None:
        return identity.caller_row
    return me()


def me_as_loaded(account: Account | None) -> Account:
    """me(), taking the caller's account a view loaded with other rows in one statement (two
    ORM loads cost more than one): me() answers that one from now on."""
    identity = g.get("identity")
    if account is not None and identity is not None and identity._account is None:
        if account.id == identity.account_id:
            identity._account = account
    return me()
