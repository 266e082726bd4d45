"""Hashtags (SPEC 26): a tag and its history, following and unfollowing, the followed tags and
their statuses in the home timeline."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from flask.testing import FlaskClient

import serializers.tags
from models import Account
from models import Block
from models import TagFollow
from models import db
from models import utcnow
from tests.routes.test_timelines import ids
from tests.routes.test_timelines import links
from tests.routes.test_timelines import post

TAGS = "/api/v1/tags"
HOME = "/api/v1/timelines/home"
NOT_FOUND = {"error": "Record not found"}


def follows_of(account: Account) -> set[str]:
    db.session.expire_all()
    return set(db.session.scalars(db.select(TagFollow.name).where(TagFollow.account_id == account.id)))


def midnight(days_ago: int) -> str:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return str(int((today - timedelta(days=days_ago)).timestamp()))


# ---------------------------------------------------------------------------------------------
# GET /api/v1/tags/:name


def test_get_tag_gives_a_week_of_history(client: FlaskClient, account: Account, bob: Account) -> None:
    post(account, "one #Cats")
    post(account, "two #cats")
    post(bob, "three #cats")
    older = post(bob, "old #cats")
    older.created_at = utcnow() - timedelta(days=2)
    post(bob, "hidden #cats", visibility="direct")
    db.session.commit()
    response = client.get(f"{TAGS}/CATS")
    assert response.status_code == 200
    body = response.get_json()
    assert body["name"] == "cats"
    assert body["url"].endswith("/tag/cats")
    assert "following" not in body  # anonymous
    assert len(body["history"]) == 7
    assert body["history"][0] == {"day": midnight(0), "uses": "3", "accounts": "2"}
    assert body["history"][2] == {"day": midnight(2), "uses": "1", "accounts": "1"}
    assert body["history"][1] == {"day": midnight(1), "uses": "0", "accounts": "0"}


def test_get_tag_follows_the_clock(
    client: FlaskClient, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    post(account, "#cats")
    later = utcnow() + timedelta(days=3)
    monkeypatch.setattr(serializers.tags, "utcnow", lambda: later)
    history = client.get(f"{TAGS}/cats").get_json()["history"]
    assert [day["uses"] for day in history] == ["0", "0", "0", "1", "0", "0", "0"]
    monkeypatch.setattr(serializers.tags, "utcnow", lambda: later + timedelta(days=7))
    assert {day["uses"] for day in client.get(f"{TAGS}/cats").get_json()["history"]} == {"0"}


def test_get_unused_tag_answers_zeros(client: FlaskClient, alice_h: dict) -> None:
    body = client.get(f"{TAGS}/nothinghere", headers=alice_h).get_json()
    assert body["following"] is False
    assert {day["uses"] for day in body["history"]} == {"0"}


@pytest.mark.parametrize("name", ["123", "a-b", "x" * 256, "caf%C3%A9%21", "%20"])
def test_get_tag_refuses_invalid_names(client: FlaskClient, name: str) -> None:
    response = client.get(f"{TAGS}/{name}")
    assert response.status_code == 404
    assert response.get_json() == NOT_FOUND


def test_get_tag_accepts_unicode_names(client: FlaskClient) -> None:
    assert client.get(f"{TAGS}/caf%C3%A9").get_json()["name"] == "café"


# ---------------------------------------------------------------------------------------------
# follow / unfollow


def test_follow_and_unfollow_tag(client: FlaskClient, account: Account, alice_h: dict) -> None:
    response = client.post(f"{TAGS}/Cats/follow", headers=alice_h)
    assert response.status_code == 200
    assert response.get_json()["name"] == "cats" and response.get_json()["following"] is True
    assert client.post(f"{TAGS}/cats/follow", headers=alice_h).status_code == 200  # twice is fine
    assert follows_of(account) == {"cats"}
    assert client.get(f"{TAGS}/CATS", headers=alice_h).get_json()["following"] is True
    response = client.post(f"{TAGS}/CATS/unfollow", headers=alice_h)
    assert response.status_code == 200 and response.get_json()["following"] is False
    assert follows_of(account) == set()
    assert client.post(f"{TAGS}/cats/unfollow", headers=alice_h).status_code == 200


def test_follow_tag_needs_auth_and_scope(
    client: FlaskClient, account: Account, auth_headers: Callable[..., dict]
) -> None:
    response = client.post(f"{TAGS}/cats/follow")
    assert response.status_code == 403 and response.get_json() == {"error": "Invalid credentials."}
    read_only = auth_headers(account, "read")
    assert client.post(f"{TAGS}/cats/follow", headers=read_only).status_code == 403
    assert client.post(f"{TAGS}/cats/unfollow", headers=read_only).status_code == 403
    assert (
        client.post(f"{TAGS}/cats/follow", headers=auth_headers(account, "write:follows")).status_code == 200
    )
    assert follows_of(account) == {"cats"}


def test_follow_tag_refuses_invalid_name(client: FlaskClient, account: Account, alice_h: dict) -> None:
    response = client.post(f"{TAGS}/12345/follow", headers=alice_h)
    assert response.status_code == 404 and response.get_json() == NOT_FOUND
    assert follows_of(account) == set()


# ---------------------------------------------------------------------------------------------
# GET /api/v1/followed_tags


def test_followed_tags_pages_with_link_header(client: FlaskClient, account: Account, alice_h: dict) -> None:
    for name in ("a1", "b2", "c3"):
        client.post(f"{TAGS}/{name}/follow", headers=alice_h)
    response = client.get("/api/v1/followed_tags?limit=2", headers=alice_h)
    assert response.status_code == 200
    assert [t["name"] for t in response.get_json()] == ["c3", "b2"]
    assert all(t["following"] is True and len(t["history"]) == 7 for t in response.get_json())
    older = links(response)["next"]
    response = client.get(f"/api/v1/followed_tags?limit=2&max_id={older['max_id'][0]}", headers=alice_h)
    assert [t["name"] for t in response.get_json()] == ["a1"]
    assert [t["name"] for t in client.get("/api/v1/followed_tags", headers=alice_h).get_json()] == [
        "c3",
        "b2",
        "a1",
    ]


def test_followed_tags_are_per_account(
    client: FlaskClient, account: Account, bob: Account, alice_h: dict, bob_h: dict
) -> None:
    client.post(f"{TAGS}/cats/follow", headers=bob_h)
    assert client.get("/api/v1/followed_tags", headers=alice_h).get_json() == []


def test_followed_tags_needs_auth_and_scope(
    client: FlaskClient, account: Account, auth_headers: Callable[..., dict]
) -> None:
    assert client.get("/api/v1/followed_tags").status_code == 403
    assert client.get("/api/v1/followed_tags", headers=auth_headers(account, "write")).status_code == 403
    assert (
        client.get("/api/v1/followed_tags", headers=auth_headers(account, "read:follows")).status_code == 200
    )


# ---------------------------------------------------------------------------------------------
# The home timeline


def test_followed_tag_statuses_join_home(
    client: FlaskClient, account: Account, bob: Account, alice_h: dict, make_account: Callable[..., Account]
) -> None:
    carol = make_account("carol")
    public = post(bob, "hello #Cats")
    unlisted = post(bob, "quiet #cats", visibility="unlisted")
    private = post(bob, "followers only #cats", visibility="private")
    direct = post(bob, "secret #cats", visibility="direct")
    other = post(bob, "about #dogs")
    blocked = post(carol, "from a blocked one #cats")
    db.session.add(Block(account_id=account.id, target_id=carol.id))
    db.session.commit()
    assert ids(client.get(HOME, headers=alice_h)) == []
    client.post(f"{TAGS}/cats/follow", headers=alice_h)
    home = ids(client.get(HOME, headers=alice_h))
    assert home == [unlisted.id, public.id]
    assert not {private.id, direct.id, other.id, blocked.id} & set(home)
    client.post(f"{TAGS}/cats/unfollow", headers=alice_h)
    assert ids(client.get(HOME, headers=alice_h)) == []


def test_followed_tag_in_home_is_the_followers_only(
    client: FlaskClient, account: Account, bob: Account, alice_h: dict, bob_h: dict
) -> None:
    status = post(account, "mine #cats")
    client.post(f"{TAGS}/cats/follow", headers=alice_h)
    assert ids(client.get(HOME, headers=bob_h)) == []
    assert ids(client.get(HOME, headers=alice_h)) == [status.id]


def test_home_cached_answer_gives_way_to_a_tag_follow(
    app: object, client: FlaskClient, account: Account, bob: Account, alice_h: dict
) -> None:
    app.config["READ_CACHE"] = True  # type: ignore[attr-defined]
    status = post(bob, "#cats")
    assert ids(client.get(HOME, headers=alice_h)) == []
    assert ids(client.get(HOME, headers=alice_h)) == []  # kept
    client.post(f"{TAGS}/cats/follow", headers=alice_h)
    assert ids(client.get(HOME, headers=alice_h)) == [status.id]
    client.post(f"{TAGS}/cats/unfollow", headers=alice_h)
    assert ids(client.get(HOME, headers=alice_h)) == []
