from __future__ import annotations

import pytest
from sqlalchemy import select

from models import Follow
from models import Notification
from models import db


@pytest.fixture
def locked(make_account):
    account = make_account("locked")
    account.is_locked = True
    db.session.commit()
    return account


def _request(client, auth_headers, requester, target):
    response = client.post(f"/api/v1/accounts/{target.id}/follow", headers=auth_headers(requester))
    assert response.get_json()["requested"] is True


def _types(recipient):
    return [
        n.type
        for n in db.session.scalars(select(Notification).where(Notification.account_id == recipient.id))
    ]


def test_follow_requests_list_newest_first_with_link(client, locked, make_account, auth_headers):
    bob, carol = make_account("bob"), make_account("carol")
    _request(client, auth_headers, bob, locked)
    _request(client, auth_headers, carol, locked)
    headers = auth_headers(locked)
    response = client.get("/api/v1/follow_requests?limit=1", headers=headers)
    assert response.status_code == 200
    assert [a["acct"] for a in response.get_json()] == ["carol"]
    newest = db.session.scalar(select(Follow.id).where(Follow.follower_id == carol.id))
    assert f"max_id={newest}" in response.headers["Link"]
    rest = client.get(f"/api/v1/follow_requests?max_id={newest}", headers=headers).get_json()
    assert [a["acct"] for a in rest] == ["bob"]
    assert (
        client.get("/api/v1/accounts/verify_credentials", headers=headers).get_json()["pleroma"][
            "follow_requests_count"
        ]
        == 2
    )


def test_authorize_turns_the_request_into_a_follow(client, locked, make_account, auth_headers):
    bob = make_account("bob")
    _request(client, auth_headers, bob, locked)
    assert _types(locked) == ["follow_request"]
    response = client.post(f"/api/v1/follow_requests/{bob.id}/authorize", headers=auth_headers(locked))
    assert response.status_code == 200
    relationship = response.get_json()
    assert relationship["id"] == bob.id and relationship["followed_by"] is True
    db.session.refresh(bob)
    db.session.refresh(locked)
    assert (bob.following_count, locked.followers_count) == (1, 1)
    assert _types(locked) == ["follow"]
    assert client.get("/api/v1/follow_requests", headers=auth_headers(locked)).get_json() == []
    seen_by_bob = client.get(
        f"/api/v1/accounts/relationships?id={locked.id}", headers=auth_headers(bob)
    ).get_json()
    assert seen_by_bob[0]["following"] is True and seen_by_bob[0]["requested"] is False
    # Already accepted: nothing pending any more.
    again = client.post(f"/api/v1/follow_requests/{bob.id}/authorize", headers=auth_headers(locked))
    assert again.status_code == 404


def test_reject_deletes_the_request(client, locked, make_account, auth_headers):
    bob = make_account("bob")
    _request(client, auth_headers, bob, locked)
    response = client.post(f"/api/v1/follow_requests/{bob.id}/reject", headers=auth_headers(locked))
    assert response.status_code == 200
    assert response.get_json()["followed_by"] is False
    assert db.session.scalar(select(Follow)) is None
    assert _types(locked) == []
    db.session.refresh(locked)
    assert locked.followers_count == 0


def test_follow_requests_unknown(client, locked, make_account, auth_headers):
    headers = auth_headers(locked)
    response = client.post("/api/v1/follow_requests/nobody/authorize", headers=headers)
    assert response.status_code == 404
    assert response.get_json() == {"error": "Record not found"}
    stranger = make_account("bob")  # exists but never asked
    assert client.post(f"/api/v1/follow_requests/{stranger.id}/reject", headers=headers).status_code == 404


def test_follow_requests_auth(client, locked, make_account, auth_headers):
    bob = make_account("bob")
    assert client.get("/api/v1/follow_requests").get_json() == {"error": "Invalid credentials."}
    response = client.get("/api/v1/follow_requests", headers=auth_headers(locked, "read:accounts"))
    assert response.get_json() == {"error": "Insufficient permissions: read:follows."}
    response = client.post(f"/api/v1/follow_requests/{bob.id}/authorize")
    assert response.status_code == 403
    response = client.post(f"/api/v1/follow_requests/{bob.id}/reject", headers=auth_headers(locked, "read"))
    assert response.get_json() == {"error": "Insufficient permissions: follow | write:follows."}


def test_follow_requests_bad_input(client, locked, auth_headers):
    response = client.get("/api/v1/follow_requests?with_relationships=kinda", headers=auth_headers(locked))
    assert response.status_code == 400
