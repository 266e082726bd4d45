"""Every write route, found by walking the URL map (so a new route is covered without touching
this file): a `read`-only token gets 403 `Insufficient permissions: ...` and changes nothing;
an MFA account's password over HTTP Basic opens none of them; the password grant gives an MFA
account no token."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from tests.conftest import basic_headers
from tests.security.conftest import World
from tests.security.conftest import assert_json_error
from tests.security.conftest import png_upload

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# GET routes that change something, and so ask for a write scope.
WRITE_GETS = ("mfa.setup_mfa", "mfa.backup_codes", "emoji_packs.import_packs")
# Write routes open without a user, each for its reason.
PUBLIC_WRITES = {
    "apps.create_app",  # app registration comes before any token
    "oauth.authorize_submit",  # the login form checks a password itself
    "oauth.mfa_verify",
    "oauth.mfa_challenge",
    "oauth.token",
    "oauth.revoke_token",  # possessing a token is the proof (RFC 7009)
    "ostatus.follow_remotely",  # the form logs in itself, or carries a CSRF token
    "remote_interaction.remote_interaction",  # only looks up another server's URL template
    "pleroma_accounts.confirmation_resend",  # does nothing, reveals nothing
    "password_reset.request_password_reset",  # mails a link to the address on file, reveals nothing
    "password_reset.password_reset",  # the same, or the reset form: the e-mailed token is the proof
    "inboxes.shared_inbox",  # ActivityPub: an HTTP signature, not a token (SPEC 24.3)
    "inboxes.user_inbox",
    "inboxes.instance_actor_inbox",
    "testing.reset",  # KENOMA_TESTING=true and a loopback caller only; else a 404 (SPEC 27)
}
# Registration takes an app's token of any scope, as in Pleroma (`skip_auth` for create).
APP_TOKEN_WRITES = {"accounts.register"}
# Writes SPEC opens to any scope of a user's token: Pleroma-FE's session list revokes tokens with
# whatever token it has (SPEC 19), and backups ask `read:backups` for POST as well (SPEC 18.2).
# Mastodon's docs ask only `read` to dismiss a follow suggestion.
SPEC_ANY_SCOPE_WRITES = {"oauth_tokens.revoke_token", "backups.create_backup", "directory.delete_suggestion"}
INSUFFICIENT = re.compile(r"^Insufficient permissions: [a-z:]+( \| [a-z:]+)*\.$")


def _name(endpoint: str) -> str:
    """`pleroma_legacy.mfa.setup_mfa` → `mfa.setup_mfa`: one name for both Pleroma prefixes."""
    parts = endpoint.split(".")
    return ".".join(parts[1:]) if parts[0] in ("pleroma", "pleroma_legacy") else endpoint


def _path(rule: Rule, values: dict[str, str]) -> str:
    path = rule.rule
    for argument in rule.arguments:
        path = re.sub(rf"<(?:[a-z]+:)?{argument}>", values.get(argument, "1"), path)
    return path


def _path_values(world: World) -> dict[str, str]:
    """Real ids of alice's own things, so only the scope can stand in the way."""
    ids = world.ids
    return {
        "status_id": ids["alice_status"],
        "ref": world.bob.id,
        "account_id": world.bob.id,
        "account_ref": world.bob.id,
        "participation_id": ids["alice_conversation"],
        "notification_id": ids["alice_notification"],
        "media_id": ids["alice_media"],
        "folder_id": ids["alice_folder"],
        "token_id": ids["alice_token"],
        "app_name": "pleroma_fe",
        "method": "totp",
        "emoji": "%F0%9F%91%8D",
        "name": "test_pack",
        "nickname": "alice",
    }


def _alice_things(client: FlaskClient, world: World) -> None:
    h = world.alice_h
    world.ids["alice_media"] = client.post(
        "/api/v1/media", data={"file": png_upload()}, headers=h
    ).get_json()["id"]
    world.ids["alice_folder"] = client.post(
        "/api/v1/pleroma/bookmark_folders", data={"name": "f"}, headers=h
    ).get_json()["id"]
    world.ids["alice_token"] = str(client.get("/api/oauth_tokens", headers=h).get_json()[0]["id"])
    world.ids["alice_notification"] = client.get("/api/v1/notifications", headers=h).get_json()[0]["id"]
    dm = {"status": "@bob hello", "visibility": "direct"}
    assert client.post("/api/v1/statuses", data=dm, headers=h).status_code == 200
    world.ids["alice_conversation"] = client.get("/api/v1/conversations", headers=h).get_json()[0]["id"]


def write_routes(app: Flask) -> list[tuple[str, Rule]]:
    routes = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods or ()):
            if method in WRITE_METHODS or (method == "GET" and _name(rule.endpoint) in WRITE_GETS):
                routes.append((method, rule))
    return sorted(routes, key=lambda item: (item[1].rule, item[0]))


def _call(client: FlaskClient, method: str, path: str, headers: dict | None = None) -> Any:
    # A body a careless view could act on: the scope check must come first anyway.
    body = {"status": "x", "name": "x", "password": "secret-pw", "title": "x", "file": "x"}
    return client.open(path, method=method, json=body if method != "GET" else None, headers=headers or {})


def test_every_write_route_refuses_a_read_only_token(
    app: Flask, client: FlaskClient, world: World, token: Callable[..., str], unchanged: Callable[..., Any]
) -> None:
    _alice_things(client, world)
    read_only = {"Authorization": f"Bearer {token(world.alice, 'read')}"}
    values = _path_values(world)
    walked, public, failures = 0, set(), []
    with unchanged():
        for method, rule in write_routes(app):
            path = _path(rule, values)
            anonymous = _call(client, method, path)
            name = _name(rule.endpoint)
            if not (
                anonymous.status_code == 403 and anonymous.get_json() == {"error": "Invalid credentials."}
            ):
                public.add(name)
                continue
            if name in SPEC_ANY_SCOPE_WRITES:
                continue
            walked += 1
            response = _call(client, method, path, read_only)
            body = response.get_json(silent=True)
            error = body.get("error", "") if isinstance(body, dict) else repr(body)[:80]
            if response.status_code != 403 or not INSUFFICIENT.match(error):
                failures.append(f"{method} {path}: {response.status_code} {error!r}")
    assert not failures, "\n".join(failures)
    # A write route that needs no user must be on the list, with its reason.
    assert public <= PUBLIC_WRITES | APP_TOKEN_WRITES, sorted(public - PUBLIC_WRITES - APP_TOKEN_WRITES)
    assert walked >= 100, walked  # both Pleroma prefixes of ~60 write routes at least


def test_registration_with_a_user_token_of_read_scope_still_needs_open_registrations(
    app: Flask, client: FlaskClient, world: World, token: Callable[..., str], unchanged: Callable[..., Any]
) -> None:
    app.config["REGISTRATIONS_OPEN"] = False
    read_only = {"Authorization": f"Bearer {token(world.alice, 'read')}"}
    body = {"username": "mallory", "password": "pw-123456", "agreement": "true", "email": "m@example.org"}
    with unchanged():
        assert_json_error(client.post("/api/v1/accounts", data=body, headers=read_only), 400, "Invalid token")


def _enable_mfa(client: FlaskClient, headers: dict) -> pyotp.TOTP:
    totp = pyotp.TOTP(
        client.get("/api/v1/pleroma/accounts/mfa/setup/totp", headers=headers).get_json()["key"]
    )
    confirm = client.post(
        "/api/v1/pleroma/accounts/mfa/confirm/totp",
        data={"password": "secret-pw", "code": totp.now()},
        headers=headers,
    )
    assert confirm.status_code == 200
    return totp


MFA_BASIC = "Two-factor authentication enabled, you must use a access token."


def test_http_basic_opens_nothing_for_an_mfa_account(
    app: Flask, client: FlaskClient, world: World, unchanged: Callable[..., Any]
) -> None:
    _alice_things(client, world)
    _enable_mfa(client, world.alice_h)
    values = _path_values(world)
    basic = basic_headers("alice")
    reads = [
        ("GET", "/api/v1/accounts/verify_credentials"),
        ("GET", "/api/v1/timelines/home"),
        ("GET", "/api/v1/notifications"),
        ("GET", "/api/v1/pleroma/accounts/mfa"),
    ]
    tried = 0
    with unchanged():
        for method, rule in write_routes(app):
            reads.append((method, _path(rule, values)))
        for method, path in reads:
            anonymous = _call(client, method, path)
            if anonymous.status_code != 403 or anonymous.get_json() != {"error": "Invalid credentials."}:
                continue
            tried += 1
            assert_json_error(_call(client, method, path, basic), 403, MFA_BASIC)
        # The same with the e-mail address as the user name, and with a wrong password.
        email_basic = basic_headers("alice@example.org")
        assert_json_error(
            client.get("/api/v1/accounts/verify_credentials", headers=email_basic), 403, MFA_BASIC
        )
        wrong = basic_headers("alice", "wrong")
        assert_json_error(
            client.get("/api/v1/accounts/verify_credentials", headers=wrong), 403, "Invalid credentials."
        )
    assert tried >= 100


def test_password_grant_gives_an_mfa_account_no_token(
    client: FlaskClient, world: World, oauth_app: dict, unchanged: Callable[..., Any]
) -> None:
    _enable_mfa(client, world.alice_h)
    grant = {
        "grant_type": "password",
        "client_id": oauth_app["client_id"],
        "client_secret": oauth_app["client_secret"],
        "username": "alice",
        "password": "secret-pw",
        "scope": "read write",
    }
    from models import Token
    from models import db

    tokens_before = db.session.query(Token).count()
    tickets = []
    for username in ("alice", "alice@example.org", "ALICE"):
        response = client.post("/oauth/token", data=grant | {"username": username})
        body = assert_json_error(response, 403, "mfa_required")
        assert "access_token" not in body and body["supported_challenge_types"] == "totp"
        assert "_pleroma_key" not in response.headers.get("Set-Cookie", "")
        tickets.append(body["mfa_token"])
    with unchanged():
        wrong = client.post("/oauth/token", data=grant | {"password": "wrong"})
        assert_json_error(wrong, 400, "Invalid credentials")
        assert "mfa_token" not in wrong.get_json()
        for ticket in tickets:  # a ticket is not a token
            bearer = {"Authorization": f"Bearer {ticket}"}
            response = client.get("/api/v1/accounts/verify_credentials", headers=bearer)
            assert_json_error(response, 403, "Invalid credentials.")
    assert db.session.query(Token).count() == tokens_before
