"""POST /api/v1/pleroma/accounts/:id/subscribe · /unsubscribe (SPEC 13, 21.11) and the
subscription relation behind `notify` on follow."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import Notification
from models import Subscription
from models import db
from tests.conftest import basic_headers

PREFIXES = ("/api/v1/pleroma", "/api/pleroma")


@pytest.fixture
def bob(make_account):
    return make_account("bob")


def _subscribe(client, who_headers, target_id, prefix="/api/v1/pleroma", action="subscribe"):
    return client.post(f"{prefix}/accounts/{target_id}/{action}", headers=who_headers)


def _post(client, headers, text, visibility="public"):
    response = client.post(
        "/api/v1/statuses", json={"status": text, "visibility": visibility}, headers=headers
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()["id"]


def _mentions_of(account):
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Notification.status_id).where(
                Notification.account_id == account.id, Notification.type == "mention"
            )
        )
    )


@pytest.mark.parametrize("prefix", PREFIXES)
def test_subscribe_without_following_sets_both_flags(client, account, bob, auth_headers, prefix):
    response = _subscribe(client, auth_headers(account), bob.id, prefix)
    assert response.status_code == 200
    relationship = response.get_json()
    assert relationship["id"] == bob.id
    assert relationship["subscribing"] is True and relationship["notifying"] is True
    assert relationship["following"] is False
    # Twice is still fine and still one row.
    again = _subscribe(client, auth_headers(account), bob.id, prefix)
    assert again.status_code == 200 and again.get_json()["subscribing"] is True
    assert len(db.session.scalars(select(Subscription)).all()) == 1


@pytest.mark.parametrize("prefix", PREFIXES)
def test_unsubscribe_is_idempotent(client, account, bob, auth_headers, prefix):
    headers = auth_headers(account)
    never = _subscribe(client, headers, bob.id, prefix, "unsubscribe")
    assert never.status_code == 200 and never.get_json()["subscribing"] is False
    _subscribe(client, headers, bob.id, prefix)
    response = _subscribe(client, headers, bob.id, prefix, "unsubscribe")
    assert response.status_code == 200
    assert response.get_json()["subscribing"] is False and response.get_json()["notifying"] is False


def test_subscribe_accepts_a_nickname_and_basic_auth(client, account, bob):
    response = client.post("/api/pleroma/accounts/bob/subscribe", headers=basic_headers("alice"))
    assert response.status_code == 200
    assert response.get_json()["id"] == bob.id and response.get_json()["subscribing"] is True


def test_subscribe_needs_a_user_and_the_follow_scope(client, account, bob, auth_headers):
    anonymous = client.post(f"/api/v1/pleroma/accounts/{bob.id}/subscribe")
    assert anonymous.status_code == 403
    assert anonymous.get_json() == {"error": "Invalid credentials."}
    for action in ("subscribe", "unsubscribe"):
        response = _subscribe(client, auth_headers(account, "read write:statuses"), bob.id, action=action)
        assert response.status_code == 403
        assert response.get_json() == {"error": "Insufficient permissions: follow | write:follows."}
    granular = _subscribe(client, auth_headers(account, "write:follows"), bob.id)
    assert granular.status_code == 200


def test_subscribe_unknown_account_is_404(client, account, auth_headers):
    for action in ("subscribe", "unsubscribe"):
        response = _subscribe(client, auth_headers(account), "9zzzzzzzzzzzzzzzzz", action=action)
        assert response.status_code == 404
        assert response.get_json() == {"error": "Record not found"}


def test_subscribe_to_an_account_blocking_you_is_403(client, account, bob, auth_headers):
    client.post(f"/api/v1/accounts/{account.id}/block", headers=auth_headers(bob))
    response = _subscribe(client, auth_headers(account), bob.id)
    assert response.status_code == 403
    assert response.get_json() == {"error": "Could not subscribe: bob is blocking you"}


def test_follow_notify_and_subscribe_are_one_flag(client, account, bob, auth_headers):
    headers = auth_headers(account)
    followed = client.post(f"/api/v1/accounts/{bob.id}/follow", json={"notify": True}, headers=headers)
    assert followed.get_json()["notifying"] is True
    # Unfollowing keeps the subscription (SPEC 3, unfollow).
    unfollowed = client.post(f"/api/v1/accounts/{bob.id}/unfollow", headers=headers).get_json()
    assert unfollowed["following"] is False and unfollowed["subscribing"] is True
    # notify=false on a follow ends what /subscribe started; absent leaves it alone.
    client.post(f"/api/v1/accounts/{bob.id}/follow", headers=headers)
    assert _subscribe(client, headers, bob.id, action="subscribe").get_json()["notifying"] is True
    off = client.post(
        f"/api/v1/accounts/{bob.id}/follow", data={"notify": "false"}, headers=headers
    ).get_json()
    assert off["subscribing"] is False and off["notifying"] is False


def test_blocking_ends_subscriptions_both_ways(client, account, bob, auth_headers):
    _subscribe(client, auth_headers(account), bob.id)
    _subscribe(client, auth_headers(bob), account.id)
    blocked = client.post(f"/api/v1/accounts/{bob.id}/block", headers=auth_headers(account)).get_json()
    assert blocked["subscribing"] is False
    assert db.session.scalars(select(Subscription)).all() == []


def test_subscribers_hear_of_posts_they_may_read(client, account, bob, make_account, auth_headers):
    carol = make_account("carol")
    _subscribe(client, auth_headers(account), bob.id)  # alice: subscribed, not following
    client.post(f"/api/v1/accounts/{bob.id}/follow", headers=auth_headers(carol))
    _subscribe(client, auth_headers(carol), bob.id)  # carol: subscribed and following
    bob_headers = auth_headers(bob)
    public = _post(client, bob_headers, "hello world")
    unlisted = _post(client, bob_headers, "quietly", "unlisted")
    private = _post(client, bob_headers, "followers only", "private")
    _post(client, bob_headers, "secret @dave", "direct")
    assert sorted(_mentions_of(account)) == sorted([public, unlisted])
    assert sorted(_mentions_of(carol)) == sorted([public, unlisted, private])
    listed = client.get("/api/v1/notifications?types[]=mention", headers=auth_headers(carol)).get_json()
    assert {n["status"]["id"] for n in listed} == {public, unlisted, private}


def test_unsubscribed_accounts_hear_nothing(client, account, bob, auth_headers):
    _subscribe(client, auth_headers(account), bob.id)
    _subscribe(client, auth_headers(account), bob.id, action="unsubscribe")
    _post(client, auth_headers(bob), "anyone there")
    assert _mentions_of(account) == []


def test_relationships_cost_the_same_for_one_or_many(
    client, account, make_account, auth_headers, count_queries
):
    others = [make_account(f"user{i}") for i in range(6)]
    headers = auth_headers(account)
    for other in others:
        _subscribe(client, headers, other.id)
    one = "/api/v1/accounts/relationships?id[]=" + others[0].id
    many = "/api/v1/accounts/relationships?" + "&".join(f"id[]={o.id}" for o in others)
    with count_queries() as small:
        assert client.get(one, headers=headers).status_code == 200
    with count_queries() as large:
        body = client.get(many, headers=headers).get_json()
    assert [r["subscribing"] for r in body] == [True] * 6
    assert large.count == small.count
