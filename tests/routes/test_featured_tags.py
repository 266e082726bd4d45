"""Featured tags (SPEC 26): the caller's featured hashtags, their counts, the limit of ten,
suggestions, and an account's featured tags for anyone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask.testing import FlaskClient

from models import Account
from models import FeaturedTag
from models import db
from models import utcnow
from tests.routes.test_timelines import post

FEATURED = "/api/v1/featured_tags"
NOT_FOUND = {"error": "Record not found"}


def featured_names(account: Account) -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(FeaturedTag.of_account(account.id).with_only_columns(FeaturedTag.name)))


def test_create_featured_tag_with_counts(client: FlaskClient, account: Account, alice_h: dict) -> None:
    first = post(account, "#Cats one")
    first.created_at = utcnow() - timedelta(days=3)
    db.session.commit()
    latest = post(account, "#cats two")
    post(account, "#cats hidden", visibility="direct")
    response = client.post(FEATURED, data={"name": "#Cats"}, headers=alice_h)
    assert response.status_code == 200
    body = response.get_json()
    assert body["name"] == "cats"
    assert body["statuses_count"] == 2
    assert body["last_status_at"][:19] == latest.created_at.isoformat()[:19]
    assert body["url"].endswith("/@alice/tagged/cats")
    again = client.post(FEATURED, json={"name": "cats"}, headers=alice_h)  # already featured
    assert again.status_code == 200 and again.get_json()["id"] == body["id"]
    empty = client.post(FEATURED, json={"name": "dogs"}, headers=alice_h).get_json()
    assert empty["statuses_count"] == 0 and empty["last_status_at"] is None
    listed = client.get(FEATURED, headers=alice_h).get_json()
    assert [t["name"] for t in listed] == ["cats", "dogs"]


@pytest.mark.parametrize("payload", [{}, {"name": ""}, {"name": "123"}, {"name": "a b"}, {"name": "x" * 301}])
def test_create_featured_tag_refuses_bad_names(
    client: FlaskClient, account: Account, alice_h: dict, payload: dict
) -> None:
    response = client.post(FEATURED, json=payload, headers=alice_h)
    assert response.status_code == 422
    assert "error" in response.get_json()
    assert featured_names(account) == []


def test_create_featured_tag_stops_at_ten(client: FlaskClient, account: Account, alice_h: dict) -> None:
    for n in range(10):
        assert client.post(FEATURED, json={"name": f"tag{n}"}, headers=alice_h).status_code == 200
    response = client.post(FEATURED, json={"name": "eleventh"}, headers=alice_h)
    assert response.status_code == 422 and "10" in response.get_json()["error"]
    assert len(featured_names(account)) == 10


def test_delete_featured_tag(client: FlaskClient, account: Account, bob: Account, alice_h: dict) -> None:
    mine = client.post(FEATURED, json={"name": "cats"}, headers=alice_h).get_json()
    theirs = FeaturedTag(account_id=bob.id, name="dogs")
    db.session.add(theirs)
    db.session.commit()
    response = client.delete(f"{FEATURED}/{theirs.id}", headers=alice_h)
    assert response.status_code == 404 and response.get_json() == NOT_FOUND
    assert featured_names(bob) == ["dogs"]
    assert client.delete(f"{FEATURED}/nope", headers=alice_h).status_code == 404
    response = client.delete(f"{FEATURED}/{mine['id']}", headers=alice_h)
    assert response.status_code == 200 and response.get_json() == {}
    assert featured_names(account) == []


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("get", FEATURED, "read:accounts"),
        ("post", FEATURED, "write:accounts"),
        ("delete", FEATURED + "/x", "write:accounts"),
        ("get", FEATURED + "/suggestions", "read:accounts"),
    ],
)
def test_featured_tags_need_auth_and_scope(
    client: FlaskClient,
    account: Account,
    auth_headers: Callable[..., dict],
    method: str,
    path: str,
    scope: str,
) -> None:
    response = getattr(client, method)(path, json={"name": "cats"})
    assert response.status_code == 403 and response.get_json() == {"error": "Invalid credentials."}
    wrong = "write:statuses" if scope.startswith("read") else "read"
    assert (
        getattr(client, method)(path, json={"name": "cats"}, headers=auth_headers(account, wrong)).status_code
        == 403
    )
    assert featured_names(account) == []


def test_featured_tag_suggestions(client: FlaskClient, account: Account, bob: Account, alice_h: dict) -> None:
    post(account, "#cats #dogs")
    post(account, "#cats")
    post(account, "#secret", visibility="direct")
    post(bob, "#birds #birds2")
    client.post(FEATURED, json={"name": "dogs"}, headers=alice_h)
    response = client.get(f"{FEATURED}/suggestions", headers=alice_h)
    assert response.status_code == 200
    assert [t["name"] for t in response.get_json()] == ["cats"]
    assert len(response.get_json()[0]["history"]) == 7


def test_account_featured_tags_are_public(client: FlaskClient, account: Account, alice_h: dict) -> None:
    post(account, "#cats")
    client.post(FEATURED, json={"name": "cats"}, headers=alice_h)
    response = client.get(f"/api/v1/accounts/{account.id}/featured_tags")
    assert response.status_code == 200
    assert [(t["name"], t["statuses_count"]) for t in response.get_json()] == [("cats", 1)]


def test_account_featured_tags_of_missing_account(client: FlaskClient, account: Account) -> None:
    response = client.get("/api/v1/accounts/nobody/featured_tags")
    assert response.status_code == 404 and response.get_json() == NOT_FOUND
    account.is_active = False
    db.session.commit()
    assert client.get(f"/api/v1/accounts/{account.id}/featured_tags").status_code == 404
