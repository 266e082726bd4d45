"""routes/activitypub.py: actors, collections and their paging, objects, the instance actor and
content negotiation (SPEC 24.1)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from federation import actor_collections
from federation.documents import PUBLIC
from federation.objects import may_read
from models import Account
from models import Follow
from models import Status
from models import db
from tests.conftest import BASE_URL
from tests.federation.conftest import AP
from tests.federation.conftest import expand
from tests.federation.conftest import get_ap

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


@pytest.fixture
def frontend(app: Flask, tmp_path: Path) -> Path:
    folder = tmp_path / "fe"
    folder.mkdir()
    (folder / "index.html").write_text("<!doctype html><title>FE</title>")
    app.config["FRONTEND_DIR"] = str(folder)
    return folder


# ---- /users/<nickname>


@pytest.mark.parametrize(
    "accept", [AP, LD, "application/ld+json", "application/json, application/activity+json"]
)
def test_actor_for_activitypub_readers(client, account, accept):
    response = client.get("/users/alice", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.mimetype == AP
    assert "Accept" in response.headers["Vary"]
    actor = response.get_json(force=True)
    assert actor["id"] == account.ap_id and actor["type"] == "Person"
    assert actor["publicKey"]["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----")
    expand(actor)


@pytest.mark.parametrize("accept", [BROWSER, "text/html", "", "*/*"])
def test_actor_without_a_frontend_is_json_for_everyone(client, account, accept):
    response = client.get("/users/alice", headers={"Accept": accept} if accept else {})
    assert response.status_code == 200
    assert response.mimetype == AP
    assert response.get_json(force=True)["id"] == account.ap_id


def test_browser_gets_the_frontend_page(client, account, frontend):
    response = client.get("/users/alice", headers={"Accept": BROWSER})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.headers["Cache-Control"] == "no-cache"
    assert b"<title>FE</title>" in response.data
    # ActivityPub readers and JSON clients still get the actor.
    assert get_ap(client, "/users/alice").mimetype == AP
    for accept in ("application/json", "*/*", "application/json, text/html;q=0.5"):
        assert client.get("/users/alice", headers={"Accept": accept}).mimetype == AP
    # An unknown account is a 404 whoever asks.
    assert client.get("/users/nobody", headers={"Accept": BROWSER}).status_code == 404


def test_unknown_or_deleted_actor_is_a_json_404(client, account):
    assert get_ap(client, "/users/nobody").get_json() == {"error": "Not found"}
    account.is_deleted = True
    db.session.commit()
    for path in (
        "/users/alice",
        "/users/alice/outbox",
        "/users/alice/followers",
        "/users/alice/collections/featured",
    ):
        response = get_ap(client, path)
        assert response.status_code == 404, path
        assert response.get_json() == {"error": "Not found"}


def test_instance_actor_route(client):
    response = get_ap(client, "/internal/fetch")
    assert response.status_code == 200 and response.mimetype == AP
    actor = response.get_json(force=True)
    assert actor["type"] == "Application" and actor["id"] == f"{BASE_URL}/internal/fetch"
    assert get_ap(client, "/internal/fetch").get_json(force=True)["publicKey"] == actor["publicKey"]


# ---- Outbox


def test_outbox_pages_public_creates_and_announces(client, post, alice_h, bob_h, account, bob):
    public = [post(alice_h, status=f"post {i}") for i in range(22)]
    post(alice_h, status="unlisted", visibility="unlisted")
    post(alice_h, status="private", visibility="private")
    post(alice_h, status="direct @bob", visibility="direct")
    theirs = post(bob_h, status="bob's")
    reblog_id = client.post(f"/api/v1/statuses/{theirs.id}/reblog", headers=alice_h).get_json()["id"]

    head = get_ap(client, "/users/alice/outbox").get_json(force=True)
    outbox = f"{account.ap_id}/outbox"
    assert head["type"] == "OrderedCollection" and head["id"] == outbox
    assert head["totalItems"] == 24  # 22 public, 1 unlisted, 1 reblog
    assert head["first"] == f"{outbox}?page=true"
    expand(head)

    page = get_ap(client, "/users/alice/outbox?page=true").get_json(force=True)
    assert page["type"] == "OrderedCollectionPage" and page["partOf"] == outbox
    items = page["orderedItems"]
    assert len(items) == actor_collections.PAGE_SIZE
    announce, unlisted, *creates = items
    assert announce["type"] == "Announce" and announce["object"] == theirs.uri
    assert announce["id"] == db.session.get(Status, reblog_id).uri
    assert unlisted["type"] == "Create" and unlisted["object"]["cc"][0] == PUBLIC
    assert [c["object"]["id"] for c in creates] == [s.uri for s in reversed(public)][:18]
    assert all("@context" not in item for item in items)
    expand(page)

    rest = get_ap(client, page["next"].removeprefix(BASE_URL)).get_json(force=True)
    assert [c["object"]["id"] for c in rest["orderedItems"]] == [s.uri for s in reversed(public[:4])]
    assert "next" not in rest


def test_outbox_page_takes_constant_queries(client, post, alice_h, bob_h, bob, count_queries):
    theirs = post(bob_h, status="bob's")
    client.post(f"/api/v1/statuses/{theirs.id}/reblog", headers=alice_h)
    post(alice_h, status="first @bob #tag", poll={"options": ["a", "b"], "expires_in": 600})
    with count_queries() as few:
        assert len(get_ap(client, "/users/alice/outbox?page=true").get_json(force=True)["orderedItems"]) == 2
    for i in range(25):
        post(alice_h, status=f"@bob #tag{i} post {i}", in_reply_to_id=theirs.id)
    with count_queries() as full:
        assert len(get_ap(client, "/users/alice/outbox?page=true").get_json(force=True)["orderedItems"]) == 20
    assert full.count <= few.count + 1  # the page of 2 had no replies' parents to look up
    assert full.count <= 10


def test_outbox_bad_paging_input(client, account):
    response = get_ap(client, "/users/alice/outbox?page=true&max_id=" + "9" * 100)
    assert response.status_code == 422
    assert "error" in response.get_json()


# ---- Followers and following


def _follow(follower: Account, followee: Account, pending: bool = False) -> None:
    db.session.add(Follow(follower_id=follower.id, followee_id=followee.id, is_pending=pending))
    if not pending:
        follower.following_count += 1
        followee.followers_count += 1
    db.session.commit()


def test_followers_and_following_pages(client, make_account, account, bob):
    fans = [make_account(f"fan{i}") for i in range(21)]
    for fan in fans:
        _follow(fan, account)
    _follow(bob, account, pending=True)  # a request is no follower
    _follow(account, bob)

    head = get_ap(client, "/users/alice/followers").get_json(force=True)
    followers = f"{account.ap_id}/followers"
    assert head == {
        "@context": head["@context"],
        "id": followers,
        "type": "OrderedCollection",
        "totalItems": 21,
        "first": f"{followers}?page=true",
    }
    page = get_ap(client, "/users/alice/followers?page=true").get_json(force=True)
    assert page["orderedItems"] == [f.ap_id for f in reversed(fans)][:20]
    assert page["totalItems"] == 21
    rest = get_ap(client, page["next"].removeprefix(BASE_URL)).get_json(force=True)
    assert rest["orderedItems"] == [fans[0].ap_id] and "next" not in rest
    expand(page)

    following = get_ap(client, "/users/alice/following").get_json(force=True)
    assert following["totalItems"] == 1
    page = get_ap(client, "/users/alice/following?page=true").get_json(force=True)
    assert page["orderedItems"] == [bob.ap_id]


@pytest.mark.parametrize(("path", "flag"), [("followers", "hide_followers"), ("following", "hide_follows")])
def test_hidden_relations_show_only_their_count(client, account, bob, path, flag):
    _follow(bob, account)
    _follow(account, bob)
    setattr(account, flag, True)
    db.session.commit()
    head = get_ap(client, f"/users/alice/{path}").get_json(force=True)
    assert head["totalItems"] == 1 and "first" not in head
    response = get_ap(client, f"/users/alice/{path}?page=true")
    assert response.status_code == 403
    assert response.get_json() == {"error": "The account hides this collection"}
    setattr(account, f"{flag}_count", True)
    db.session.commit()
    assert get_ap(client, f"/users/alice/{path}").get_json(force=True)["totalItems"] == 0


# ---- Featured


def test_featured_lists_pinned_public_notes(client, post, alice_h, account):
    older = post(alice_h, status="pinned first")
    newer = post(alice_h, status="pinned second")
    post(alice_h, status="not pinned")
    for status in (older, newer):
        assert client.post(f"/api/v1/statuses/{status.id}/pin", headers=alice_h).status_code == 200
    featured = get_ap(client, "/users/alice/collections/featured").get_json(force=True)
    assert featured["id"] == f"{account.ap_id}/collections/featured"
    assert featured["totalItems"] == 2
    assert [n["id"] for n in featured["orderedItems"]] == [newer.uri, older.uri]
    assert featured["orderedItems"][0]["type"] == "Note"
    expand(featured)


# ---- Objects and /notice


def _uuid(status: Status) -> str:
    return status.uri.rsplit("/", 1)[1]


@pytest.mark.parametrize("visibility", ["public", "unlisted"])
def test_object_of_an_open_status(client, post, alice_h, visibility):
    status = post(alice_h, status="hello", visibility=visibility)
    response = get_ap(client, f"/objects/{_uuid(status)}")
    assert response.status_code == 200 and response.mimetype == AP
    note = response.get_json(force=True)
    assert note["id"] == status.uri and note["type"] == "Note"
    browser = client.get(f"/objects/{_uuid(status)}", headers={"Accept": BROWSER})
    assert browser.status_code == 302 and browser.headers["Location"] == f"/notice/{status.id}"
    create = get_ap(client, f"/objects/{_uuid(status)}/activity").get_json(force=True)
    assert create["id"] == f"{status.uri}/activity" and create["object"]["id"] == status.uri


@pytest.mark.parametrize("visibility", ["private", "direct"])
def test_private_objects_answer_as_unknown_ones(client, post, alice_h, bob, visibility):
    status = post(alice_h, status="psst @bob", visibility=visibility)
    unknown = get_ap(client, "/objects/00000000-0000-0000-0000-000000000000")
    for path in (f"/objects/{_uuid(status)}", f"/objects/{_uuid(status)}/activity", f"/notice/{status.id}"):
        response = get_ap(client, path)
        assert (response.status_code, response.get_json()) == (unknown.status_code, unknown.get_json())
    assert unknown.status_code == 404 and unknown.get_json() == {"error": "Not found"}


def test_may_read(post, alice_h, account, bob, carol, make_account):
    open_status = post(alice_h, status="hi")
    followers_only = post(alice_h, status="psst @carol", visibility="private")
    direct = post(alice_h, status="psst @carol", visibility="direct")
    _follow(bob, account)
    _follow(make_account("dave"), account, pending=True)
    assert may_read(open_status, None)
    for status in (followers_only, direct):
        assert not may_read(status, None)
        assert not may_read(status, "https://elsewhere.example/users/x")
        assert not may_read(status, f"{BASE_URL}/users/dave")  # a request is not a follow
        assert may_read(status, account.ap_id)  # the author
        assert may_read(status, carol.ap_id)  # addressed
    assert may_read(followers_only, bob.ap_id)  # a follower
    assert not may_read(direct, bob.ap_id)


def test_notice_negotiates(client, post, alice_h, bob_h, frontend):
    status = post(alice_h, status="hello")
    note = get_ap(client, f"/notice/{status.id}")
    assert note.mimetype == AP and note.get_json(force=True)["id"] == status.uri
    page = client.get(f"/notice/{status.id}", headers={"Accept": BROWSER})
    assert page.mimetype == "text/html" and page.headers["Cache-Control"] == "no-cache"
    api = client.get(f"/notice/{status.id}", headers={"Accept": "application/json"})
    assert api.status_code == 302 and api.headers["Location"] == f"/api/v1/statuses/{status.id}"
    assert all("Accept" in r.headers["Vary"] for r in (note, page, api))
    reblog_id = client.post(f"/api/v1/statuses/{status.id}/reblog", headers=bob_h).get_json()["id"]
    announce = get_ap(client, f"/notice/{reblog_id}").get_json(force=True)
    assert announce["type"] == "Announce" and announce["object"] == status.uri
    assert get_ap(client, "/notice/nope").status_code == 404


def test_notice_without_a_frontend_redirects_to_the_api(client: FlaskClient):
    response = client.get("/notice/ABC", headers={"Accept": BROWSER})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/api/v1/statuses/ABC")
    # Found by the fuzzing: a newline in the id went into the Location header (500).
    response = client.get("/notice/a%0Db%3Fc")
    assert response.status_code == 302
    assert response.headers["Location"] == "/api/v1/statuses/a%0Db%3Fc"


def test_relation_page_takes_constant_queries(client, make_account, account, count_queries):
    fans = [make_account(f"fan{i}") for i in range(22)]
    _follow(fans[0], account)
    with count_queries() as one:
        assert (
            len(get_ap(client, "/users/alice/followers?page=true").get_json(force=True)["orderedItems"]) == 1
        )
    for fan in fans[1:]:
        _follow(fan, account)
    with count_queries() as full:
        assert (
            len(get_ap(client, "/users/alice/followers?page=true").get_json(force=True)["orderedItems"]) == 20
        )
    assert full.count == one.count <= 3
