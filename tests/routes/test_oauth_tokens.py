from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from models import Token
from models import db
from tests.conftest import basic_headers

VERIFY = "/api/v1/accounts/verify_credentials"


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _token_id(value: str) -> int:
    return db.session.scalar(select(Token.id).where(Token.access_token == value))


@pytest.mark.parametrize("path", ["/api/oauth_tokens", "/api/oauth_tokens.json"])
def test_list_tokens_shows_the_callers_active_tokens(client, make_account, account, token, path):
    first = token(account)
    second = token(account, "read:statuses")  # any scope will do here
    token(make_account("bob"))
    revoked = token(account)
    client.post("/oauth/revoke", data={"token": revoked})

    response = client.get(path, headers=_bearer(second))
    assert response.status_code == 200
    body = response.get_json()
    assert [entry["id"] for entry in body] == [_token_id(second), _token_id(first)]
    for entry in body:
        assert entry["app_name"] == "Test client"
        # Pleroma's format: a naive ISO datetime, no zone (SPEC 1.7).
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?", entry["valid_until"])
        assert entry["valid_until"] > "2100"


def test_list_tokens_with_basic_auth(client, account, token):
    issued = token(account)
    response = client.get("/api/oauth_tokens", headers=basic_headers("alice"))
    assert response.status_code == 200
    assert [entry["id"] for entry in response.get_json()] == [_token_id(issued)]


def test_list_tokens_requires_a_user(client):
    response = client.get("/api/oauth_tokens")
    assert response.status_code == 403
    assert response.get_json() == {"error": "Invalid credentials."}


def test_delete_token_revokes_it_at_once(client, account, token):
    caller = token(account)
    victim = token(account)
    assert client.get(VERIFY, headers=_bearer(victim)).status_code == 200
    response = client.delete(f"/api/oauth_tokens/{_token_id(victim)}", headers=_bearer(caller))
    assert response.status_code == 200
    assert response.get_json() == {}
    assert client.get(VERIFY, headers=_bearer(victim)).get_json() == {"error": "Invalid credentials."}
    assert client.get(VERIFY, headers=_bearer(caller)).status_code == 200
    listed = client.get("/api/oauth_tokens", headers=_bearer(caller)).get_json()
    assert [entry["id"] for entry in listed] == [_token_id(caller)]


def test_delete_token_ignores_other_accounts_and_unknown_ids(client, make_account, account, token):
    caller = token(account)
    bobs = token(make_account("bob"))
    for token_id in (_token_id(bobs), 999999):
        response = client.delete(f"/api/oauth_tokens/{token_id}", headers=_bearer(caller))
        assert response.status_code == 200
        assert response.get_json() == {}
    assert client.get(VERIFY, headers=_bearer(bobs)).status_code == 200


@pytest.mark.parametrize("token_id", ["abc", "1.5", "99999999999999999999999"])
def test_delete_token_rejects_non_integer_ids(client, account, token, token_id):
    response = client.delete(f"/api/oauth_tokens/{token_id}", headers=_bearer(token(account)))
    assert response.status_code == 400
    assert response.get_json() == {"error": "Invalid parameters"}


def test_delete_token_requires_a_user(client, account, token):
    victim = token(account)
    response = client.delete(f"/api/oauth_tokens/{_token_id(victim)}")
    assert response.status_code == 403
    assert response.get_json() == {"error": "Invalid credentials."}
    assert client.get(VERIFY, headers=_bearer(victim)).status_code == 200
