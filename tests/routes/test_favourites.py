from __future__ import annotations

import pytest
from sqlalchemy import delete

from models import Follow
from models import db

BASE = "http://127.0.0.1:5000"


@pytest.fixture
def bob(make_account):
    return make_account("bob")


def post(client, headers, **data) -> str:
    response = client.post("/api/v1/statuses", json=data, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["id"]


def favourite(client, headers, status_id: str) -> None:
    assert client.post(f"/api/v1/statuses/{status_id}/favourite", headers=headers).status_code == 200


def test_list_favourites_newest_favourite_first(client, account, bob, auth_headers):
    alice_h, bob_h = auth_headers(account), auth_headers(bob)
    older = post(client, alice_h, status="older")
    newer = post(client, alice_h, status="newer")
    mine = post(client, bob_h, status="bob's own")
    favourite(client, bob_h, newer)
    favourite(client, bob_h, older)  # favourited last: comes first although it is the older status
    favourite(client, alice_h, mine)  # someone else's favourite is not listed for bob
    response = client.get("/api/v1/favourites", headers=bob_h)
    assert response.status_code == 200
    body = response.get_json()
    assert [s["id"] for s in body] == [older, newer]
    assert all(s["favourited"] for s in body)


def test_list_favourites_pages_by_favourite_id(client, account, bob, auth_headers):
    alice_h, bob_h = auth_headers(account), auth_headers(bob)
    ids = [post(client, alice_h, status=f"s{i}") for i in range(3)]
    for status_id in reversed(ids):
        favourite(client, bob_h, status_id)
    response = client.get("/api/v1/favourites?limit=2", headers=bob_h)
    assert [s["id"] for s in response.get_json()] == [ids[0], ids[1]]
    link = response.headers["Link"]
    next_url, prev_url = (part.split(">")[0].lstrip("<") for part in link.split(", "))
    assert next_url.startswith(f"{BASE}/api/v1/favourites?limit=2&max_id=")
    assert prev_url.startswith(f"{BASE}/api/v1/favourites?limit=2&min_id=")
    # the cursors are favourite ids, not status ids
    assert next_url.rsplit("=", 1)[1] not in ids
    following = client.get(next_url.removeprefix(BASE), headers=bob_h)
    assert [s["id"] for s in following.get_json()] == [ids[2]]
    last = client.get(following.headers["Link"].split(">")[0].lstrip("<").removeprefix(BASE), headers=bob_h)
    assert last.get_json() == [] and "Link" not in last.headers


def test_list_favourites_hides_statuses_no_longer_visible(client, account, bob, auth_headers):
    alice_h, bob_h = auth_headers(account), auth_headers(bob)
    db.session.add(Follow(follower_id=bob.id, followee_id=account.id))
    db.session.commit()
    private = post(client, alice_h, status="followers", visibility="private")
    favourite(client, bob_h, private)
    assert len(client.get("/api/v1/favourites", headers=bob_h).get_json()) == 1
    db.session.execute(delete(Follow))
    db.session.commit()
    assert client.get("/api/v1/favourites", headers=bob_h).get_json() == []


def test_list_favourites_auth_and_scope(client, account, auth_headers):
    response = client.get("/api/v1/favourites")
    assert response.status_code == 403
    assert response.get_json() == {"error": "Invalid credentials."}
    response = client.get("/api/v1/favourites", headers=auth_headers(account, "read:statuses write"))
    assert response.status_code == 403
    assert response.get_json() == {"error": "Insufficient permissions: read:favourites."}
    assert (
        client.get("/api/v1/favourites", headers=auth_headers(account, "read:favourites")).status_code == 200
    )


def test_list_favourites_bad_cursor_input(client, account, auth_headers):
    response = client.get("/api/v1/favourites?limit=lots", headers=auth_headers(account))
    assert response.status_code == 400
    assert response.get_json() == {"error": "limit - Not a valid integer."}
