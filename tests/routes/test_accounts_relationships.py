"""Follow, unfollow, block, mute, relationships and pins between accounts, and the three ways to
authenticate on a read and a write endpoint."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from models import Mute
from models import Notification
from models import db
from models import utcnow
from tests.conftest import basic_headers
from tests.routes.accounts_helpers import _refresh


def _notifications(recipient, type_=None):
    query = select(Notification).where(Notification.account_id == recipient.id)
    if type_:
        query = query.where(Notification.type == type_)
    return list(db.session.scalars(query))


# ---------------------------------------------------------------------------------------------
# follow / unfollow


def test_follow_counts_and_notifies(client, account, bob, auth_headers):
    response = client.post(f"/api/v1/accounts/{bob.id}/follow", headers=auth_headers(account))
    assert response.status_code == 200
    relationship = response.get_json()
    assert relationship["id"] == bob.id
    assert relationship["following"] is True and relationship["requested"] is False
    assert relationship["showing_reblogs"] is True and relationship["notifying"] is False
    _refresh(account, bob)
    assert (account.following_count, bob.followers_count) == (1, 1)
    assert [n.from_account_id for n in _notifications(bob, "follow")] == [account.id]
    # Following again changes nothing but the flags.
    again = client.post(
        f"/api/v1/accounts/{bob.id}/follow",
        json={"reblogs": False, "notify": True},
        headers=auth_headers(account),
    ).get_json()
    assert again["following"] is True
    assert again["showing_reblogs"] is False
    assert again["notifying"] is True and again["subscribing"] is True
    _refresh(account, bob)
    assert (account.following_count, bob.followers_count) == (1, 1)
    assert len(_notifications(bob, "follow")) == 1
    assert client.get(f"/api/v1/accounts/{bob.id}").get_json()["followers_count"] == 1
    assert client.get(f"/api/v1/accounts/{account.id}").get_json()["following_count"] == 1


def test_follow_locked_account_makes_a_request(client, account, bob, auth_headers):
    bob.is_locked = True
    db.session.commit()
    relationship = client.post(f"/api/v1/accounts/{bob.id}/follow", headers=auth_headers(account)).get_json()
    assert relationship["following"] is False and relationship["requested"] is True
    _refresh(account, bob)
    assert (account.following_count, bob.followers_count) == (0, 0)
    assert len(_notifications(bob, "follow_request")) == 1
    assert _notifications(bob, "follow") == []


def test_follow_errors(client, account, bob, make_account, auth_headers):
    headers = auth_headers(account)
    response = client.post(f"/api/v1/accounts/{account.id}/follow", headers=headers)
    assert response.status_code == 400
    assert response.get_json() == {"error": "Can not follow yourself"}
    client.post(f"/api/v1/accounts/{account.id}/block", headers=auth_headers(bob))
    response = client.post(f"/api/v1/accounts/{bob.id}/follow", headers=headers)
    assert response.status_code == 403
    assert response.get_json() == {"error": "Could not follow user: bob blocked you."}
    gone = make_account("gone")
    gone.is_active = False
    db.session.commit()
    response = client.post(f"/api/v1/accounts/{gone.id}/follow", headers=headers)
    assert response.status_code == 403
    assert response.get_json() == {"error": "Could not follow user: gone is deactivated."}
    response = client.post("/api/v1/accounts/000000000000000000/follow", headers=headers)
    assert response.status_code == 404
    assert response.get_json() == {"error": "Record not found"}
    response = client.post(
        f"/api/v1/accounts/{bob.id}/follow", json={"reblogs": "sometimes"}, headers=headers
    )
    assert response.status_code == 400


def test_follow_without_auth_and_wrong_scope(client, account, bob, auth_headers):
    response = client.post(f"/api/v1/accounts/{bob.id}/follow")
    assert response.status_code == 403
    assert response.get_json() == {"error": "Invalid credentials."}
    response = client.post(
        f"/api/v1/accounts/{bob.id}/follow", headers=auth_headers(account, "read write:statuses")
    )
    assert response.status_code == 403
    assert response.get_json() == {"error": "Insufficient permissions: follow | write:follows."}
    granular = client.post(
        f"/api/v1/accounts/{bob.id}/follow", headers=auth_headers(account, "write:follows")
    )
    assert granular.status_code == 200


def test_unfollow_restores_counts_and_withdraws_notification(client, account, bob, auth_headers):
    headers = auth_headers(account)
    client.post(f"/api/v1/accounts/{bob.id}/follow", headers=headers)
    client.post(f"/api/v1/accounts/{bob.id}/pin", headers=headers)
    response = client.post(f"/api/v1/accounts/{bob.id}/unfollow", headers=headers)
    assert response.status_code == 200
    relationship = response.get_json()
    assert relationship["following"] is False and relationship["endorsed"] is False
    _refresh(account, bob)
    assert (account.following_count, bob.followers_count) == (0, 0)
    assert _notifications(bob) == []
    # Unfollowing someone not followed is harmless.
    assert client.post(f"/api/v1/accounts/{bob.id}/unfollow", headers=headers).status_code == 200
    _refresh(account, bob)
    assert (account.following_count, bob.followers_count) == (0, 0)


def test_unfollow_pending_request(client, account, bob, auth_headers):
    bob.is_locked = True
    db.session.commit()
    headers = auth_headers(account)
    client.post(f"/api/v1/accounts/{bob.id}/follow", headers=headers)
    relationship = client.post(f"/api/v1/accounts/{bob.id}/unfollow", headers=headers).get_json()
    assert relationship["requested"] is False
    assert _notifications(bob) == []
    _refresh(bob)
    assert bob.followers_count == 0


def test_unfollow_errors(client, account, auth_headers):
    response = client.post(f"/api/v1/accounts/{account.id}/unfollow", headers=auth_headers(account))
    assert response.status_code == 400
    assert response.get_json() == {"error": "Can not unfollow yourself"}
    response = client.post("/api/v1/accounts/nobody/unfollow", headers=auth_headers(account))
    assert response.status_code == 404
    response = client.post(f"/api/v1/accounts/{account.id}/unfollow", headers=auth_headers(account, "read"))
    assert response.get_json() == {"error": "Insufficient permissions: follow | write:follows."}


# ---------------------------------------------------------------------------------------------
# block / unblock


def test_block_ends_follows_both_ways(client, account, bob, auth_headers):
    client.post(f"/api/v1/accounts/{bob.id}/follow", headers=auth_headers(account))
    client.post(f"/api/v1/accounts/{account.id}/follow", json={"notify": True}, headers=auth_headers(bob))
    client.post(f"/api/v1/accounts/{bob.id}/pin", headers=auth_headers(account))
    response = client.post(f"/api/v1/accounts/{bob.id}/block", headers=auth_headers(account))
    assert response.status_code == 200
    relationship = response.get_json()
    assert relationship["blocking"] is True
    assert relationship["following"] is relationship["followed_by"] is relationship["endorsed"] is False
    _refresh(account, bob)
    assert (account.following_count, account.followers_count) == (0, 0)
    assert (bob.following_count, bob.followers_count) == (0, 0)
    theirs = client.get(
        f"/api/v1/accounts/relationships?id={account.id}", headers=auth_headers(bob)
    ).get_json()[0]
    assert theirs["blocked_by"] is True and theirs["subscribing"] is False
    unblocked = client.post(f"/api/v1/accounts/{bob.id}/unblock", headers=auth_headers(account))
    assert unblocked.status_code == 200
    assert unblocked.get_json()["blocking"] is False


def test_block_errors_and_scope(client, account, bob, auth_headers):
    response = client.post(f"/api/v1/accounts/{account.id}/block", headers=auth_headers(account))
    assert response.status_code == 403
    assert response.get_json() == {"error": "Can not block yourself"}
    assert client.post("/api/v1/accounts/nobody/block", headers=auth_headers(account)).status_code == 404
    assert client.post(f"/api/v1/accounts/{bob.id}/block").get_json() == {"error": "Invalid credentials."}
    response = client.post(
        f"/api/v1/accounts/{bob.id}/unblock", headers=auth_headers(account, "write:follows")
    )
    assert response.status_code == 403
    assert response.get_json() == {"error": "Insufficient permissions: follow | write:blocks."}
    assert (
        client.post(
            f"/api/v1/accounts/{bob.id}/block", headers=auth_headers(account, "write:blocks")
        ).status_code
        == 200
    )


# ---------------------------------------------------------------------------------------------
# mute / unmute


def test_mute_defaults_and_options(client, account, bob, auth_headers):
    headers = auth_headers(account)
    relationship = client.post(f"/api/v1/accounts/{bob.id}/mute", headers=headers).get_json()
    assert relationship["muting"] is True and relationship["muting_notifications"] is True
    row = db.session.scalar(select(Mute).where(Mute.account_id == account.id))
    assert row.expires_at is None
    relationship = client.post(
        f"/api/v1/accounts/{bob.id}/mute", json={"notifications": False, "expires_in": 3600}, headers=headers
    ).get_json()
    assert relationship["muting"] is True and relationship["muting_notifications"] is False
    db.session.refresh(row)
    assert isinstance(row.expires_at, datetime) and row.expires_at > utcnow()
    relationship = client.post(f"/api/v1/accounts/{bob.id}/unmute", headers=headers).get_json()
    assert relationship["muting"] is False


def test_mute_errors_and_scope(client, account, bob, auth_headers):
    response = client.post(
        f"/api/v1/accounts/{bob.id}/mute", data={"expires_in": "soon"}, headers=auth_headers(account)
    )
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("expires_in - ")
    assert client.post("/api/v1/accounts/nobody/mute", headers=auth_headers(account)).status_code == 404
    assert client.post(f"/api/v1/accounts/{bob.id}/mute").status_code == 403
    response = client.post(f"/api/v1/accounts/{bob.id}/mute", headers=auth_headers(account, "write:blocks"))
    assert response.get_json() == {"error": "Insufficient permissions: follow | write:mutes."}
    assert (
        client.post(
            f"/api/v1/accounts/{bob.id}/unmute", headers=auth_headers(account, "write:mutes")
        ).status_code
        == 200
    )


@pytest.mark.parametrize("field", ["expires_in", "duration"])
def test_mute_refuses_a_duration_past_the_integer_range(client, account, bob, auth_headers, field):
    """Found by the fuzzing: a mute for 10**14 seconds overflowed the date arithmetic (500)."""
    response = client.post(
        f"/api/v1/accounts/{bob.id}/mute", data={field: "110036699675438"}, headers=auth_headers(account)
    )
    assert response.status_code == 400
    assert response.get_json()["error"].startswith(f"{field} - ")


# ---------------------------------------------------------------------------------------------
# relationships


def test_relationships_in_request_order_skipping_unknown(client, account, bob, make_account, auth_headers):
    carol = make_account("carol")
    client.post(f"/api/v1/accounts/{carol.id}/follow", headers=auth_headers(account))
    response = client.get(
        f"/api/v1/accounts/relationships?id[]={carol.id}&id[]=unknown000000000000&id[]={bob.id}",
        headers=auth_headers(account),
    )
    assert response.status_code == 200
    body = response.get_json()
    assert [r["id"] for r in body] == [carol.id, bob.id]
    assert body[0]["following"] is True and body[1]["following"] is False
    assert set(body[0]) == {
        "id",
        "following",
        "showing_reblogs",
        "notifying",
        "followed_by",
        "blocking",
        "blocked_by",
        "muting",
        "muting_notifications",
        "subscribing",
        "requested",
        "domain_blocking",
        "endorsed",
        "note",
    }
    single = client.get(
        f"/api/v1/accounts/relationships?id={bob.id}", headers=auth_headers(account)
    ).get_json()
    assert [r["id"] for r in single] == [bob.id]
    assert client.get("/api/v1/accounts/relationships", headers=auth_headers(account)).get_json() == []


def test_relationships_auth(client, account, bob, auth_headers):
    response = client.get(f"/api/v1/accounts/relationships?id={bob.id}")
    assert response.status_code == 403
    response = client.get(
        f"/api/v1/accounts/relationships?id={bob.id}", headers=auth_headers(account, "read:accounts")
    )
    assert response.get_json() == {"error": "Insufficient permissions: read:follows."}


# ---------------------------------------------------------------------------------------------
# pin / unpin


def test_pin_requires_following(client, account, bob, auth_headers):
    headers = auth_headers(account)
    response = client.post(f"/api/v1/accounts/{bob.id}/pin", headers=headers)
    assert response.status_code == 400
    assert response.get_json() == {"error": "You must be following the account to endorse it"}
    client.post(f"/api/v1/accounts/{bob.id}/follow", headers=headers)
    assert client.post(f"/api/v1/accounts/{bob.id}/pin", headers=headers).get_json()["endorsed"] is True
    assert client.post(f"/api/v1/accounts/{bob.id}/unpin", headers=headers).get_json()["endorsed"] is False


def test_pin_auth(client, account, bob, auth_headers):
    assert client.post(f"/api/v1/accounts/{bob.id}/pin").status_code == 403
    response = client.post(f"/api/v1/accounts/{bob.id}/pin", headers=auth_headers(account, "read"))
    assert response.get_json() == {"error": "Insufficient permissions: follow | write:accounts."}
    assert client.post("/api/v1/accounts/nobody/unpin", headers=auth_headers(account)).status_code == 404


# ---------------------------------------------------------------------------------------------
# The three ways to authenticate, on a read and a write endpoint


def _cookie_client(app, oauth_app, nickname):
    cookie_client = app.test_client()
    response = cookie_client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": oauth_app["client_id"],
            "client_secret": oauth_app["client_secret"],
            "username": nickname,
            "password": "secret-pw",
        },
    )
    assert response.status_code == 200
    return cookie_client


def test_relationships_and_follow_with_basic_auth(client, account, bob):
    response = client.post(f"/api/v1/accounts/{bob.id}/follow", headers=basic_headers("alice"))
    assert response.status_code == 200 and response.get_json()["following"] is True
    read = client.get(f"/api/v1/accounts/relationships?id={bob.id}", headers=basic_headers("alice"))
    assert read.get_json()[0]["following"] is True
    wrong = client.get(f"/api/v1/accounts/relationships?id={bob.id}", headers=basic_headers("alice", "nope"))
    assert wrong.status_code == 403


def test_relationships_and_follow_with_session_cookie(app, client, account, bob, oauth_app):
    cookie_client = _cookie_client(app, oauth_app, "alice")
    response = cookie_client.post(f"/api/v1/accounts/{bob.id}/follow")
    assert response.status_code == 200 and response.get_json()["following"] is True
    read = cookie_client.get(f"/api/v1/accounts/relationships?id={bob.id}")
    assert read.status_code == 200 and read.get_json()[0]["following"] is True


def test_relationships_and_follow_with_bearer(client, account, bob, auth_headers):
    headers = auth_headers(account, "read:follows write:follows")
    assert client.post(f"/api/v1/accounts/{bob.id}/follow", headers=headers).get_json()["following"] is True
    assert client.get(f"/api/v1/accounts/relationships?id={bob.id}", headers=headers).get_json()[0][
        "following"
    ]
