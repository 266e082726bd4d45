from __future__ import annotations

import base64
import hashlib
import re
import secrets
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest

from tests.conftest import basic_headers


def test_password_grant_returns_pleroma_token_body(client, account, oauth_app):
    response = client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": oauth_app["client_id"],
            "client_secret": oauth_app["client_secret"],
            "username": "alice",
            "password": "secret-pw",
        },
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    # The app allows admin too, but alice is no admin: her token leaves it out (Pleroma's
    # filter_admin_scopes).
    assert body["scope"] == "read write follow push"
    assert body["me"] == "http://127.0.0.1:5000/users/alice"
    assert isinstance(body["id"], int) and isinstance(body["created_at"], int)
    assert body["refresh_token"]


def test_verify_credentials_with_bearer(client, account, auth_headers):
    response = client.get("/api/v1/accounts/verify_credentials", headers=auth_headers(account))
    assert response.status_code == 200
    assert response.get_json()["username"] == "alice"


def test_verify_credentials_with_basic(client, account):
    response = client.get("/api/v1/accounts/verify_credentials", headers=basic_headers("alice"))
    assert response.status_code == 200


def test_verify_credentials_without_auth(client):
    response = client.get("/api/v1/accounts/verify_credentials")
    assert response.status_code == 403
    assert response.get_json() == {"error": "Invalid credentials."}


# ---------------------------------------------------------------------------------------------
# Apps

OOB = "urn:ietf:wg:oauth:2.0:oob"


def test_create_app_with_json_and_multipart(client):
    for kwargs in (
        {"json": {"client_name": "toot", "redirect_uris": OOB, "scopes": "read write"}},
        {"data": {"client_name": "fe", "redirect_uris": OOB}, "content_type": "multipart/form-data"},
    ):
        response = client.post("/api/v1/apps", **kwargs)
        assert response.status_code == 200
        body = response.get_json()
        assert body["redirect_uri"] == OOB and body["client_id"] and body["client_secret"]
        assert body["vapid_key"] and isinstance(body["id"], str)


def test_create_app_errors(client):
    missing = client.post("/api/v1/apps", data={"redirect_uris": OOB})
    assert missing.status_code == 400
    assert missing.get_json() == {"error": "Missing field: client_name."}
    unknown = client.post(
        "/api/v1/apps", data={"client_name": "x", "redirect_uris": OOB, "scopes": "read fly"}
    )
    assert unknown.status_code == 400
    assert unknown.get_json() == {"error": "Unsupported scope: fly"}


def test_app_verify_credentials_with_app_only_token(client, oauth_app):
    token = client.post(
        "/oauth/token",
        json={
            "grant_type": "client_credentials",
            "client_id": oauth_app["client_id"],
            "client_secret": oauth_app["client_secret"],
        },
    ).get_json()
    assert "me" not in token and token["scope"] == "read write follow push admin"
    response = client.get(
        "/api/v1/apps/verify_credentials", headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    assert response.status_code == 200
    assert response.get_json()["name"] == "Test client"
    # An app-only token is no user anywhere else.
    me = client.get(
        "/api/v1/accounts/verify_credentials", headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    assert me.status_code == 403


def test_app_verify_credentials_without_token_is_401(client):
    response = client.get("/api/v1/apps/verify_credentials", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.get_json() == {"error": "Invalid credentials"}


# ---------------------------------------------------------------------------------------------
# Token endpoint


def _password_grant(client, oauth_app, **extra):
    return client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": oauth_app["client_id"],
            "client_secret": oauth_app["client_secret"],
            "username": "alice",
            "password": "secret-pw",
        }
        | extra,
    )


def test_password_grant_accepts_email_and_basic_client_auth(client, account, oauth_app):
    secret = base64.b64encode(f"{oauth_app['client_id']}:{oauth_app['client_secret']}".encode()).decode()
    response = client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "username": "alice@example.org",
            "password": "secret-pw",
            "scope": "read",
        },
        headers={"Authorization": f"Basic {secret}"},
    )
    assert response.status_code == 200
    assert response.get_json()["scope"] == "read"


def test_password_grant_drops_unknown_and_unregistered_scopes(client, make_account, oauth_app):
    make_account("alice")
    limited = client.post(
        "/api/v1/apps", data={"client_name": "r", "redirect_uris": OOB, "scopes": "read"}
    ).get_json()
    response = _password_grant(client, limited, scope="read write bogus")
    assert response.status_code == 200
    assert response.get_json()["scope"] == "read"


def test_password_grant_json_body_and_name_alias(client, account, oauth_app):
    response = client.post(
        "/oauth/token",
        json={
            "grant_type": "password",
            "client_id": oauth_app["client_id"],
            "client_secret": oauth_app["client_secret"],
            "name": "alice",
            "password": "secret-pw",
        },
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "change",
    [{"password": "wrong"}, {"client_secret": "wrong"}, {"username": "nobody"}],
)
def test_token_errors_say_invalid_credentials(client, account, oauth_app, change):
    response = _password_grant(client, oauth_app, **change)
    assert response.status_code == 400
    assert response.get_json() == {"error": "Invalid credentials"}


@pytest.mark.parametrize("grant_type", [None, "implicit"])
def test_token_bad_grant_type(client, oauth_app, grant_type):
    data = {"client_id": oauth_app["client_id"], "client_secret": oauth_app["client_secret"]}
    if grant_type:
        data["grant_type"] = grant_type
    response = client.post("/oauth/token", data=data)
    assert response.status_code == 400
    assert response.get_json() == {"error": "Bad request"}


def test_token_sets_the_session_cookie(app, account, oauth_app):
    browser = app.test_client()
    assert _password_grant(browser, oauth_app).status_code == 200
    response = browser.get("/api/v1/accounts/verify_credentials")  # no header: the cookie speaks
    assert response.status_code == 200
    assert response.get_json()["username"] == "alice"


def test_refresh_token_issues_new_tokens_and_revokes_the_old(client, account, oauth_app):
    first = _password_grant(client, oauth_app).get_json()
    response = client.post(
        "/oauth/token",
        json={
            "grant_type": "refresh_token",
            "refresh_token": first["refresh_token"],
            "client_id": oauth_app["client_id"],
            "client_secret": oauth_app["client_secret"],
        },
    )
    assert response.status_code == 200
    second = response.get_json()
    assert second["access_token"] != first["access_token"] and second["refresh_token"]
    old = {"Authorization": f"Bearer {first['access_token']}"}
    new = {"Authorization": f"Bearer {second['access_token']}"}
    client.delete_cookie("_pleroma_key")
    assert client.get("/api/v1/accounts/verify_credentials", headers=old).status_code == 403
    assert client.get("/api/v1/accounts/verify_credentials", headers=new).status_code == 200
    reused = client.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": first["refresh_token"],
            "client_id": oauth_app["client_id"],
            "client_secret": oauth_app["client_secret"],
        },
    )
    assert reused.get_json() == {"error": "Invalid credentials"}


def test_revoke_token(client, account, oauth_app):
    token = _password_grant(client, oauth_app).get_json()["access_token"]
    client.delete_cookie("_pleroma_key")
    response = client.post(
        "/oauth/revoke",
        data={
            "token": token,
            "client_id": oauth_app["client_id"],
            "client_secret": oauth_app["client_secret"],
        },
    )
    assert response.status_code == 200 and response.get_json() == {}
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/accounts/verify_credentials", headers=headers).status_code == 403
    assert client.post("/oauth/revoke", json={"token": "unknown"}).get_json() == {}
    missing = client.post("/oauth/revoke", data={})
    assert missing.status_code == 400 and missing.get_json() == {"error": "Bad request"}


# ---------------------------------------------------------------------------------------------
# Authorization code flow (login form), with and without PKCE


def _authorize_query(oauth_app, redirect_uri=OOB, **extra):
    return {
        "response_type": "code",
        "client_id": oauth_app["client_id"],
        "redirect_uri": redirect_uri,
        "scope": "read write",
    } | extra


def _code_from_page(html: str) -> str:
    match = re.search(r'id="code">([^<]+)<', html)
    assert match, html
    return match.group(1)


def test_authorize_form_renders_with_trailing_slash(client, oauth_app):
    response = client.get("/oauth/authorize/", query_string=_authorize_query(oauth_app))
    assert response.status_code == 200
    assert "text/html" in response.content_type
    assert 'name="authorization[password]"' in response.get_data(as_text=True)


def test_authorize_unknown_client_or_redirect(client, oauth_app):
    bad_client = client.get("/oauth/authorize", query_string=_authorize_query(oauth_app) | {"client_id": "x"})
    assert bad_client.status_code == 400 and bad_client.get_json() == {"error": "Invalid client"}
    bad_redirect = client.get(
        "/oauth/authorize", query_string=_authorize_query(oauth_app, "https://evil.example/cb")
    )
    assert bad_redirect.status_code == 400


def _login(client, oauth_app, password="secret-pw", **extra):
    fields = {f"authorization[{k}]": v for k, v in _authorize_query(oauth_app, **extra).items()}
    fields |= {"authorization[name]": "alice", "authorization[password]": password}
    return client.post("/oauth/authorize", data=fields)


def test_authorize_oob_shows_code_that_exchanges_once(client, account, oauth_app):
    page = _login(client, oauth_app)
    assert page.status_code == 200
    code = _code_from_page(page.get_data(as_text=True))
    exchange = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": OOB,
        "client_id": oauth_app["client_id"],
        "client_secret": oauth_app["client_secret"],
    }
    token = client.post("/oauth/token", data=exchange)
    assert token.status_code == 200
    assert token.get_json()["scope"] == "read write"
    assert token.get_json()["me"] == "http://127.0.0.1:5000/users/alice"
    assert client.post("/oauth/token", data=exchange).get_json() == {"error": "Invalid credentials"}


def test_authorize_redirects_with_code_and_state(client, account):
    registered = client.post(
        "/api/v1/apps",
        data={"client_name": "web", "redirect_uris": "https://app.example/cb", "scopes": "read"},
    ).get_json()
    response = _login(client, registered, redirect_uri="https://app.example/cb", scope="read", state="xyz")
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["state"] == ["xyz"] and query["code"][0]


def test_authorize_wrong_password_and_foreign_scope(client, account, oauth_app):
    wrong = _login(client, oauth_app, password="nope")
    assert wrong.status_code == 401 and "Invalid Username/Password" in wrong.get_data(as_text=True)
    limited = client.post(
        "/api/v1/apps", data={"client_name": "r", "redirect_uris": OOB, "scopes": "read"}
    ).get_json()
    outside = _login(client, limited, scope="read write")
    assert outside.status_code == 401
    assert "This action is outside of authorized scopes" in outside.get_data(as_text=True)


def test_authorize_disabled_account_is_403(client, account, oauth_app):
    from models import db

    account.is_active = False
    db.session.commit()
    response = _login(client, oauth_app)
    assert response.status_code == 403
    assert "Your account is currently disabled" in response.get_data(as_text=True)


def _pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def test_authorization_code_with_pkce_end_to_end(client, account, oauth_app):
    verifier, challenge = _pkce_pair()
    page = _login(client, oauth_app, code_challenge=challenge, code_challenge_method="S256")
    code = _code_from_page(page.get_data(as_text=True))
    base = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": OOB,
        "client_id": oauth_app["client_id"],
    }
    wrong = client.post("/oauth/token", data=base | {"code_verifier": "x" * 50})
    assert wrong.status_code == 400 and wrong.get_json() == {"error": "Invalid credentials"}
    # A public client proves itself with the verifier alone (no secret).
    page = _login(client, oauth_app, code_challenge=challenge, code_challenge_method="S256")
    base["code"] = _code_from_page(page.get_data(as_text=True))
    token = client.post("/oauth/token", json=base | {"code_verifier": verifier})
    assert token.status_code == 200, token.get_json()
    client.delete_cookie("_pleroma_key")
    headers = {"Authorization": f"Bearer {token.get_json()['access_token']}"}
    posted = client.post("/api/v1/statuses", data={"status": "via PKCE"}, headers=headers)
    assert posted.status_code == 200
    assert posted.get_json()["account"]["username"] == "alice"


def test_code_without_pkce_needs_the_client_secret(client, account, oauth_app):
    code = _code_from_page(_login(client, oauth_app).get_data(as_text=True))
    exchange = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": OOB,
        "client_id": oauth_app["client_id"],
    }
    response = client.post("/oauth/token", data=exchange)
    assert response.status_code == 400 and response.get_json() == {"error": "Invalid credentials"}
    with_secret = client.post("/oauth/token", data=exchange | {"client_secret": oauth_app["client_secret"]})
    assert with_secret.status_code == 200


def test_authorize_non_ascii_response_type_is_400(client, account, oauth_app):
    """Found by the fuzzing: authlib cannot word an error about `response_type=Ôi` (500)."""
    response = _login(client, oauth_app, response_type="Ôi")
    assert response.status_code == 400
    assert response.get_json() == {"error": "Bad request"}
