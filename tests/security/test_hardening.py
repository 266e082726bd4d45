"""The holes found by trying Kenoma from outside (issue 13), each shut as SECURITY.md says: names
too long for a file system, admin scopes asked for by non-admins, the session cookie's flags,
security headers, aliases, and every string a client can send made very long."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from models import Account
from models import db
from tests.conftest import BASE_URL
from tests.conftest import form_login
from tests.security.conftest import World
from tests.security.conftest import assert_json_error
from tests.security.conftest import png_upload

LONG_NAME = "x" * 5000 + ".png"
TOO_LONG_NAME = "File name is too long (at most 255 characters)"


# --- upload file names -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("post", "/api/v1/media", "file"),
        ("post", "/api/v2/media", "file"),
        ("patch", "/api/v1/accounts/update_credentials", "avatar"),
        ("patch", "/api/v1/accounts/update_credentials", "header"),
        ("put", "/api/v1/pleroma/mascot", "file"),
    ],
)
def test_uploads_refuse_a_file_name_no_file_system_takes(
    client: FlaskClient, world: World, unchanged: Callable[..., Any], method: str, path: str, field: str
) -> None:
    with unchanged():
        response = getattr(client, method)(
            path,
            data={field: png_upload(LONG_NAME)},
            headers=world.alice_h,
            content_type="multipart/form-data",
        )
    assert_json_error(response, 422, TOO_LONG_NAME)


def test_upload_name_at_the_bound_is_kept(client: FlaskClient, world: World) -> None:
    name = "n" * 251 + ".png"
    response = client.post("/api/v1/media", data={"file": png_upload(name)}, headers=world.alice_h)
    assert response.status_code == 200
    assert response.get_json()["url"].endswith(f"/{name}")


# --- every string a client sends, made long ---------------------------------------------------

LONG_VALUE = "a" * 100_000


def _string_inputs(spec: dict) -> list[tuple[str, str, str, str]]:
    """(method, path, 'body'|'query', field) for every string input the OpenAPI document declares."""
    found = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            url = re.sub(r"\{[^}]+\}", "1", path)
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query" and parameter.get("schema", {}).get("type") == "string":
                    found.append((method, url, "query", parameter["name"]))
            for content in operation.get("requestBody", {}).get("content", {}).values():
                schema = content.get("schema", {})
                if "$ref" in schema:
                    schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
                for name, prop in (schema.get("properties") or {}).items():
                    if prop.get("type", "string") == "string":
                        found.append((method, url, "body", name))
                break
    return found


def test_no_string_input_made_long_breaks_the_server(client: FlaskClient, world: World) -> None:
    inputs = _string_inputs(client.get("/openapi.json").get_json())
    assert len(inputs) > 150  # the sweep covers the whole document
    failures = []
    for method, url, where, name in inputs:
        value = {name: LONG_VALUE}
        sent = {"data": value} if where == "body" else {"query_string": value}
        response = client.open(url, method=method.upper(), headers=world.admin_h, **sent)
        if response.status_code >= 500:
            failures.append((method, url, name, response.status_code))
    assert failures == []


def test_search_refuses_a_query_longer_than_the_bound(client: FlaskClient, world: World) -> None:
    for path in ("/api/v2/search", "/api/v1/search", "/api/v1/accounts/search"):
        response = client.get(path, query_string={"q": "a" * 2049}, headers=world.alice_h)
        assert_json_error(response, (400, 422))
        assert client.get(path, query_string={"q": "a" * 2048}, headers=world.alice_h).status_code == 200


# --- admin scopes only for admins -------------------------------------------------------------


def _password_grant(client: FlaskClient, oauth_app: dict, nickname: str, scope: str) -> Any:
    return client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": oauth_app["client_id"],
            "client_secret": oauth_app["client_secret"],
            "username": nickname,
            "password": "secret-pw",
            "scope": scope,
        },
    )


def test_password_grant_strips_admin_scopes_from_non_admins(
    client: FlaskClient, oauth_app: dict, world: World
) -> None:
    answer = _password_grant(client, oauth_app, "alice", "read admin admin:read admin:write")
    assert answer.status_code == 200 and answer.get_json()["scope"] == "read"
    headers = {"Authorization": f"Bearer {answer.get_json()['access_token']}"}
    assert client.get("/api/v1/apps/verify_credentials", headers=headers).status_code == 200
    # The stored token has no admin scope either: the refresh keeps what was granted.
    refreshed = client.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": answer.get_json()["refresh_token"],
            "client_id": oauth_app["client_id"],
            "client_secret": oauth_app["client_secret"],
        },
    )
    assert refreshed.status_code == 200 and refreshed.get_json()["scope"] == "read"


def test_admins_keep_admin_scopes(client: FlaskClient, oauth_app: dict, world: World) -> None:
    scope = "read admin:read admin:write"
    assert _password_grant(client, oauth_app, "admin", scope).get_json()["scope"] == scope


def test_authorization_code_strips_admin_scopes_from_non_admins(
    client: FlaskClient, oauth_app: dict, world: World
) -> None:
    page = client.post(
        "/oauth/authorize",
        data={
            "authorization[name]": "alice",
            "authorization[password]": "secret-pw",
            "authorization[client_id]": oauth_app["client_id"],
            "authorization[redirect_uri]": "urn:ietf:wg:oauth:2.0:oob",
            "authorization[scope]": "read admin",
        },
    )
    code = re.search(r'id="code"[^>]*>([^<]+)<', page.get_data(as_text=True))
    assert page.status_code == 200 and code is not None
    exchanged = client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code.group(1).strip(),
            "redirect_uri": "urn:ietf:wg:oauth:2.0:oob",
            "client_id": oauth_app["client_id"],
            "client_secret": oauth_app["client_secret"],
        },
    )
    assert exchanged.status_code == 200 and exchanged.get_json()["scope"] == "read"


def test_registration_token_has_no_admin_scope(client: FlaskClient, oauth_app: dict) -> None:
    app_token = client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": oauth_app["client_id"],
            "client_secret": oauth_app["client_secret"],
        },
    ).get_json()["access_token"]
    answer = client.post(
        "/api/v1/accounts",
        data={"username": "newbie", "password": "pw-12345678", "email": "n@example.org", "agreement": "true"},
        headers={"Authorization": f"Bearer {app_token}"},
    )
    assert answer.status_code == 200, answer.get_json()
    assert "admin" not in answer.get_json()["scope"] and "read" in answer.get_json()["scope"].split()


# --- the session cookie -----------------------------------------------------------------------


def _login_cookie(client: FlaskClient, registered: dict) -> str:
    response = form_login(client, registered)
    cookies = [value for name, value in response.headers.items() if name == "Set-Cookie"]
    return next(c for c in cookies if c.startswith("_pleroma_key="))


def test_session_cookie_is_samesite_lax_and_httponly(
    client: FlaskClient, oauth_app: dict, account: Account
) -> None:
    cookie = _login_cookie(client, oauth_app)
    assert "SameSite=Lax" in cookie and "HttpOnly" in cookie and "Secure" not in cookie


@pytest.fixture
def https_app(tmp_path: Any) -> Any:
    (tmp_path / "emoji").mkdir()
    made = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "EMOJI_DIR": str(tmp_path / "emoji"),
            "BASE_URL": "https://social.example",
            "RATELIMIT_ENABLED": False,
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_COST": 64,
        }
    )
    with made.app_context():
        db.create_all()
        yield made
        db.session.remove()
        db.engine.dispose()


def test_session_cookie_is_secure_and_hsts_sent_over_https(https_app: Flask) -> None:
    from services.accounts import create_local_account

    create_local_account("alice", "secret-pw", email="alice@example.org")
    client = https_app.test_client()
    registered = client.post(
        "/api/v1/apps", data={"client_name": "t", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"}
    ).get_json()
    assert "Secure" in _login_cookie(client, registered)
    assert client.get("/api/v1/instance").headers["Strict-Transport-Security"].startswith("max-age=")


# --- security headers -------------------------------------------------------------------------


def test_kenoma_pages_carry_a_strict_policy(client: FlaskClient, oauth_app: dict) -> None:
    page = client.get(
        "/oauth/authorize",
        query_string={
            "client_id": oauth_app["client_id"],
            "redirect_uri": "urn:ietf:wg:oauth:2.0:oob",
            "response_type": "code",
            "scope": "read",
        },
    )
    assert page.status_code == 200 and page.mimetype == "text/html"
    policy = page.headers["Content-Security-Policy"]
    assert (
        "default-src 'none'" in policy and "frame-ancestors 'none'" in policy and "script-src" not in policy
    )
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in page.headers  # plain http: no HSTS


def test_api_answers_and_errors_carry_the_headers_too(client: FlaskClient) -> None:
    for response in (client.get("/api/v1/instance"), client.get("/api/v1/statuses/404")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"


def test_api_docs_may_run_swagger_ui(client: FlaskClient) -> None:
    policy = client.get("/docs").headers["Content-Security-Policy"]
    assert "script-src 'unsafe-inline' 'unsafe-eval' https://cdn.jsdelivr.net" in policy


def test_uploads_keep_their_sandbox(client: FlaskClient, world: World) -> None:
    url = client.post("/api/v1/media", data={"file": png_upload()}, headers=world.alice_h).get_json()["url"]
    served = client.get(url.removeprefix(BASE_URL))
    assert "sandbox" in served.headers["Content-Security-Policy"]
    assert served.headers["X-Content-Type-Options"] == "nosniff"


# --- aliases ----------------------------------------------------------------------------------

ALIASES = "/api/pleroma/aliases"


def test_an_account_cannot_alias_itself(
    client: FlaskClient, world: World, unchanged: Callable[..., Any]
) -> None:
    with unchanged():
        response = client.put(ALIASES, data={"alias": "alice"}, headers=world.alice_h)
    assert_json_error(response, 422, "You cannot alias yourself.")


def test_aliases_stop_at_twenty(
    client: FlaskClient, world: World, make_account: Callable[..., Account], unchanged: Callable[..., Any]
) -> None:
    for n in range(20):
        make_account(f"old{n}")
        assert client.put(ALIASES, data={"alias": f"old{n}"}, headers=world.alice_h).status_code == 200
    make_account("one_more")
    with unchanged():
        response = client.put(ALIASES, data={"alias": "one_more"}, headers=world.alice_h)
    assert_json_error(response, 422, "Too many aliases (at most 20).")
    assert len(client.get(ALIASES, headers=world.alice_h).get_json()["aliases"]) == 20


@pytest.mark.parametrize("aliases", [["self"], [f"https://remote.example/users/u{n}" for n in range(21)]])
def test_update_credentials_refuses_self_and_too_many_aliases(
    client: FlaskClient, world: World, unchanged: Callable[..., Any], aliases: list[str]
) -> None:
    aliases = [world.alice.ap_id if a == "self" else a for a in aliases]
    with unchanged():
        response = client.patch(
            "/api/v1/accounts/update_credentials", json={"also_known_as": aliases}, headers=world.alice_h
        )
    assert_json_error(response, 403, "Invalid request")


# --- what is logged ---------------------------------------------------------------------------


def test_access_log_leaves_query_strings_out() -> None:
    settings: dict[str, Any] = {}
    exec((Path(__file__).resolve().parents[2] / "gunicorn.conf.py").read_text(), settings)
    # gunicorn's atoms: `r` (request line) and `q` (query string) would carry a token.
    atoms = {key: f"<{key}>" for key in "hlutmUHsBbfaTDMLp"}
    atoms |= {"r": "GET /api/v1/streaming?access_token=s3cret HTTP/1.1", "q": "access_token=s3cret"}
    line = settings["access_log_format"] % atoms
    assert "<U>" in line and "s3cret" not in line


def test_access_log_leaves_password_reset_tokens_out() -> None:
    settings: dict[str, Any] = {}
    exec((Path(__file__).resolve().parents[2] / "gunicorn.conf.py").read_text(), settings)
    assert settings["logger_class"] is settings["RedactingLogger"]
    redact = settings["redact_path"]
    assert redact("/api/v1/pleroma/password_reset/s3cret-t0ken") == "/api/v1/pleroma/password_reset/[token]"
    assert redact("/api/pleroma/password_reset/s3cret") == "/api/pleroma/password_reset/[token]"
    assert redact("/api/v1/pleroma/password_reset") == "/api/v1/pleroma/password_reset"
    assert redact("/api/v1/timelines/home") == "/api/v1/timelines/home"


def test_failing_statements_are_logged_without_their_values(app: Flask) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    with pytest.raises(DBAPIError) as failure:  # SQLite: OperationalError; PostgreSQL: ProgrammingError
        db.session.execute(text("SELECT * FROM no_such_table WHERE secret = :value"), {"value": "s3cret"})
    db.session.rollback()
    assert "s3cret" not in str(failure.value)
