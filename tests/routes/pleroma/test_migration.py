"""GET/PUT/DELETE /api/pleroma/aliases and POST /api/pleroma/move_account (SPEC 11, 21.8)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import Account
from models import Follow
from models import db
from tests.conftest import BASE_URL
from tests.conftest import basic_headers

PREFIXES = ("/api/pleroma", "/api/v1/pleroma")
NOT_ALIASED = {"error": "Target account must have the origin in `alsoKnownAs`"}


@pytest.fixture
def bob(make_account):
    return make_account("bob")


def _followees(account):
    db.session.expire_all()
    query = (
        select(Account.nickname)
        .join(Follow, Follow.followee_id == Account.id)
        .where(Follow.follower_id == account.id, Follow.is_pending.is_(False))
    )
    return sorted(db.session.scalars(query))


# ---------------------------------------------------------------------------------------------
# aliases


@pytest.mark.parametrize("prefix", PREFIXES)
def test_aliases_add_list_and_remove(client, account, bob, make_account, auth_headers, prefix):
    make_account("carol")
    headers = auth_headers(account)
    assert client.get(f"{prefix}/aliases", headers=headers).get_json() == {"aliases": []}
    added = client.put(f"{prefix}/aliases", json={"alias": "bob"}, headers=headers)
    assert added.status_code == 200 and added.get_json() == {"status": "success"}
    client.put(f"{prefix}/aliases", data={"alias": "@carol@127.0.0.1:5000"}, headers=headers)
    client.put(f"{prefix}/aliases", data={"alias": "bob"}, headers=headers)  # no duplicate
    listed = client.get(f"{prefix}/aliases", headers=headers)
    assert listed.status_code == 200
    # Full nicknames: the host of the ap_id without its port (Pleroma's full_nickname).
    assert listed.get_json() == {"aliases": ["bob@127.0.0.1", "carol@127.0.0.1"]}
    me = client.get("/api/v1/accounts/verify_credentials", headers=headers).get_json()
    assert me["pleroma"]["also_known_as"] == [f"{BASE_URL}/users/bob", f"{BASE_URL}/users/carol"]
    removed = client.delete(f"{prefix}/aliases?alias=bob", headers=headers)
    assert removed.status_code == 200 and removed.get_json() == {"status": "success"}
    assert client.get(f"{prefix}/aliases", headers=headers).get_json() == {"aliases": ["carol@127.0.0.1"]}


def test_aliases_skip_unknown_ap_ids(client, account, bob, auth_headers):
    account.also_known_as = ["https://gone.example/users/x", bob.ap_id]
    db.session.commit()
    assert client.get("/api/pleroma/aliases", headers=auth_headers(account)).get_json() == {
        "aliases": ["bob@127.0.0.1"]
    }


def test_put_alias_of_unknown_account_is_404(client, account, auth_headers):
    response = client.put("/api/pleroma/aliases", json={"alias": "nobody"}, headers=auth_headers(account))
    assert response.status_code == 404
    assert response.get_json() == {"error": "Target account does not exist."}


def test_delete_alias_not_present_is_404(client, account, bob, auth_headers):
    headers = auth_headers(account)
    for alias in ("bob", "nobody", "nobody@elsewhere.example"):
        response = client.delete("/api/pleroma/aliases", json={"alias": alias}, headers=headers)
        assert response.status_code == 404
        assert response.get_json() == {"error": "Account has no such alias."}


@pytest.mark.parametrize("method", ["put", "delete"])
def test_alias_is_required(client, account, auth_headers, method):
    response = getattr(client, method)("/api/v1/pleroma/aliases", headers=auth_headers(account))
    assert response.status_code == 400
    assert response.get_json() == {"error": "Missing field: alias."}


def test_aliases_need_a_user_and_the_scopes(client, account, auth_headers):
    assert client.get("/api/pleroma/aliases").get_json() == {"error": "Invalid credentials."}
    reader = auth_headers(account, "read:accounts")
    assert client.get("/api/pleroma/aliases", headers=reader).status_code == 200
    for method in ("put", "delete"):
        response = getattr(client, method)("/api/pleroma/aliases", json={"alias": "bob"}, headers=reader)
        assert response.status_code == 403
        assert response.get_json() == {"error": "Insufficient permissions: write:accounts."}
    writer = auth_headers(account, "write:accounts")
    response = client.get("/api/pleroma/aliases", headers=writer)
    assert response.status_code == 403
    assert response.get_json() == {"error": "Insufficient permissions: read:accounts."}


# ---------------------------------------------------------------------------------------------
# move_account


@pytest.fixture
def followers(make_account, account, client, auth_headers):
    """carol (allows moves, the default) and dave (does not) follow alice."""
    carol, dave = make_account("carol"), make_account("dave")
    dave.allow_following_move = False
    db.session.commit()
    for follower in (carol, dave):
        client.post(f"/api/v1/accounts/{account.id}/follow", headers=auth_headers(follower))
    return carol, dave


def _alias_back(client, target, auth_headers, origin="alice"):
    response = client.put("/api/pleroma/aliases", json={"alias": origin}, headers=auth_headers(target))
    assert response.status_code == 200


@pytest.mark.parametrize("prefix", PREFIXES)
def test_move_account_moves_followers_who_allow_it(client, account, bob, followers, auth_headers, prefix):
    carol, dave = followers
    _alias_back(client, bob, auth_headers)
    response = client.post(
        f"{prefix}/move_account",
        data={"password": "secret-pw", "target_account": "@bob"},
        headers=auth_headers(account),
    )
    assert response.status_code == 200
    assert response.get_json() == {"status": "success"}
    assert _followees(carol) == ["bob"]
    assert _followees(dave) == ["alice"]
    db.session.expire_all()
    assert db.session.get(Account, account.id).followers_count == 1
    assert db.session.get(Account, bob.id).followers_count == 1
    moved = client.get(f"/api/v1/accounts/{account.id}").get_json()
    assert moved["moved"]["id"] == bob.id and moved["moved"]["acct"] == "bob"
    for follower in (carol, dave):
        notes = client.get("/api/v1/notifications?types[]=move", headers=auth_headers(follower)).get_json()
        assert [(n["type"], n["account"]["id"], n["target"]["id"]) for n in notes] == [
            ("move", account.id, bob.id)
        ]
        assert "status" not in notes[0]


def test_move_account_wrong_password_is_200(client, account, bob, auth_headers):
    _alias_back(client, bob, auth_headers)
    response = client.post(
        "/api/pleroma/move_account",
        data={"password": "nope", "target_account": "bob"},
        headers=auth_headers(account),
    )
    assert response.status_code == 200
    assert response.get_json() == {"error": "Invalid password."}
    db.session.expire_all()
    assert db.session.get(Account, account.id).moved_to_id is None


def test_move_account_unknown_target_is_404(client, account, auth_headers):
    for target in ("nobody", "nobody@127.0.0.1:1", ""):
        response = client.post(
            "/api/pleroma/move_account",
            json={"password": "secret-pw", "target_account": target},
            headers=auth_headers(account),
        )
        assert response.status_code == 404
        assert response.get_json() == {"error": "Target account not found."}


def test_move_account_target_must_alias_the_origin(client, account, bob, auth_headers):
    # alice aliasing bob is not enough: the target's aliases count (SPEC 11).
    client.put("/api/pleroma/aliases", json={"alias": "bob"}, headers=auth_headers(account))
    response = client.post(
        "/api/pleroma/move_account",
        data={"password": "secret-pw", "target_account": "bob"},
        headers=auth_headers(account),
    )
    assert response.status_code == 200
    assert response.get_json() == NOT_ALIASED


def test_move_account_to_oneself_is_refused(client, account, auth_headers):
    client.put("/api/pleroma/aliases", json={"alias": "alice"}, headers=auth_headers(account))
    response = client.post(
        "/api/pleroma/move_account",
        data={"password": "secret-pw", "target_account": "alice"},
        headers=basic_headers("alice"),
    )
    assert response.status_code == 200
    assert response.get_json() == NOT_ALIASED


def test_move_account_params_and_scope(client, account, auth_headers):
    headers = auth_headers(account)
    missing = client.post("/api/pleroma/move_account", data={"password": "secret-pw"}, headers=headers)
    assert missing.status_code == 400
    assert missing.get_json() == {"error": "Missing field: target_account."}
    no_password = client.post("/api/pleroma/move_account", data={"target_account": "bob"}, headers=headers)
    assert no_password.get_json() == {"error": "Missing field: password."}
    scoped = client.post(
        "/api/pleroma/move_account",
        data={"password": "secret-pw", "target_account": "bob"},
        headers=auth_headers(account, "read write:follows"),
    )
    assert scoped.status_code == 403
    assert scoped.get_json() == {"error": "Insufficient permissions: write:accounts."}
    anonymous = client.post(
        "/api/pleroma/move_account", data={"password": "secret-pw", "target_account": "bob"}
    )
    assert anonymous.get_json() == {"error": "Invalid credentials."}


def test_moving_back_and_forth_renders_one_level(client, account, bob, auth_headers):
    _alias_back(client, bob, auth_headers)
    _alias_back(client, account, auth_headers, origin="bob")
    for who, target in ((account, "bob"), (bob, "alice")):
        response = client.post(
            "/api/pleroma/move_account",
            data={"password": "secret-pw", "target_account": target},
            headers=auth_headers(who),
        )
        assert response.get_json() == {"status": "success"}
    shown = client.get(f"/api/v1/accounts/{account.id}").get_json()
    assert shown["moved"]["id"] == bob.id and shown["moved"]["moved"] is None
