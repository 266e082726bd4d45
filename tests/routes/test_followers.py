"""The caller's followers (SPEC 26): POST /api/v1/accounts/:id/remove_from_followers and
GET /api/v1/accounts/familiar_followers."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient

from models import Account
from models import db
from services import follows
from tests.conftest import basic_headers

FAMILIAR = "/api/v1/accounts/familiar_followers"


def remove_path(follower: Account) -> str:
    return f"/api/v1/accounts/{follower.id}/remove_from_followers"


def counts(account: Account) -> tuple[int, int]:
    db.session.expire_all()
    fresh = db.session.get(Account, account.id)
    return fresh.followers_count, fresh.following_count


def test_remove_from_followers_ends_their_follow(
    client: FlaskClient, account: Account, bob: Account, alice_h: dict
) -> None:
    follows.follow(bob, account)
    follows.follow(account, bob)
    assert counts(account) == (1, 1)
    response = client.post(remove_path(bob), headers=alice_h)
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == bob.id
    assert body["followed_by"] is False and body["following"] is True  # only their follow ends
    assert counts(account) == (0, 1)
    assert counts(bob) == (1, 0)
    notes = client.get("/api/v1/notifications?types[]=follow", headers=alice_h).get_json()
    assert [n["account"]["id"] for n in notes] == []


def test_remove_from_followers_refuses_a_pending_request(
    client: FlaskClient, account: Account, bob: Account, alice_h: dict
) -> None:
    account.is_locked = True
    db.session.commit()
    follows.follow(bob, account)
    client.post(remove_path(bob), headers=alice_h)
    assert client.get("/api/v1/follow_requests", headers=alice_h).get_json() == []
    assert counts(account) == (0, 0)


def test_remove_from_followers_when_not_following_and_errors(
    client: FlaskClient, account: Account, bob: Account, alice_h: dict
) -> None:
    follows.follow(account, bob)
    response = client.post(remove_path(bob), headers=alice_h)
    assert response.status_code == 200
    assert response.get_json()["following"] is True  # the caller's own follow is untouched
    own = client.post(remove_path(account), headers=alice_h)
    assert own.status_code == 400
    assert "error" in own.get_json()
    unknown = client.post("/api/v1/accounts/nosuchaccount00000/remove_from_followers", headers=alice_h)
    assert unknown.status_code == 404
    assert unknown.get_json() == {"error": "Record not found"}
    assert counts(account) == (0, 1)


def test_remove_from_followers_auth_and_scopes(
    client: FlaskClient, account: Account, bob: Account, auth_headers: Callable[..., dict]
) -> None:
    follows.follow(bob, account)
    response = client.post(remove_path(bob))
    assert response.status_code == 403
    assert response.get_json() == {"error": "Invalid credentials."}
    assert (
        client.post(remove_path(bob), headers=auth_headers(account, "read write:accounts")).status_code == 403
    )
    assert counts(account) == (1, 0)
    assert client.post(remove_path(bob), headers=auth_headers(account, "write:follows")).status_code == 200
    follows.follow(bob, account)
    assert client.post(remove_path(bob), headers=auth_headers(account, "follow")).status_code == 200
    follows.follow(bob, account)
    assert client.post(remove_path(bob), headers=basic_headers("alice")).status_code == 200
    assert counts(account) == (0, 0)


def _network(make_account: Callable[..., Account], account: Account) -> dict[str, Account]:
    people = {name: make_account(name) for name in ("bob", "carol", "dave", "erin", "target", "other")}
    for name in ("bob", "carol", "dave"):
        follows.follow(account, people[name])
    for name in ("bob", "carol", "erin"):  # erin follows the target, but alice does not follow erin
        follows.follow(people[name], people["target"])
    follows.follow(people["dave"], people["other"])
    return people


def test_familiar_followers_lists_followed_followers_per_account(
    client: FlaskClient, account: Account, make_account: Callable[..., Account], alice_h: dict
) -> None:
    people = _network(make_account, account)
    target, other = people["target"], people["other"]
    response = client.get(
        f"{FAMILIAR}?id[]={target.id}&id[]={other.id}&id[]=nosuchaccount00000", headers=alice_h
    )
    assert response.status_code == 200
    body = response.get_json()
    assert [entry["id"] for entry in body] == [target.id, other.id]
    assert sorted(a["acct"] for a in body[0]["accounts"]) == ["bob", "carol"]
    assert [a["acct"] for a in body[1]["accounts"]] == ["dave"]
    single = client.get(f"{FAMILIAR}?id={other.id}", headers=alice_h).get_json()
    assert [a["acct"] for a in single[0]["accounts"]] == ["dave"]
    assert client.get(FAMILIAR, headers=alice_h).get_json() == []


def test_familiar_followers_leave_out_hidden_follows(
    client: FlaskClient, account: Account, make_account: Callable[..., Account], alice_h: dict
) -> None:
    people = _network(make_account, account)
    people["bob"].hide_follows = True
    db.session.commit()
    body = client.get(f"{FAMILIAR}?id[]={people['target'].id}", headers=alice_h).get_json()
    assert [a["acct"] for a in body[0]["accounts"]] == ["carol"]


def test_familiar_followers_constant_queries(
    client: FlaskClient,
    account: Account,
    make_account: Callable[..., Account],
    alice_h: dict,
    count_queries: Callable,
) -> None:
    people = _network(make_account, account)
    ids = [people[name].id for name in ("target", "other", "bob", "carol", "erin")]
    with count_queries() as one:
        client.get(f"{FAMILIAR}?id[]={ids[0]}", headers=alice_h)
    with count_queries() as five:
        body = client.get(FAMILIAR + "?" + "&".join(f"id[]={i}" for i in ids), headers=alice_h).get_json()
    assert len(body) == 5
    assert five.count <= one.count


def test_familiar_followers_bad_input_and_auth(
    client: FlaskClient, account: Account, bob: Account, auth_headers: Callable[..., dict]
) -> None:
    too_many = "&".join(f"id[]=id{i}" for i in range(41))
    response = client.get(f"{FAMILIAR}?{too_many}", headers=auth_headers(account))
    assert response.status_code == 422
    assert "error" in response.get_json()
    anonymous = client.get(f"{FAMILIAR}?id[]={bob.id}")
    assert anonymous.status_code == 403
    assert anonymous.get_json() == {"error": "Invalid credentials."}
    assert (
        client.get(f"{FAMILIAR}?id[]={bob.id}", headers=auth_headers(account, "read:accounts")).status_code
        == 403
    )
    assert (
        client.get(f"{FAMILIAR}?id[]={bob.id}", headers=auth_headers(account, "read:follows")).status_code
        == 200
    )


def test_familiar_followers_ids_in_a_json_body(
    client: FlaskClient, account: Account, make_account: Callable[..., Account], alice_h: dict
) -> None:
    # Mastodon.py sends the ids as a JSON body on this GET.
    people = _network(make_account, account)
    body = client.get(FAMILIAR, json={"id": [people["other"].id]}, headers=alice_h).get_json()
    assert [a["acct"] for a in body[0]["accounts"]] == ["dave"]
