"""The profile directory and follow suggestions (SPEC 26): discoverable local accounts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask.testing import FlaskClient

from models import Account
from models import Block
from models import Follow
from models import Mute
from models import SuggestionDismissal
from models import db
from models import utcnow

DIRECTORY = "/api/v1/directory"
SUGGESTIONS = "/api/v2/suggestions"


def listed(account: Account, posted_days_ago: int | None = None, **kwargs: object) -> Account:
    account.is_discoverable = True
    if posted_days_ago is not None:
        account.last_status_at = utcnow() - timedelta(days=posted_days_ago)
    for key, value in kwargs.items():
        setattr(account, key, value)
    db.session.commit()
    return account


@pytest.fixture
def people(make_account: Callable[..., Account], account: Account) -> dict[str, Account]:
    return {
        "alice": account,
        "bob": listed(make_account("bob"), posted_days_ago=5, followers_count=3),
        "carol": listed(make_account("carol"), posted_days_ago=1, followers_count=7),
        "dave": listed(make_account("dave"), is_moderator=True),
        "erin": make_account("erin"),  # not discoverable
    }


def nicks(response: object) -> list[str]:
    return [a["username"] for a in response.get_json()]  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------------
# GET /api/v1/directory


def test_directory_orders_by_activity_by_default(client: FlaskClient, people: dict) -> None:
    response = client.get(DIRECTORY)
    assert response.status_code == 200
    assert nicks(response) == ["carol", "bob", "dave"]


def test_directory_new_and_paging(client: FlaskClient, people: dict) -> None:
    assert nicks(client.get(f"{DIRECTORY}?order=new&local=true")) == ["dave", "carol", "bob"]
    assert nicks(client.get(f"{DIRECTORY}?order=new&offset=1&limit=1")) == ["carol"]
    assert nicks(client.get(f"{DIRECTORY}?offset=10")) == []


@pytest.mark.parametrize("query", ["order=popular", "offset=-1", "offset=abc", "limit=x"])
def test_directory_refuses_bad_input(client: FlaskClient, people: dict, query: str) -> None:
    response = client.get(f"{DIRECTORY}?{query}")
    assert response.status_code in (400, 422)
    assert "error" in response.get_json()


def test_directory_leaves_out_inactive_and_hidden(client: FlaskClient, people: dict, alice_h: dict) -> None:
    people["bob"].is_active = False
    db.session.add(Block(account_id=people["carol"].id, target_id=people["alice"].id))
    db.session.commit()
    assert nicks(client.get(DIRECTORY)) == ["carol", "dave"]
    assert nicks(client.get(DIRECTORY, headers=alice_h)) == ["dave"]


# ---------------------------------------------------------------------------------------------
# GET /api/v2/suggestions, DELETE /api/v1/suggestions/:id


def test_suggestions_staff_first_then_most_followed(client: FlaskClient, people: dict, alice_h: dict) -> None:
    response = client.get(SUGGESTIONS, headers=alice_h)
    assert response.status_code == 200
    body = response.get_json()
    assert [(s["source"], s["account"]["username"]) for s in body] == [
        ("staff", "dave"),
        ("global", "carol"),
        ("global", "bob"),
    ]
    assert body[0]["sources"] == ["featured"]
    assert nicks_of(client.get(f"{SUGGESTIONS}?limit=1", headers=alice_h)) == ["dave"]


def nicks_of(response: object) -> list[str]:
    return [s["account"]["username"] for s in response.get_json()]  # type: ignore[attr-defined]


def test_suggestions_leave_out_followed_blocked_muted_and_self(
    client: FlaskClient, people: dict, auth_headers: Callable[..., dict]
) -> None:
    alice, bob, carol, dave = (people[n] for n in ("alice", "bob", "carol", "dave"))
    listed(alice)
    db.session.add(Follow(follower_id=alice.id, followee_id=bob.id, is_pending=True))
    db.session.add(Mute(account_id=alice.id, target_id=carol.id))
    db.session.add(Block(account_id=dave.id, target_id=alice.id))
    db.session.commit()
    assert nicks_of(client.get(SUGGESTIONS, headers=auth_headers(alice))) == []
    assert nicks_of(client.get(SUGGESTIONS, headers=auth_headers(bob))) == ["dave", "carol", "alice"]


def test_delete_suggestion_is_remembered(
    client: FlaskClient, people: dict, alice_h: dict, auth_headers: Callable[..., dict]
) -> None:
    response = client.delete(f"/api/v1/suggestions/{people['carol'].id}", headers=alice_h)
    assert response.status_code == 200 and response.get_json() == {}
    assert client.delete(f"/api/v1/suggestions/{people['carol'].id}", headers=alice_h).status_code == 200
    assert nicks_of(client.get(SUGGESTIONS, headers=alice_h)) == ["dave", "bob"]
    assert "carol" in nicks_of(client.get(SUGGESTIONS, headers=auth_headers(people["bob"])))  # per account


def test_delete_suggestion_of_unknown_id_changes_nothing(
    client: FlaskClient, people: dict, alice_h: dict
) -> None:
    response = client.delete("/api/v1/suggestions/nobody", headers=alice_h)
    assert response.status_code == 200 and response.get_json() == {}
    assert db.session.scalar(db.select(db.func.count()).select_from(SuggestionDismissal)) == 0


def test_suggestions_need_auth_and_scope(
    client: FlaskClient, people: dict, auth_headers: Callable[..., dict]
) -> None:
    carol = people["carol"].id
    assert client.get(SUGGESTIONS).get_json() == {"error": "Invalid credentials."}
    assert client.delete(f"/api/v1/suggestions/{carol}").status_code == 403
    write_only = auth_headers(people["alice"], "write")
    assert client.get(SUGGESTIONS, headers=write_only).status_code == 403
    assert client.delete(f"/api/v1/suggestions/{carol}", headers=write_only).status_code == 403
    assert db.session.scalar(db.select(db.func.count()).select_from(SuggestionDismissal)) == 0
