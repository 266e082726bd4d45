from __future__ import annotations

import pytest

from models import Follow
from models import db
from tests.conftest import basic_headers


@pytest.mark.parametrize("prefix", ["/api/v1/pleroma", "/api/pleroma"])
def test_create_scrobble_returns_listen(client, account, auth_headers, prefix):
    response = client.post(
        f"{prefix}/scrobble",
        json={"title": "<b>Song</b>", "artist": "Band", "album": "LP", "length": "180000"},
        headers=auth_headers(account),
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["title"] == "Song"
    assert body["artist"] == "Band" and body["album"] == "LP" and body["length"] == 180000
    assert body["account"]["id"] == account.id
    assert body["external_link"] is None
    assert body["created_at"].endswith("Z")


def test_create_scrobble_requires_title(client, account, auth_headers):
    response = client.post("/api/v1/pleroma/scrobble", data={"artist": "x"}, headers=auth_headers(account))
    assert response.status_code == 400
    assert response.get_json() == {"error": "Missing field: title."}


def test_create_scrobble_rejects_bad_visibility(client, account, auth_headers):
    response = client.post(
        "/api/v1/pleroma/scrobble", data={"title": "x", "visibility": "loud"}, headers=auth_headers(account)
    )
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("visibility")


def test_create_scrobble_needs_auth_and_scope(client, account, auth_headers):
    assert client.post("/api/v1/pleroma/scrobble", data={"title": "x"}).get_json() == {
        "error": "Invalid credentials."
    }
    response = client.post(
        "/api/v1/pleroma/scrobble", data={"title": "x"}, headers=auth_headers(account, "read")
    )
    assert response.status_code == 403
    assert response.get_json() == {"error": "Insufficient permissions: write:scrobbles."}


def test_create_scrobble_with_basic_auth(client, account):
    response = client.post("/api/v1/pleroma/scrobble", data={"title": "x"}, headers=basic_headers("alice"))
    assert response.status_code == 200


def _scrobble(client, headers, title, visibility="public"):
    response = client.post(
        "/api/v1/pleroma/scrobble", data={"title": title, "visibility": visibility}, headers=headers
    )
    assert response.status_code == 200
    return response.get_json()["id"]


def test_account_scrobbles_newest_first_with_paging(client, account, auth_headers):
    headers = auth_headers(account)
    ids = [_scrobble(client, headers, f"t{i}") for i in range(3)]
    response = client.get(f"/api/v1/pleroma/accounts/{account.id}/scrobbles?limit=2")
    assert response.status_code == 200
    assert [s["id"] for s in response.get_json()] == [ids[2], ids[1]]
    assert f"max_id={ids[1]}" in response.headers["Link"]
    older = client.get(f"/api/pleroma/accounts/alice/scrobbles?max_id={ids[1]}").get_json()
    assert [s["id"] for s in older] == [ids[0]]


def test_account_scrobbles_hide_private_listens_from_strangers(client, make_account, auth_headers):
    alice, bob = make_account("alice"), make_account("bob")
    headers = auth_headers(alice)
    _scrobble(client, headers, "open")
    _scrobble(client, headers, "friends", "private")
    _scrobble(client, headers, "me", "direct")

    def titles(h: dict | None = None) -> list[str]:
        answer = client.get(f"/api/v1/pleroma/accounts/{alice.id}/scrobbles", headers=h).get_json()
        return [s["title"] for s in answer]

    assert titles() == ["open"]
    assert titles(headers) == ["me", "friends", "open"]
    db.session.add(Follow(follower_id=bob.id, followee_id=alice.id))
    db.session.commit()
    assert titles(auth_headers(bob)) == ["friends", "open"]


def test_account_scrobbles_unknown_account(client):
    response = client.get("/api/v1/pleroma/accounts/nobody/scrobbles")
    assert response.status_code == 404
    assert response.get_json() == {"error": "Record not found"}


def test_create_scrobble_refuses_a_length_past_the_integer_range(client, account, auth_headers):
    """Found by the fuzzing: SQLite cannot store 10**22 (500)."""
    response = client.post(
        "/api/v1/pleroma/scrobble",
        data='{"title": "t", "length": 10000000000000000000000}',
        headers={**auth_headers(account), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("length - ")
