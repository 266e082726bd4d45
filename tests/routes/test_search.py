from __future__ import annotations

import pytest

from models import Account
from models import Block
from models import Context
from models import Follow
from models import Status
from models import StatusTag
from models import db
from models import new_flake_id
from tests.conftest import BASE_URL
from tests.conftest import basic_headers


def post(author: Account, text: str, visibility: str = "public", tags: tuple[str, ...] = ()) -> Status:
    """A status row as the statuses service would leave it (search only reads them)."""
    context = Context()
    db.session.add(context)
    db.session.flush()
    status_id = new_flake_id()
    status = Status(
        id=status_id,
        account_id=author.id,
        uri=f"{BASE_URL}/objects/{status_id}",
        source=text,
        content=f"<p>{text}</p>",
        visibility=visibility,
        context_id=context.id,
    )
    db.session.add(status)
    db.session.flush()  # no relationship orders the inserts: the status row must exist first
    db.session.add_all(StatusTag(status_id=status_id, name=tag) for tag in tags)
    author.statuses_count += 1
    db.session.commit()
    return status


def search(client, q: str, path: str = "/api/v2/search", headers: dict | None = None, **params):
    return client.get(path, query_string={"q": q, **params}, headers=headers or {})


def usernames(response) -> list[str]:
    return [a["acct"] for a in response.get_json()["accounts"]]


@pytest.fixture
def people(make_account) -> dict[str, Account]:
    found = {nick: make_account(nick) for nick in ("alicia", "alice", "al", "bob")}
    found["bob"].display_name = "Alice Fan"
    remote = Account(nickname="alice", domain="far.example", ap_id="https://far.example/users/alice")
    db.session.add(remote)
    db.session.commit()
    found["remote"] = remote
    return found


# --- accounts ------------------------------------------------------------------------------------


def test_search_accounts_exact_match_first(client, people):
    response = search(client, "alice", type="accounts", resolve="true")

    assert response.status_code == 200
    accts = usernames(response)
    assert accts[0] == "alice"
    assert set(accts) == {"alice", "alice@far.example", "bob"}
    assert accts.index("alice@far.example") < accts.index("bob")  # nickname matches before display names


@pytest.mark.parametrize("q", ["@alice", "ALICE"])
def test_search_accounts_nickname_forms(client, people, q):
    accts = usernames(search(client, q, type="accounts", resolve="true"))
    assert accts[:2] == ["alice", "alice@far.example"]


@pytest.mark.parametrize("q", ["alice@127.0.0.1:5000", "alice@127.0.0.1", "@alice@127.0.0.1:5000"])
def test_search_accounts_local_acct_forms(client, people, q):
    accts = usernames(search(client, q, type="accounts", resolve="true"))
    assert accts[0] == "alice"
    assert "alice@far.example" not in accts


def test_search_accounts_remote_acct(client, people):
    assert usernames(search(client, "alice@far.example", type="accounts")) == ["alice@far.example"]


def test_search_accounts_prefix(client, people):
    accts = usernames(search(client, "al", type="accounts"))
    assert accts[0] == "al"
    assert {"alice", "alicia", "alice@far.example", "bob"} <= set(accts)


def test_search_accounts_by_ap_id(client, people):
    accts = usernames(search(client, people["alicia"].ap_id, type="accounts"))
    assert accts == ["alicia"]


def test_search_accounts_limit_and_offset(client, people):
    first = usernames(search(client, "al", type="accounts", limit=2))
    second = usernames(search(client, "al", type="accounts", limit=2, offset=2))
    assert len(first) == 2 and len(second) == 2
    assert not set(first) & set(second)


def test_search_accounts_skips_inactive_and_blocked(client, people, auth_headers):
    people["alicia"].is_active = False
    db.session.add(Block(account_id=people["al"].id, target_id=people["alice"].id))
    db.session.commit()
    accts = usernames(search(client, "ali", type="accounts", headers=auth_headers(people["al"])))
    assert "alicia" not in accts and "alice" not in accts
    assert "alice@far.example" in accts


def test_search_accounts_following(client, people, auth_headers):
    db.session.add(Follow(follower_id=people["al"].id, followee_id=people["alicia"].id))
    db.session.commit()
    accts = usernames(
        search(client, "ali", type="accounts", following="true", headers=auth_headers(people["al"]))
    )
    assert accts == ["alicia"]


def test_search_like_wildcards_are_literal(client, people):
    assert usernames(search(client, "%", type="accounts")) == []
    assert usernames(search(client, "_", type="accounts")) == []


# --- statuses ------------------------------------------------------------------------------------


def test_search_statuses_visible_to_reader(client, make_account, auth_headers):
    alice, bob = make_account("alice"), make_account("bob")
    public = post(alice, "Cats are great")
    private = post(alice, "cats in private", visibility="private")
    post(alice, "dogs only")

    anonymous = search(client, "cats", type="statuses").get_json()["statuses"]
    assert [s["id"] for s in anonymous] == [public.id]
    assert anonymous[0]["content"] == "<p>Cats are great</p>"

    stranger = search(client, "cats", type="statuses", headers=auth_headers(bob)).get_json()["statuses"]
    assert [s["id"] for s in stranger] == [public.id]

    author = search(client, "cats", type="statuses", headers=auth_headers(alice)).get_json()["statuses"]
    assert [s["id"] for s in author] == [private.id, public.id]  # newest first


def test_search_statuses_token_without_search_scope_is_anonymous(client, account, auth_headers):
    post(account, "secret cats", visibility="private")
    headers = auth_headers(account, "read:accounts")
    assert search(client, "cats", headers=headers).get_json()["statuses"] == []
    assert (
        len(search(client, "cats", headers=auth_headers(account, "read:search")).get_json()["statuses"]) == 1
    )
    assert len(search(client, "cats", headers=basic_headers("alice")).get_json()["statuses"]) == 1


def test_search_statuses_every_word_must_match(client, account):
    both = post(account, "red apples today")
    post(account, "red cars")
    found = search(client, "apples red", type="statuses").get_json()["statuses"]
    assert [s["id"] for s in found] == [both.id]


def test_search_statuses_by_account_id(client, make_account):
    alice, bob = make_account("alice"), make_account("bob")
    post(alice, "hello world")
    mine = post(bob, "hello there")
    found = search(client, "hello", type="statuses", account_id=bob.id).get_json()["statuses"]
    assert [s["id"] for s in found] == [mine.id]


def test_search_statuses_by_url(client, account):
    status = post(account, "findable")
    post(account, "other")
    for q in (f"{BASE_URL}/notice/{status.id}", status.uri):
        found = search(client, q, type="statuses").get_json()["statuses"]
        assert [s["id"] for s in found] == [status.id]


def test_search_statuses_limit_is_clamped(client, account):
    for n in range(3):
        post(account, f"note {n}")
    assert len(search(client, "note", type="statuses", limit=2).get_json()["statuses"]) == 2
    assert len(search(client, "note", type="statuses", limit=500).get_json()["statuses"]) == 3


def test_search_statuses_of_blocked_author_hidden(client, make_account, auth_headers):
    alice, bob = make_account("alice"), make_account("bob")
    post(bob, "blocked words")
    db.session.add(Block(account_id=alice.id, target_id=bob.id))
    db.session.commit()
    assert search(client, "blocked", headers=auth_headers(alice)).get_json()["statuses"] == []
    assert len(search(client, "blocked").get_json()["statuses"]) == 1


# --- hashtags, versions, errors -------------------------------------------------------------------


def test_search_v2_hashtags_are_tag_entities(client, account):
    post(account, "#catpics #cats", tags=("catpics", "cats"))
    post(account, "#dogs", tags=("dogs",))
    post(account, "#catsecret", visibility="direct", tags=("catsecret",))

    body = search(client, "#cat").get_json()

    assert body["hashtags"] == [
        {"name": "cats", "url": f"{BASE_URL}/tag/cats", "history": []},
        {"name": "catpics", "url": f"{BASE_URL}/tag/catpics", "history": []},
    ]


def test_search_v1_hashtags_are_names(client, account):
    post(account, "#cats", tags=("cats",))
    response = search(client, "cat", path="/api/v1/search")
    assert response.status_code == 200
    body = response.get_json()
    assert body["hashtags"] == ["cats"]
    assert set(body) == {"accounts", "statuses", "hashtags"}


def test_search_type_limits_the_result(client, account):
    post(account, "alice says hi", tags=("alice",))
    body = search(client, "alice", type="hashtags").get_json()
    assert body["accounts"] == [] and body["statuses"] == []
    assert [h["name"] for h in body["hashtags"]] == ["alice"]
    body = search(client, "alice").get_json()
    assert body["accounts"] and body["statuses"] and body["hashtags"]


@pytest.mark.parametrize("path", ["/api/v2/search", "/api/v1/search", "/api/v2/search/"])
def test_search_requires_q(client, path):
    response = client.get(path)
    assert response.status_code == 400
    assert response.get_json() == {"error": "Missing field: q."}


def test_search_bad_type(client):
    response = search(client, "x", type="people")
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("type - ")


def test_search_blank_q_finds_nothing(client, account):
    post(account, "anything")
    assert search(client, "  ").get_json() == {"accounts": [], "statuses": [], "hashtags": []}


@pytest.mark.parametrize("path", ["/api/v2/search", "/api/v1/accounts/search"])
def test_search_refuses_an_offset_past_the_integer_range(client, path):
    """Found by the fuzzing: SQLite cannot bind OFFSET 10**20 (500)."""
    response = client.get(f"{path}?q=a&offset=100000000000000000000")
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("offset - ")
