"""The streaming endpoints' checks before a connection is taken over (SPEC 25.1): the test
client has no socket to hand over, so a request that passes them answers 400 here; the live
tests (tests/streaming/) hold real connections."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from models import Account
from models import List
from models import db

WS_HEADERS = {
    "Upgrade": "websocket",
    "Connection": "Upgrade",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
}
NO_SOCKET = {"error": "streaming needs a plain socket (terminate TLS in the proxy)"}


def test_health_answers_ok(client: FlaskClient) -> None:
    response = client.get("/api/v1/streaming/health")
    assert response.status_code == 200
    assert response.data == b"OK"


@pytest.mark.parametrize("path", ["user", "user/notification", "list?list=1", "direct"])
def test_private_streams_need_a_token(client: FlaskClient, path: str) -> None:
    response = client.get(f"/api/v1/streaming/{path}")
    assert response.status_code == 401
    assert response.get_json() == {"error": "Missing access token"}


def test_a_bad_token_is_refused(client: FlaskClient) -> None:
    for response in (
        client.get("/api/v1/streaming/public", headers={"Authorization": "Bearer nope"}),
        client.get("/api/v1/streaming/public?access_token=nope"),
        client.get(
            "/api/v1/streaming?stream=public", headers=WS_HEADERS | {"Sec-WebSocket-Protocol": "nope"}
        ),
    ):
        assert response.status_code == 401
        assert response.get_json() == {"error": "Invalid access token"}


def test_scopes_are_checked(client: FlaskClient, account: Account, token: Callable[..., str]) -> None:
    write_only = token(account, "write")
    response = client.get("/api/v1/streaming/user", headers={"Authorization": f"Bearer {write_only}"})
    assert response.status_code == 403
    assert response.get_json() == {"error": "Access token does not have the required scopes"}
    statuses_only = token(account, "read:statuses")
    response = client.get(f"/api/v1/streaming/user/notification?access_token={statuses_only}")
    assert response.status_code == 403
    # A granular scope is enough for its stream.
    response = client.get(f"/api/v1/streaming/user?access_token={statuses_only}")
    assert response.status_code == 400
    assert response.get_json() == NO_SOCKET


@pytest.mark.parametrize(
    ("path", "status", "error"),
    [
        ("hashtag", 400, "No tag for stream provided"),
        ("hashtag/local?tag=%23", 400, "No tag for stream provided"),
        ("list", 400, "No list for stream provided"),
        ("nonsense", 404, "Unknown stream type"),
        ("public/nonsense", 404, "Unknown stream type"),
    ],
)
def test_bad_streams_are_refused(
    client: FlaskClient, alice_h: dict, path: str, status: int, error: str
) -> None:
    response = client.get(f"/api/v1/streaming/{path}", headers=alice_h)
    assert response.status_code == status
    assert response.get_json() == {"error": error}


def test_a_list_stream_is_its_owners_only(
    app: Flask, client: FlaskClient, alice_h: dict, bob: Account
) -> None:
    with app.app_context():
        theirs = List(account_id=bob.id, title="bob's")
        db.session.add(theirs)
        db.session.commit()
        list_id = theirs.id
    for list_ref in (list_id, "missing"):
        response = client.get(f"/api/v1/streaming/list?list={list_ref}", headers=alice_h)
        assert response.status_code == 404
        assert response.get_json() == {"error": "Record not found"}


def test_the_websocket_checks_its_stream(client: FlaskClient, alice_h: dict) -> None:
    response = client.get("/api/v1/streaming?stream=bogus", headers=WS_HEADERS | alice_h)
    assert response.status_code == 400
    assert response.get_json() == {"error": "Unknown stream type"}
    response = client.get("/api/v1/streaming/?stream=user", headers=WS_HEADERS)
    assert response.status_code == 401
    # Not an upgrade request: the websocket route does not answer it.
    response = client.get("/api/v1/streaming", headers=alice_h)
    assert response.status_code == 400
    assert "error" in response.get_json()
