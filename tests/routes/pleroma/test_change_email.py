"""POST /api/pleroma/change_email (SPEC 11): 200 with `{"error": ...}` for a refused change."""

from __future__ import annotations

import pytest

from models import Account
from models import db

PREFIXES = ("/api/pleroma", "/api/v1/pleroma")


def _email(account):
    db.session.expire_all()
    return db.session.get(Account, account.id).email


@pytest.mark.parametrize("prefix", PREFIXES)
def test_change_email_success(client, account, auth_headers, prefix):
    response = client.post(
        f"{prefix}/change_email",
        data={"password": "secret-pw", "email": "new@example.net"},
        headers=auth_headers(account),
    )
    assert response.status_code == 200
    assert response.get_json() == {"status": "success"}
    assert _email(account) == "new@example.net"


def test_change_email_wrong_password_is_200(client, account, auth_headers):
    response = client.post(
        "/api/pleroma/change_email",
        json={"password": "nope", "email": "new@example.net"},
        headers=auth_headers(account),
    )
    assert response.status_code == 200
    assert response.get_json() == {"error": "Invalid password."}
    assert _email(account) == "alice@example.org"


@pytest.mark.parametrize("email", ["not-an-email", "a@b@c", "x@-bad.example", "x@ex ample.org", "a@b.c\n"])
def test_change_email_invalid_format(client, account, auth_headers, email):
    response = client.post(
        "/api/pleroma/change_email",
        json={"password": "secret-pw", "email": email},
        headers=auth_headers(account),
    )
    assert response.status_code == 200
    assert response.get_json() == {"error": "Email has invalid format."}
    assert _email(account) == "alice@example.org"


def test_change_email_taken_by_someone_else(client, account, make_account, auth_headers):
    make_account("bob")  # bob@example.org
    headers = auth_headers(account)
    response = client.post(
        "/api/pleroma/change_email",
        json={"password": "secret-pw", "email": "BOB@example.org"},
        headers=headers,
    )
    assert response.status_code == 200
    assert response.get_json() == {"error": "Email has already been taken."}
    own = client.post(
        "/api/pleroma/change_email",
        json={"password": "secret-pw", "email": "alice@example.org"},
        headers=headers,
    )
    assert own.get_json() == {"status": "success"}


def test_change_email_empty_clears_it(client, account, auth_headers):
    response = client.post(
        "/api/pleroma/change_email",
        data={"password": "secret-pw", "email": ""},
        headers=auth_headers(account),
    )
    assert response.get_json() == {"status": "success"}
    assert _email(account) is None


def test_change_email_params_auth_and_scope(client, account, auth_headers):
    headers = auth_headers(account)
    missing = client.post("/api/pleroma/change_email", data={"password": "secret-pw"}, headers=headers)
    assert missing.status_code == 400
    assert missing.get_json() == {"error": "Missing field: email."}
    anonymous = client.post("/api/pleroma/change_email", data={"password": "secret-pw", "email": "a@b.org"})
    assert anonymous.status_code == 403
    assert anonymous.get_json() == {"error": "Invalid credentials."}
    scoped = client.post(
        "/api/pleroma/change_email",
        data={"password": "secret-pw", "email": "a@b.org"},
        headers=auth_headers(account, "read write:statuses"),
    )
    assert scoped.status_code == 403
    assert scoped.get_json() == {"error": "Insufficient permissions: write:accounts."}
