"""Timelines (SPEC 6): home, public, hashtag, direct, list."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from urllib.parse import parse_qs
from urllib.parse import urlparse

import pytest
from flask.testing import FlaskClient

from models import Account
from models import Block
from models import Follow
from models import Media
from models import Mute
from models import Status
from models import ThreadMute
from models import db
from models import utcnow
from services.statuses import NewStatus
from services.statuses import post_status
from tests.conftest import BASE_URL
from tests.conftest import basic_headers

HOME = "/api/v1/timelines/home"
PUBLIC = "/api/v1/timelines/public"


def post(author: Account, text: str, **kwargs: object) -> Status:
    return post_status(author, NewStatus(text=text, **kwargs))


def follow(follower: Account, followee: Account, **kwargs: object) -> None:
    db.session.add(Follow(follower_id=follower.id, followee_id=followee.id, **kwargs))
    db.session.commit()


def reblog(author: Account, original: Status) -> Status:
    # No reblog service yet: a reblog is a status row pointing at the original.
    row = Status(account=author, reblog_of_id=original.id, visibility="public", context=original.context)
    db.session.add(row)
    db.session.commit()
    return row


def remote_account(nickname: str = "remy", domain: str = "remote.example") -> Account:
    account = Account(nickname=nickname, domain=domain, ap_id=f"https://{domain}/users/{nickname}")
    db.session.add(account)
    db.session.commit()
    return account


def ids(response: object) -> list[str]:
    return [s["id"] for s in response.get_json()]  # type: ignore[attr-defined]


def links(response: object) -> dict[str, dict[str, list[str]]]:
    """rel -> parsed query of the Link header."""
    out = {}
    for part in response.headers["Link"].split(", "):  # type: ignore[attr-defined]
        url, rel = part.split("; ")
        parsed = urlparse(url.strip("<>"))
        assert f"{parsed.scheme}://{parsed.netloc}" == BASE_URL
        out[rel.split('"')[1]] = parse_qs(parsed.query) | {"path": [parsed.path]}
    return out


@pytest.fixture
def people(make_account: Callable[..., Account]) -> dict[str, Account]:
    return {name: make_account(name) for name in ("alice", "bob", "carol", "dave")}


# ---------------------------------------------------------------------------------------------
# Home


def test_home_timeline_has_own_followed_and_addressed_statuses(
    client: FlaskClient, auth_headers: Callable[..., dict], people: dict[str, Account]
) -> None:
    alice, bob, carol, dave = people["alice"], people["bob"], people["carol"], people["dave"]
    follow(alice, bob)
    follow(alice, dave, is_pending=True)
    own = post(alice, "mine")
    bob_public = post(bob, "bob public")
    bob_private = post(bob, "bob followers-only", visibility="private")
    post(carol, "carol, not followed")
    carol_mention = post(carol, "hi @alice", visibility="private")
    carol_dm = post(carol, "psst @alice", visibility="direct")
    post(carol, "psst @bob", visibility="direct")
    post(dave, "pending follow is no follow", visibility="private")
    post(dave, "pending follow, public")

    response = client.get(HOME, headers=auth_headers(alice))

    assert response.status_code == 200
    assert ids(response) == [carol_dm.id, carol_mention.id, bob_private.id, bob_public.id, own.id]
    first = response.get_json()[0]
    assert first["account"]["acct"] == "carol" and first["visibility"] == "direct"


def test_home_timeline_never_shows_private_posts_of_unfollowed(
    client: FlaskClient, auth_headers: Callable[..., dict], people: dict[str, Account]
) -> None:
    alice, bob = people["alice"], people["bob"]
    post(bob, "followers only", visibility="private")

    assert client.get(HOME, headers=auth_headers(alice)).get_json() == []
    assert client.get(PUBLIC, headers=auth_headers(alice)).get_json() == []


def test_home_timeline_needs_auth_and_scope(
    client: FlaskClient, auth_headers: Callable[..., dict], account: Account
) -> None:
    response = client.get(HOME)
    assert response.status_code == 403
    assert response.get_json() == {"error": "Invalid credentials."}

    response = client.get(HOME, headers=auth_headers(account, "write follow"))
    assert response.status_code == 403
    assert response.get_json() == {"error": "Insufficient permissions: read:statuses."}

    assert client.get(HOME, headers=auth_headers(account, "read:statuses")).status_code == 200
    assert client.get(HOME, headers=basic_headers("alice")).status_code == 200


def test_home_timeline_hides_reblogs_of_follows_with_reblogs_off(
    client: FlaskClient, auth_headers: Callable[..., dict], people: dict[str, Account]
) -> None:
    alice, bob, carol, dave = people["alice"], people["bob"], people["carol"], people["dave"]
    follow(alice, bob, show_reblogs=False)
    follow(alice, dave)
    original = post(carol, "worth sharing")
    hidden = reblog(bob, original)
    shown = reblog(dave, original)
    bob_own = post(bob, "bob's own post still shows")

    response = client.get(HOME, headers=auth_headers(alice))

    assert ids(response) == [bob_own.id, shown.id]
    assert hidden.id not in ids(response)
    assert response.get_json()[1]["reblog"]["id"] == original.id


def test_home_timeline_never_shows_blocked_or_blocking_accounts(
    client: FlaskClient, auth_headers: Callable[..., dict], people: dict[str, Account]
) -> None:
    alice, bob, carol, dave = people["alice"], people["bob"], people["carol"], people["dave"]
    follow(alice, bob)
    follow(alice, carol)
    follow(alice, dave)
    post(bob, "blocked by alice")
    post(carol, "carol blocks alice")
    blocked_shared = reblog(dave, post(bob, "shared by dave"))
    kept = post(dave, "dave is fine")
    db.session.add_all(
        [Block(account_id=alice.id, target_id=bob.id), Block(account_id=carol.id, target_id=alice.id)]
    )
    db.session.commit()

    for params in ("", "?with_muted=true"):
        response = client.get(HOME + params, headers=auth_headers(alice))
        assert ids(response) == [kept.id]
        assert blocked_shared.id not in ids(response)


def test_home_timeline_hides_muted_accounts_unless_with_muted(
    client: FlaskClient, auth_headers: Callable[..., dict], people: dict[str, Account]
) -> None:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    follow(alice, bob)
    follow(alice, carol)
    muted = post(bob, "muted")
    expired = post(carol, "mute expired")
    db.session.add_all(
        [
            Mute(account_id=alice.id, target_id=bob.id),
            Mute(account_id=alice.id, target_id=carol.id, expires_at=utcnow() - timedelta(minutes=1)),
        ]
    )
    db.session.commit()

    assert ids(client.get(HOME, headers=auth_headers(alice))) == [expired.id]
    assert ids(client.get(HOME + "?with_muted=true", headers=auth_headers(alice))) == [expired.id, muted.id]


def test_home_timeline_hides_muted_threads_unless_with_muted(
    client: FlaskClient, auth_headers: Callable[..., dict], people: dict[str, Account]
) -> None:
    alice, bob = people["alice"], people["bob"]
    follow(alice, bob)
    thread = post(bob, "a noisy thread")
    db.session.add(ThreadMute(account_id=alice.id, context_id=thread.context_id))
    db.session.commit()

    assert ids(client.get(HOME, headers=auth_headers(alice))) == []
    assert ids(client.get(HOME + "?with_muted=1", headers=auth_headers(alice))) == [thread.id]


def test_home_timeline_filters_local_remote_media_and_visibilities(
    client: FlaskClient, auth_headers: Callable[..., dict], people: dict[str, Account]
) -> None:
    alice, bob = people["alice"], people["bob"]
    remy = remote_account()
    follow(alice, bob)
    follow(alice, remy)
    local_post = post(bob, "local")
    unlisted = post(bob, "quiet", visibility="unlisted")
    remote_post = post(remy, "from afar")
    with_media = post(bob, "look")
    db.session.add(Media(account_id=bob.id, status_id=with_media.id, path="a.png", mime_type="image/png"))
    db.session.commit()
    headers = auth_headers(alice)

    assert ids(client.get(HOME + "?local=true", headers=headers)) == [
        with_media.id,
        unlisted.id,
        local_post.id,
    ]
    assert ids(client.get(HOME + "?remote=true", headers=headers)) == [remote_post.id]
    assert ids(client.get(HOME + "?only_media=true", headers=headers)) == [with_media.id]
    response = client.get(
        HOME + "?exclude_visibilities[]=unlisted&exclude_visibilities[]=direct", headers=headers
    )
    assert unlisted.id not in ids(response) and local_post.id in ids(response)


def test_home_timeline_reply_visibility(
    client: FlaskClient, auth_headers: Callable[..., dict], people: dict[str, Account]
) -> None:
    alice, bob, carol, dave = people["alice"], people["bob"], people["carol"], people["dave"]
    follow(alice, bob)
    follow(alice, carol)
    mine = post(alice, "alice says")
    to_alice = post(bob, "@alice agreed", in_reply_to_id=mine.id)
    to_carol = post(bob, "@carol agreed", in_reply_to_id=post(carol, "carol says").id)
    to_stranger = post(bob, "@dave agreed", in_reply_to_id=post(dave, "dave says").id)
    headers = auth_headers(alice)

    everything = ids(client.get(HOME, headers=headers))
    following = ids(client.get(HOME + "?reply_visibility=following", headers=headers))
    self_only = ids(client.get(HOME + "?reply_visibility=self", headers=headers))

    assert to_stranger.id in everything
    assert to_alice.id in following and to_carol.id in following and to_stranger.id not in following
    assert to_alice.id in self_only and to_carol.id not in self_only and mine.id in self_only


def test_home_timeline_rejects_bad_filters(
    client: FlaskClient, auth_headers: Callable[..., dict], account: Account
) -> None:
    headers = auth_headers(account)
    response = client.get(HOME + "?exclude_visibilities[]=secret", headers=headers)
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("exclude_visibilities")
    response = client.get(HOME + "?reply_visibility=everyone", headers=headers)
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("reply_visibility")


# ---------------------------------------------------------------------------------------------
# Paging


@pytest.fixture
def five(people: dict[str, Account]) -> list[str]:
    """Five of alice's statuses, oldest first."""
    return [post(people["alice"], f"post {n}").id for n in range(5)]


def test_home_timeline_limit_and_link_header(
    client: FlaskClient, auth_headers: Callable[..., dict], five: list[str], people: dict[str, Account]
) -> None:
    response = client.get(HOME + "?limit=2&only_media=false", headers=auth_headers(people["alice"]))

    assert ids(response) == [five[4], five[3]]
    rels = links(response)
    assert rels["next"]["max_id"] == [five[3]] and rels["prev"]["min_id"] == [five[4]]
    assert rels["next"]["path"] == [HOME]
    assert rels["next"]["limit"] == ["2"] and rels["next"]["only_media"] == ["false"]
    assert "min_id" not in rels["next"] and "max_id" not in rels["prev"]


def test_home_timeline_max_id_since_id_min_id(
    client: FlaskClient, auth_headers: Callable[..., dict], five: list[str], people: dict[str, Account]
) -> None:
    headers = auth_headers(people["alice"])

    def page(query: str) -> list[str]:
        return ids(client.get(f"{HOME}?{query}", headers=headers))

    assert page(f"max_id={five[3]}") == [five[2], five[1], five[0]]
    # since_id: the newest page above the cursor; min_id: the page just above it, still newest-first.
    assert page(f"since_id={five[0]}&limit=2") == [five[4], five[3]]
    assert page(f"min_id={five[0]}&limit=2") == [five[2], five[1]]
    assert page(f"min_id={five[1]}&max_id={five[4]}") == [five[3], five[2]]
    assert page(f"max_id={five[0]}") == []


def test_home_timeline_empty_page_has_no_link(
    client: FlaskClient, auth_headers: Callable[..., dict], account: Account
) -> None:
    response = client.get(HOME, headers=auth_headers(account))
    assert response.get_json() == [] and "Link" not in response.headers


def test_home_timeline_limit_is_clamped(
    client: FlaskClient, auth_headers: Callable[..., dict], people: dict[str, Account]
) -> None:
    for n in range(42):
        post(people["alice"], f"n{n}")
    headers = auth_headers(people["alice"])
    assert len(ids(client.get(HOME + "?limit=100", headers=headers))) == 40
    assert len(ids(client.get(HOME, headers=headers))) == 20
    assert client.get(HOME + "?limit=lots", headers=headers).status_code == 400


def test_home_timeline_queries_do_not_grow_with_page_size(
    client: FlaskClient,
    auth_headers: Callable[..., dict],
    people: dict[str, Account],
    count_queries: Callable,
) -> None:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    follow(alice, bob)
    parent = post(carol, "a thread")
    for n in range(45):
        status = post(bob, f"#tag{n % 3} @carol number {n}", in_reply_to_id=parent.id if n % 2 else None)
        if n % 5 == 0:
            db.session.add(
                Media(account_id=bob.id, status_id=status.id, path=f"{n}.png", mime_type="image/png")
            )
    db.session.commit()
    headers = auth_headers(alice)
    client.get(HOME + "?limit=1", headers=headers)  # warm-up

    with count_queries() as one:
        assert len(ids(client.get(HOME + "?limit=1", headers=headers))) == 1
    with count_queries() as forty:
        assert len(ids(client.get(HOME + "?limit=40", headers=headers))) == 40

    assert one.count == forty.count, forty.statements


# ---------------------------------------------------------------------------------------------
# Public


def test_public_timeline_anonymous_sees_public_only(client: FlaskClient, people: dict[str, Account]) -> None:
    bob = people["bob"]
    public = post(bob, "hello world")
    for visibility in ("unlisted", "private", "direct", "local"):
        post(bob, f"{visibility} post @carol", visibility=visibility)

    response = client.get(PUBLIC)

    assert response.status_code == 200
    assert ids(response) == [public.id]
    assert response.get_json()[0]["favourited"] is False


def test_public_timeline_local_visibility(
    client: FlaskClient, auth_headers: Callable[..., dict], people: dict[str, Account]
) -> None:
    bob = people["bob"]
    remy = remote_account()
    public = post(bob, "hello world")
    local_only = post(bob, "just us", visibility="local")
    remote = post(remy, "from afar")

    assert ids(client.get(PUBLIC)) == [remote.id, public.id]
    assert ids(client.get(PUBLIC + "?local=true")) == [local_only.id, public.id]
    assert ids(client.get(PUBLIC + "?remote=true")) == [remote.id]
    assert ids(client.get(PUBLIC, headers=auth_headers(people["alice"]))) == [
        remote.id,
        local_only.id,
        public.id,
    ]
    assert ids(client.get(PUBLIC + "?instance=remote.example")) == [remote.id]


def test_public_timeline_filters_for_the_reader(
    client: FlaskClient, auth_headers: Callable[..., dict], people: dict[str, Account]
) -> None:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    post(bob, "blocked")
    muted = post(carol, "muted")
    plain = post(people["dave"], "plain")
    db.session.add_all(
        [Block(account_id=alice.id, target_id=bob.id), Mute(account_id=alice.id, target_id=carol.id)]
    )
    db.session.commit()
    headers = auth_headers(alice)

    assert ids(client.get(PUBLIC, headers=headers)) == [plain.id]
    assert ids(client.get(PUBLIC + "?with_muted=true", headers=headers)) == [plain.id, muted.id]
    # A token without read:statuses is treated as anonymous on an auth-optional timeline.
    assert client.get(PUBLIC, headers=auth_headers(alice, "write")).status_code == 200


def test_public_timeline_only_media(client: FlaskClient, people: dict[str, Account]) -> None:
    bob = people["bob"]
    post(bob, "text only")
    pictured = post(bob, "picture")
    db.session.add(Media(account_id=bob.id, status_id=pictured.id, path="p.png", mime_type="image/png"))
    db.session.commit()
    shared = reblog(people["carol"], pictured)

    assert ids(client.get(PUBLIC + "?only_media=true")) == [shared.id, pictured.id]


# ---------------------------------------------------------------------------------------------
# Hashtag, direct, list


def test_tag_timeline_is_case_insensitive(client: FlaskClient, people: dict[str, Account]) -> None:
    bob = people["bob"]
    tagged = post(bob, "I like #Cats")
    post(bob, "I like #dogs")
    post(bob, "quiet #cats", visibility="unlisted")

    response = client.get("/api/v1/timelines/tag/CATS")

    assert response.status_code == 200
    assert ids(response) == [tagged.id]
    assert response.get_json()[0]["tags"][0]["name"] == "cats"


def test_tag_timeline_any_all_none(client: FlaskClient, people: dict[str, Account]) -> None:
    bob = people["bob"]
    cats = post(bob, "#cats")
    dogs = post(bob, "#dogs")
    both = post(bob, "#cats #dogs")
    cats_birds = post(bob, "#cats #birds")
    base = "/api/v1/timelines/tag/cats"

    assert ids(client.get(base)) == [cats_birds.id, both.id, cats.id]
    assert ids(client.get(base + "?any[]=dogs")) == [cats_birds.id, both.id, dogs.id, cats.id]
    assert ids(client.get(base + "?all[]=Dogs")) == [both.id]
    assert ids(client.get(base + "?none[]=dogs&none[]=birds")) == [cats.id]


def test_direct_timeline(
    client: FlaskClient, auth_headers: Callable[..., dict], people: dict[str, Account]
) -> None:
    alice, bob = people["alice"], people["bob"]
    follow(alice, bob)
    sent = post(alice, "@bob psst", visibility="direct")
    received = post(bob, "@alice psst back", visibility="direct")
    post(bob, "@carol not for alice", visibility="direct")
    post(bob, "public")
    db.session.add(Mute(account_id=alice.id, target_id=bob.id))
    db.session.commit()

    response = client.get("/api/v1/timelines/direct", headers=auth_headers(alice))

    assert response.status_code == 200
    assert ids(response) == [received.id, sent.id]
    assert response.get_json()[0]["pleroma"]["direct_conversation_id"] is not None
    assert client.get("/api/v1/timelines/direct").get_json() == {"error": "Invalid credentials."}


def test_list_timeline_is_not_found(
    client: FlaskClient, auth_headers: Callable[..., dict], account: Account
) -> None:
    response = client.get("/api/v1/timelines/list/1", headers=auth_headers(account))
    assert response.status_code == 404
    assert response.get_json() == {"error": "Record not found"}
    response = client.get("/api/v1/timelines/list/1", headers=auth_headers(account, "read:statuses"))
    assert response.get_json() == {"error": "Insufficient permissions: read:lists."}
