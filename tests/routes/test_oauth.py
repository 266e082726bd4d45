from __future__ import annotations

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
    assert body["scope"] == "read write follow push admin"
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
