"""Mastodon lists (SPEC 26): the lists, their members, an account's lists, the list timeline and
exclusive lists leaving the home timeline."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from models import Account
from models import Follow
from models import List
from models import ListAccount
from models import db
from services.follows import unfollow
from tests.routes.test_timelines import ids
from tests.routes.test_timelines import links
from tests.routes.test_timelines import post

LISTS = "/api/v1/lists"
NOT_FOUND = {"error": "Record not found"}


def follow(follower: Account, followee: Account) -> None:
    db.session.add(Follow(follower_id=follower.id, followee_id=followee.id))
    db.session.commit()


def make_list(
    owner: Account, title: str = "friends", members: tuple[Account, ...] = (), **kwargs: object
) -> List:
    user_list = List(account_id=owner.id, title=title, **kwargs)
    db.session.add(user_list)
    db.session.flush()
    db.session.add_all(ListAccount(list_id=user_list.id, account_id=m.id) for m in members)
    db.session.commit()
    return user_list


def member_ids(list_id: str) -> set[str]:
    db.session.expire_all()
    return set(db.session.scalars(db.select(ListAccount.account_id).where(ListAccount.list_id == list_id)))


@pytest.fixture
def own(account: Account, bob: Account) -> List:
    follow(account, bob)
    return make_list(account, members=(bob,))


@pytest.fixture
def theirs(bob: Account) -> List:
    return make_list(bob, title="bob's")


# ---------------------------------------------------------------------------------------------
# The lists


def test_create_list_from_form_and_json(client: FlaskClient, alice_h: dict) -> None:
    response = client.post(LISTS, data={"title": "Friends"}, headers=alice_h)
    assert response.status_code == 200
    body = response.get_json()
    assert body == {"id": body["id"], "title": "Friends", "replies_policy": "list", "exclusive": False}
    response = client.post(
        LISTS, json={"title": "Work", "replies_policy": "none", "exclusive": True}, headers=alice_h
    )
    assert response.get_json()["replies_policy"] == "none" and response.get_json()["exclusive"] is True
    listed = client.get(LISTS, headers=alice_h).get_json()
    assert [item["title"] for item in listed] == ["Friends", "Work"]


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({}, 422),
        ({"title": "   "}, 422),
        ({"title": "x" * 256}, 422),
        ({"title": "ok", "replies_policy": "everyone"}, 400),
    ],
)
def test_create_list_refuses_bad_input(
    client: FlaskClient, alice_h: dict, payload: dict, status: int
) -> None:
    response = client.post(LISTS, json=payload, headers=alice_h)
    assert response.status_code == status
    assert "error" in response.get_json()
    assert client.get(LISTS, headers=alice_h).get_json() == []


def test_blank_title_says_so(client: FlaskClient, alice_h: dict) -> None:
    response = client.post(LISTS, data={"title": ""}, headers=alice_h)
    assert response.get_json() == {"error": "Validation failed: Title can't be blank"}


@pytest.mark.parametrize(
    ("method", "path", "read"),
    [
        ("get", LISTS, True),
        ("post", LISTS, False),
        ("get", LISTS + "/{id}", True),
        ("put", LISTS + "/{id}", False),
        ("delete", LISTS + "/{id}", False),
        ("get", LISTS + "/{id}/accounts", True),
        ("post", LISTS + "/{id}/accounts", False),
        ("delete", LISTS + "/{id}/accounts", False),
        ("get", "/api/v1/accounts/{bob}/lists", True),
        ("get", "/api/v1/timelines/list/{id}", True),
    ],
)
def test_auth_and_scopes(
    client: FlaskClient,
    auth_headers: Callable[..., dict],
    account: Account,
    bob: Account,
    own: List,
    method: str,
    path: str,
    read: bool,
) -> None:
    url = path.format(id=own.id, bob=bob.id)
    payload = {"title": "renamed", "account_ids": [bob.id]}
    anonymous = getattr(client, method)(url, json=payload)
    # Kenoma answers a missing user with Pleroma's 403 (SPEC 1.1), not Mastodon's 401.
    assert anonymous.status_code == 403
    assert anonymous.get_json() == {"error": "Invalid credentials."}
    wrong = auth_headers(account, "write:lists" if read else "read:lists")
    refused = getattr(client, method)(url, json=payload, headers=wrong)
    assert refused.status_code == 403
    assert refused.get_json()["error"].startswith("Insufficient permissions")
    if method == "post" and path.endswith("/accounts"):
        db.session.execute(db.delete(ListAccount))  # so adding bob can succeed
        db.session.commit()
    right = auth_headers(account, "read:lists" if read else "write:lists")
    assert getattr(client, method)(url, json=payload, headers=right).status_code == 200


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("get", ""),
        ("put", ""),
        ("delete", ""),
        ("get", "/accounts"),
        ("post", "/accounts"),
        ("delete", "/accounts"),
    ],
)
def test_another_users_list_is_not_found(
    client: FlaskClient, alice_h: dict, account: Account, bob: Account, theirs: List, method: str, suffix: str
) -> None:
    follow(account, bob)
    payload = {"title": "mine now", "account_ids": [bob.id]}
    for list_id in (theirs.id, "nosuchlist"):
        response = getattr(client, method)(f"{LISTS}/{list_id}{suffix}", json=payload, headers=alice_h)
        assert response.status_code == 404
        assert response.get_json() == NOT_FOUND
    db.session.expire_all()
    assert db.session.get(List, theirs.id).title == "bob's"
    assert member_ids(theirs.id) == set()


def test_other_users_lists_are_not_listed(
    client: FlaskClient, alice_h: dict, own: List, theirs: List
) -> None:
    assert [item["id"] for item in client.get(LISTS, headers=alice_h).get_json()] == [own.id]
    assert client.get(f"{LISTS}/{own.id}", headers=alice_h).get_json()["title"] == "friends"
    timeline = client.get(f"/api/v1/timelines/list/{theirs.id}", headers=alice_h)
    assert timeline.status_code == 404 and timeline.get_json() == NOT_FOUND


def test_update_list(client: FlaskClient, alice_h: dict, own: List) -> None:
    response = client.put(f"{LISTS}/{own.id}", data={"replies_policy": "followed"}, headers=alice_h)
    assert response.get_json()["title"] == "friends"
    assert response.get_json()["replies_policy"] == "followed"
    response = client.put(f"{LISTS}/{own.id}", json={"title": "pals", "exclusive": "true"}, headers=alice_h)
    assert response.get_json() == {
        "id": own.id,
        "title": "pals",
        "replies_policy": "followed",
        "exclusive": True,
    }


@pytest.mark.parametrize(
    ("payload", "status"),
    [({"title": ""}, 422), ({"title": "y" * 300}, 422), ({"replies_policy": "all"}, 400)],
)
def test_update_list_refuses_bad_input(
    client: FlaskClient, alice_h: dict, own: List, payload: dict, status: int
) -> None:
    response = client.put(f"{LISTS}/{own.id}", json=payload, headers=alice_h)
    assert response.status_code == status and "error" in response.get_json()
    db.session.expire_all()
    assert (own.title, own.replies_policy) == ("friends", "list")


def test_delete_list(client: FlaskClient, alice_h: dict, own: List, account: Account, bob: Account) -> None:
    response = client.delete(f"{LISTS}/{own.id}", headers=alice_h)
    assert response.status_code == 200 and response.get_json() == {}
    assert client.get(LISTS, headers=alice_h).get_json() == []
    assert member_ids(own.id) == set()
    # The members stay followed.
    assert db.session.scalar(db.select(Follow).where(Follow.follower_id == account.id)) is not None
    assert client.get(f"{LISTS}/{own.id}", headers=alice_h).status_code == 404


# ---------------------------------------------------------------------------------------------
# Members


def test_add_accounts_form_and_json(
    client: FlaskClient, alice_h: dict, account: Account, bob: Account, carol: Account
) -> None:
    follow(account, bob)
    follow(account, carol)
    user_list = make_list(account)
    response = client.post(
        f"{LISTS}/{user_list.id}/accounts", data={"account_ids[]": [bob.id]}, headers=alice_h
    )
    assert response.status_code == 200 and response.get_json() == {}
    response = client.post(
        f"{LISTS}/{user_list.id}/accounts", json={"account_ids": [carol.id]}, headers=alice_h
    )
    assert response.status_code == 200
    assert member_ids(user_list.id) == {bob.id, carol.id}
    members = client.get(f"{LISTS}/{user_list.id}/accounts", headers=alice_h)
    assert [a["id"] for a in members.get_json()] == [carol.id, bob.id]  # newest member first
    assert "Link" in members.headers


def test_only_followed_accounts_can_be_added(
    client: FlaskClient, alice_h: dict, account: Account, bob: Account, carol: Account
) -> None:
    follow(account, bob)
    user_list = make_list(account)
    db.session.add(Follow(follower_id=account.id, followee_id=carol.id, is_pending=True))
    db.session.commit()
    for ids_ in ([carol.id], [bob.id, carol.id], ["nosuchaccount"]):
        response = client.post(
            f"{LISTS}/{user_list.id}/accounts", json={"account_ids": ids_}, headers=alice_h
        )
        assert response.status_code == 404 and response.get_json() == NOT_FOUND
    assert member_ids(user_list.id) == set()  # all or nothing


def test_adding_a_member_twice_is_refused(
    client: FlaskClient, alice_h: dict, own: List, bob: Account
) -> None:
    response = client.post(f"{LISTS}/{own.id}/accounts", json={"account_ids": [bob.id]}, headers=alice_h)
    assert response.status_code == 422
    assert response.get_json() == {"error": "Validation failed: Account has already been taken"}


@pytest.mark.parametrize("payload", [{}, {"account_ids": []}, {"account_ids": "x" * 40}])
def test_members_bad_input(
    client: FlaskClient, alice_h: dict, own: List, bob: Account, payload: dict
) -> None:
    for method in ("post", "delete"):
        response = getattr(client, method)(f"{LISTS}/{own.id}/accounts", json=payload, headers=alice_h)
        assert response.status_code in (400, 422) and "error" in response.get_json()
    assert member_ids(own.id) == {bob.id}


def test_remove_accounts_with_a_json_body(
    client: FlaskClient, alice_h: dict, own: List, bob: Account
) -> None:
    # masto.js, megalodon and toot send DELETE with a JSON body.
    response = client.delete(f"{LISTS}/{own.id}/accounts", json={"account_ids": [bob.id]}, headers=alice_h)
    assert response.status_code == 200 and response.get_json() == {}
    assert member_ids(own.id) == set()
    again = client.delete(f"{LISTS}/{own.id}/accounts", data={"account_ids[]": bob.id}, headers=alice_h)
    assert again.status_code == 200  # not a member any more: still fine


def test_remove_accounts_with_a_query_string(
    client: FlaskClient, alice_h: dict, own: List, bob: Account
) -> None:
    response = client.delete(f"{LISTS}/{own.id}/accounts?account_ids[]={bob.id}", headers=alice_h)
    assert response.status_code == 200 and member_ids(own.id) == set()


def test_members_paging(client: FlaskClient, alice_h: dict, account: Account, make_account: Callable) -> None:
    people = [make_account(f"member{i}") for i in range(5)]
    for person in people:
        follow(account, person)
    user_list = make_list(account, members=tuple(people))
    first = client.get(f"{LISTS}/{user_list.id}/accounts?limit=2", headers=alice_h)
    assert len(first.get_json()) == 2
    older = links(first)["next"]["max_id"][0]
    second = client.get(f"{LISTS}/{user_list.id}/accounts?limit=2&max_id={older}", headers=alice_h)
    seen = [a["id"] for a in first.get_json() + second.get_json()]
    assert len(set(seen)) == 4
    everyone = client.get(f"{LISTS}/{user_list.id}/accounts?limit=0", headers=alice_h)
    assert {a["id"] for a in everyone.get_json()} == {p.id for p in people}


def test_unfollowing_leaves_the_lists(account: Account, bob: Account, own: List) -> None:
    unfollow(account, bob)
    assert member_ids(own.id) == set()


def test_account_lists(
    client: FlaskClient,
    alice_h: dict,
    account: Account,
    bob: Account,
    carol: Account,
    own: List,
    theirs: List,
) -> None:
    make_list(account, title="empty")
    response = client.get(f"/api/v1/accounts/{bob.id}/lists", headers=alice_h)
    assert [item["id"] for item in response.get_json()] == [own.id]
    assert client.get(f"/api/v1/accounts/{carol.id}/lists", headers=alice_h).get_json() == []
    missing = client.get("/api/v1/accounts/nosuchaccount/lists", headers=alice_h)
    assert missing.status_code == 404 and missing.get_json() == NOT_FOUND


# ---------------------------------------------------------------------------------------------
# The list timeline


def test_list_timeline_pages(
    client: FlaskClient, alice_h: dict, account: Account, bob: Account, carol: Account, own: List
) -> None:
    follow(account, carol)
    posts = [post(bob, f"bob {i}").id for i in range(5)]
    post(carol, "not in the list")
    post(account, "nor the owner")
    url = f"/api/v1/timelines/list/{own.id}"
    first = client.get(url + "?limit=2", headers=alice_h)
    assert first.status_code == 200
    assert ids(first) == posts[::-1][:2]
    nav = links(first)
    assert nav["next"]["path"] == [url]
    second = client.get(f"{url}?limit=2&max_id={nav['next']['max_id'][0]}", headers=alice_h)
    assert ids(second) == posts[::-1][2:4]
    newer = client.get(f"{url}?min_id={posts[2]}", headers=alice_h)
    assert ids(newer) == [posts[4], posts[3]]
    assert ids(client.get(url, headers=alice_h)) == posts[::-1]


def test_list_timeline_shows_only_what_the_owner_may_see(
    client: FlaskClient, alice_h: dict, account: Account, bob: Account, carol: Account, own: List
) -> None:
    follow(carol, bob)
    private = post(bob, "followers only", visibility="private")
    hidden = post(bob, "@carol just us", visibility="direct")
    response = client.get(f"/api/v1/timelines/list/{own.id}", headers=alice_h)
    assert private.id in ids(response) and hidden.id not in ids(response)


@pytest.mark.parametrize(
    ("policy", "shown"),
    [
        ("list", {"top", "self", "to_member"}),
        ("followed", {"top", "self", "to_member", "to_followed"}),
        ("none", {"top", "self"}),
    ],
)
def test_replies_policy(
    client: FlaskClient,
    alice_h: dict,
    account: Account,
    bob: Account,
    carol: Account,
    make_account: Callable,
    policy: str,
    shown: set[str],
) -> None:
    dave, erin = make_account("dave"), make_account("erin")
    for person in (bob, carol, dave):
        follow(account, person)
    user_list = make_list(account, members=(bob, carol), replies_policy=policy)
    top = post(bob, "a thread")
    by_name = {
        "top": top,
        "self": post(bob, "and more", in_reply_to_id=top.id),
        "to_member": post(bob, "@carol hi", in_reply_to_id=post(carol, "carol says").id),
        "to_followed": post(bob, "@dave hi", in_reply_to_id=post(dave, "dave says").id),
        "to_stranger": post(bob, "@erin hi", in_reply_to_id=post(erin, "erin says").id),
    }
    got = set(ids(client.get(f"/api/v1/timelines/list/{user_list.id}", headers=alice_h)))
    assert {name for name, status in by_name.items() if status.id in got} == shown


def test_exclusive_list_members_leave_the_home_timeline(
    client: FlaskClient, alice_h: dict, account: Account, bob: Account, carol: Account, own: List
) -> None:
    follow(account, carol)
    from_bob, from_carol = post(bob, "in a list").id, post(carol, "just followed").id
    home = ids(client.get("/api/v1/timelines/home", headers=alice_h))
    assert from_bob in home and from_carol in home
    client.put(f"{LISTS}/{own.id}", json={"exclusive": True}, headers=alice_h)
    home = ids(client.get("/api/v1/timelines/home", headers=alice_h))
    assert from_bob not in home and from_carol in home
    assert ids(client.get(f"/api/v1/timelines/list/{own.id}", headers=alice_h)) == [from_bob]
