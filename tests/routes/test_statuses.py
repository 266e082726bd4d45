from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy import update

from models import Account
from models import Bookmark
from models import Favourite
from models import Follow
from models import IdempotencyKey
from models import Media
from models import Notification
from models import Participation
from models import Status
from models import db
from models import utcnow
from services import interactions
from services.statuses import NewStatus
from services.statuses import post_status
from tests.conftest import basic_headers
from tests.conftest import password_token
from tests.conftest import sql_log

BASE = "http://127.0.0.1:5000"


# ---------------------------------------------------------------------------------------------
# helpers


@pytest.fixture
def bob(make_account):
    return make_account("bob")


@pytest.fixture
def carol(make_account):
    return make_account("carol")


@pytest.fixture
def alice_h(auth_headers, account):
    return auth_headers(account)


@pytest.fixture
def bob_h(auth_headers, bob):
    return auth_headers(bob)


@pytest.fixture
def carol_h(auth_headers, carol):
    return auth_headers(carol)


def post(client, headers, **data) -> dict:
    response = client.post("/api/v1/statuses", json=data, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def follow(follower: Account, followee: Account) -> None:
    db.session.add(Follow(follower_id=follower.id, followee_id=followee.id))
    db.session.commit()


def notifications(recipient: Account, type_: str) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification).where(Notification.account_id == recipient.id, Notification.type == type_)
        )
    )


def statuses_count(account: Account) -> int:
    db.session.expire_all()
    return db.session.get(Account, account.id).statuses_count


def fetch(client, status_id: str, headers: dict | None = None):
    return client.get(f"/api/v1/statuses/{status_id}", headers=headers or {})


# ---------------------------------------------------------------------------------------------
# POST /api/v1/statuses


def test_create_status_renders_mention_and_hashtag_like_pleroma(client, account, bob, alice_h):
    body = post(client, alice_h, status="hi @bob #cofe")
    assert body["content"] == (
        f'hi <span class="h-card"><a class="u-url mention" data-user="{bob.id}" '
        f'href="{BASE}/users/bob" rel="ugc">@<span>bob</span></a></span> '
        f'<a class="hashtag" data-tag="cofe" href="{BASE}/tag/cofe" rel="tag ugc">#cofe</a>'
    )
    assert body["mentions"] == [{"id": bob.id, "username": "bob", "acct": "bob", "url": f"{BASE}/users/bob"}]
    assert body["tags"] == [{"name": "cofe", "url": f"{BASE}/tag/cofe"}]
    assert body["visibility"] == "public"
    assert body["application"] == {"name": "Test client", "website": None}
    assert body["url"] == f"{BASE}/notice/{body['id']}"
    assert body["text"] is None
    assert body["account"]["id"] == account.id
    assert body["account"]["statuses_count"] == 1
    assert [n.status_id for n in notifications(bob, "mention")] == [body["id"]]


def test_create_status_accepts_form_and_multipart(client, account, alice_h):
    form = client.post(
        "/api/v1/statuses", data={"status": "from a form", "visibility": "unlisted"}, headers=alice_h
    )
    assert form.status_code == 200
    assert form.get_json()["content"] == "from a form"
    assert form.get_json()["visibility"] == "unlisted"
    multipart = client.post(
        "/api/v1/statuses",
        data={"status": "multi\npart", "sensitive": "true", "spoiler_text": "cw"},
        headers=alice_h,
        content_type="multipart/form-data",
    )
    assert multipart.status_code == 200
    assert multipart.get_json()["content"] == "multi<br>part"
    assert multipart.get_json()["sensitive"] is True
    assert multipart.get_json()["spoiler_text"] == "cw"


def test_status_and_reblog_name_the_tokens_app_with_its_website(client, account, bob):
    registered = client.post(
        "/api/v1/apps",
        data={
            "client_name": "Site client",
            "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
            "scopes": "read write",
            "website": "https://client.example",
        },
    ).get_json()
    headers = {"Authorization": f"Bearer {password_token(client, registered, 'alice', 'read write')}"}
    with sql_log() as statements:
        body = post(client, headers, status="from a client with a website")
    app = {"name": "Site client", "website": "https://client.example"}
    assert body["application"] == app
    # The token lookup (on readcache's probe) brings the app's name and website: the session
    # does not load the token and its app again.
    assert not [s for s in statements if "oauth_token" in s or "oauth_app" in s]
    bob_post = client.post("/api/v1/statuses", json={"status": "bob's"}, headers=basic_headers("bob"))
    reblog = client.post(f"/api/v1/statuses/{bob_post.get_json()['id']}/reblog", headers=headers)
    assert reblog.status_code == 200
    assert reblog.get_json()["application"] == app


def test_create_status_with_basic_auth_has_no_application(client, account):
    response = client.post("/api/v1/statuses", json={"status": "basic"}, headers=basic_headers("alice"))
    assert response.status_code == 200
    assert response.get_json()["application"] is None


def test_create_status_markdown(client, account, alice_h):
    body = post(client, alice_h, status="**x**", content_type="text/markdown")
    assert "<strong>x</strong>" in body["content"]
    source = client.get(f"/api/v1/statuses/{body['id']}/source", headers=alice_h).get_json()
    assert source == {"id": body["id"], "text": "**x**", "spoiler_text": "", "content_type": "text/markdown"}


def test_create_status_multipart_with_media_ids(client, account, bob, alice_h):
    mine = [Media(account_id=account.id, path=f"m/{i}.png", mime_type="image/png") for i in range(2)]
    theirs = Media(account_id=bob.id, path="b.png", mime_type="image/png")
    db.session.add_all([*mine, theirs])
    db.session.commit()
    wanted = [mine[1].id, theirs.id, "nonexistent", mine[0].id]
    response = client.post(
        "/api/v1/statuses",
        data={"status": "", "media_ids[]": wanted},
        headers=alice_h,
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_json()
    attachments = response.get_json()["media_attachments"]
    # others' and unknown ids are ignored; the order asked is kept
    assert [a["id"] for a in attachments] == [mine[1].id, mine[0].id]
    assert attachments[0]["type"] == "image"


def test_create_status_requires_auth(client, account):
    response = client.post("/api/v1/statuses", json={"status": "x"})
    assert response.status_code == 403
    assert response.get_json() == {"error": "Invalid credentials."}


def test_create_status_requires_write_statuses(client, account, auth_headers):
    response = client.post("/api/v1/statuses", json={"status": "x"}, headers=auth_headers(account, "read"))
    assert response.status_code == 403
    assert response.get_json() == {"error": "Insufficient permissions: write:statuses."}


def test_create_status_with_granular_scope(client, account, auth_headers):
    response = client.post(
        "/api/v1/statuses", json={"status": "x"}, headers=auth_headers(account, "write:statuses")
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("data", "status", "error"),
    [
        ({"status": "  "}, 422, "Cannot post an empty status without attachments"),
        ({}, 422, "Cannot post an empty status without attachments"),
        ({"status": "x" * 5001}, 422, "The status is over the character limit"),
        ({"status": "x", "visibility": "everyone"}, 400, "visibility - Invalid value for enum."),
        ({"status": "x", "language": "xx"}, 422, "Invalid language"),
        ({"status": "x", "language": "english"}, 422, "Invalid language"),
        ({"status": "x", "expires_in": 60}, 422, "Expiry date is too soon"),
        ({"status": "x", "expires_in": "soon"}, 400, "expires_in - Not a valid integer."),
        ({"status": "x", "quote_id": "nonexistent"}, 422, "You can't quote a status that doesn't exist"),
        ({"status": "x", "in_reply_to_id": "nonexistent"}, 404, "Record not found"),
        ({"status": "x", "visibility": "list:1"}, 422, "List visibility is not supported"),
    ],
)
def test_create_status_rejects_bad_input(client, account, alice_h, data, status, error):
    response = client.post("/api/v1/statuses", json=data, headers=alice_h)
    assert response.status_code == status
    assert response.get_json() == {"error": error}
    assert statuses_count(account) == 0


def test_create_status_language(client, account, alice_h):
    assert post(client, alice_h, status="x", language="ja")["language"] == "ja"
    assert post(client, alice_h, status="x", language="")["language"] is None


def test_create_status_idempotency_key(client, account, alice_h):
    headers = alice_h | {"Idempotency-Key": "abc"}
    first = client.post("/api/v1/statuses", json={"status": "once"}, headers=headers).get_json()
    again = client.post("/api/v1/statuses", json={"status": "once"}, headers=headers).get_json()
    other = client.post(
        "/api/v1/statuses", json={"status": "once"}, headers=alice_h | {"Idempotency-Key": "xyz"}
    )
    assert again["id"] == first["id"]
    assert other.get_json()["id"] != first["id"]
    assert statuses_count(account) == 2


def test_create_status_idempotency_key_expires_after_an_hour(client, account, alice_h):
    headers = alice_h | {"Idempotency-Key": "old"}
    first = client.post("/api/v1/statuses", json={"status": "a"}, headers=headers).get_json()
    db.session.execute(update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=2)))
    db.session.commit()
    second = client.post("/api/v1/statuses", json={"status": "b"}, headers=headers)
    assert second.status_code == 200
    assert second.get_json()["id"] != first["id"]
    third = client.post("/api/v1/statuses", json={"status": "c"}, headers=headers)
    assert third.get_json()["id"] == second.get_json()["id"]


def test_create_status_idempotency_key_is_per_account(client, account, bob, alice_h, bob_h):
    first = client.post("/api/v1/statuses", json={"status": "a"}, headers=alice_h | {"Idempotency-Key": "k"})
    second = client.post("/api/v1/statuses", json={"status": "b"}, headers=bob_h | {"Idempotency-Key": "k"})
    assert first.get_json()["id"] != second.get_json()["id"]
    assert second.get_json()["content"] == "b"


def test_create_status_preview_saves_nothing(client, account, bob, alice_h):
    body = post(client, alice_h, status="hi @bob", preview="true")
    assert body["content"].startswith('hi <span class="h-card">')
    assert fetch(client, body["id"], alice_h).status_code == 404
    assert statuses_count(account) == 0
    assert notifications(bob, "mention") == []


def test_create_status_expires_in_schedules_deletion(client, app, account, alice_h):
    body = post(client, alice_h, status="soon gone", expires_in=3600)
    assert body["pleroma"]["expires_at"] is not None
    scheduled = app.extensions["kenoma_jobs"].huey.scheduled()
    assert len(scheduled) == 1
    assert scheduled[0].args == ("expire_status", {"status_id": body["id"]})
    # the job itself, as the consumer would run it when the time comes
    interactions.expire_status(body["id"])
    assert fetch(client, body["id"], alice_h).status_code == 404
    assert statuses_count(account) == 0
    interactions.expire_status(body["id"])  # a second run finds nothing to do


def test_create_status_reads_first_and_renders_without_loading_again(client, account, bob, alice_h):
    with sql_log() as log:
        body = post(client, alice_h, status="hi @bob #cofe")
    assert [m["id"] for m in body["mentions"]] == [bob.id]
    assert [t["name"] for t in body["tags"]] == ["cofe"]
    assert body["account"]["statuses_count"] == 1
    assert body["account"]["last_status_at"] == body["created_at"]
    # SQLite writers queue for one lock: it is held for the writes only, nothing read under it.
    first_write = next(i for i, sql in enumerate(log) if sql.startswith(("INSERT", "UPDATE", "DELETE")))
    commit = log.index("COMMIT")
    writes = [" ".join(sql.split()[:3]) for sql in log[first_write:commit]]
    assert writes == [
        "INSERT INTO context",
        "INSERT INTO status",
        "UPDATE account SET",
        "INSERT INTO status_mention",
        "INSERT INTO status_tag",
        "INSERT INTO notification",
    ]
    # The new status and its author are not loaded again after the commit.
    after = log[commit + 1 :]
    assert not [sql for sql in after if sql.startswith(("SELECT status.", "SELECT account."))]
    assert len(after) == 1  # the per-status facts (mentions, tags...) of the answer


def test_create_status_answers_what_reading_it_back_answers(client, account, bob, alice_h):
    root = post(client, alice_h, status="root")
    body = post(
        client,
        alice_h,
        status="re @bob #cofe :blank:",
        in_reply_to_id=root["id"],
        spoiler_text="cw",
        sensitive="true",
        language="en",
        expires_in=7200,
        visibility="unlisted",
    )
    assert body == fetch(client, body["id"], alice_h).get_json()
    direct = post(client, alice_h, status="@bob psst", visibility="direct")
    assert direct["pleroma"]["direct_conversation_id"] is not None
    assert direct == fetch(client, direct["id"], alice_h).get_json()


def test_create_status_reply_leaves_the_loaded_rows_true(client, account, bob, bob_h):
    parent = post_status(account, NewStatus(text="root"))
    reply = post_status(bob, NewStatus(text="re", in_reply_to_id=parent.id))
    # No reload after the commit: the counters came back with their updates.
    assert (parent.replies_count, account.statuses_count, bob.statuses_count) == (1, 1, 1)
    assert bob.last_status_at == reply.created_at
    reply.visibility = "unlisted"  # the new status is in the session like any loaded row
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Status, reply.id).visibility == "unlisted"
    assert db.session.get(Status, parent.id).replies_count == 1
    assert fetch(client, parent.id, bob_h).get_json()["replies_count"] == 1
    assert fetch(client, reply.id, bob_h).get_json()["pleroma"]["conversation_id"] == parent.context_id


def test_create_status_quote(client, account, bob, alice_h, bob_h):
    public = post(client, bob_h, status="quotable")
    private = post(client, bob_h, status="followers only", visibility="private")
    follow(account, bob)
    quoting = post(client, alice_h, status="look", quote_id=public["id"])
    assert quoting["quote_id"] == public["id"]
    response = client.post(
        "/api/v1/statuses", json={"status": "x", "quote_id": private["id"]}, headers=alice_h
    )
    assert response.status_code == 422
    assert response.get_json() == {"error": "You can only quote public or unlisted statuses"}


def test_create_status_quote_of_invisible_status_does_not_exist(client, account, bob, alice_h, bob_h):
    direct = post(client, bob_h, status="secret", visibility="direct")
    response = client.post(
        "/api/v1/statuses", json={"status": "x", "quote_id": direct["id"]}, headers=alice_h
    )
    assert response.status_code == 422
    assert response.get_json() == {"error": "You can't quote a status that doesn't exist"}


def test_direct_status_is_seen_only_by_addressed(client, account, bob, carol, alice_h, bob_h, carol_h):
    dm = post(client, alice_h, status="@bob psst", visibility="direct")
    assert dm["visibility"] == "direct"
    assert dm["pleroma"]["direct_conversation_id"] is not None
    assert fetch(client, dm["id"], bob_h).status_code == 200
    for headers in (carol_h, None):
        response = fetch(client, dm["id"], headers)
        assert response.status_code == 404
        assert response.get_json() == {"error": "Record not found"}


def test_direct_reply_without_mention_reaches_dm_author(client, account, bob, carol, alice_h, bob_h, carol_h):
    dm = post(client, alice_h, status="@bob psst", visibility="direct")
    reply = post(client, bob_h, status="ok", in_reply_to_id=dm["id"], visibility="direct")
    assert reply["visibility"] == "direct"
    assert reply["in_reply_to_id"] == dm["id"]
    assert reply["pleroma"]["conversation_id"] == dm["pleroma"]["conversation_id"]
    assert fetch(client, reply["id"], alice_h).status_code == 200
    assert fetch(client, reply["id"], carol_h).status_code == 404
    assert [n.status_id for n in notifications(account, "mention")] == [reply["id"]]
    alice_participation = db.session.scalar(
        select(Participation).where(Participation.account_id == account.id)
    )
    assert alice_participation.is_unread is True
    assert alice_participation.last_status_id == reply["id"]


def test_reply_to_direct_defaults_to_direct(client, account, bob, alice_h, bob_h):
    dm = post(client, alice_h, status="@bob psst", visibility="direct")
    reply = post(client, bob_h, status="ok", in_reply_to_id=dm["id"])
    assert reply["visibility"] == "direct"


def test_private_reply_to_public_status_does_not_address_its_author(client, account, bob, alice_h, bob_h):
    original = post(client, alice_h, status="public post")
    reply = post(client, bob_h, status="followers only", in_reply_to_id=original["id"], visibility="private")
    assert fetch(client, reply["id"], alice_h).status_code == 404
    public_reply = post(client, bob_h, status="open", in_reply_to_id=original["id"])
    assert [n.status_id for n in notifications(account, "mention")] == [public_reply["id"]]
    assert fetch(client, original["id"]).get_json()["replies_count"] == 2


def test_reply_to_invisible_status_is_not_found(client, account, bob, carol_h, bob_h):
    private = post(client, bob_h, status="mine", visibility="private")
    response = client.post(
        "/api/v1/statuses", json={"status": "x", "in_reply_to_id": private["id"]}, headers=carol_h
    )
    assert response.status_code == 404


def test_explicit_to_addresses_instead_of_mentions(client, account, bob, carol, alice_h, bob_h, carol_h):
    dm = post(client, alice_h, status="@bob only bob?", visibility="direct", to=["carol"])
    assert fetch(client, dm["id"], carol_h).status_code == 200
    assert fetch(client, dm["id"], bob_h).status_code == 404


def test_reply_in_conversation_uses_its_recipients(client, account, bob, alice_h, bob_h):
    dm = post(client, alice_h, status="@bob psst", visibility="direct")
    bobs = fetch(client, dm["id"], bob_h).get_json()["pleroma"]["direct_conversation_id"]
    reply = post(client, bob_h, status="no mention", in_reply_to_conversation_id=bobs)
    assert reply["visibility"] == "direct"
    assert fetch(client, reply["id"], alice_h).status_code == 200
    mixed = client.post(
        "/api/v1/statuses",
        json={"status": "x", "in_reply_to_conversation_id": bobs, "visibility": "public"},
        headers=bob_h,
    )
    assert mixed.status_code == 422
    assert mixed.get_json() == {"error": "The message visibility must be direct"}
    foreign = client.post(
        "/api/v1/statuses", json={"status": "x", "in_reply_to_conversation_id": bobs}, headers=alice_h
    )
    assert foreign.status_code == 422
    assert foreign.get_json() == {"error": "Unknown conversation id"}


# ---------------------------------------------------------------------------------------------
# GET /api/v1/statuses/:id and ?ids[]=


def test_show_status_anonymous_and_private(client, account, bob, alice_h, bob_h, auth_headers):
    public = post(client, alice_h, status="hello")
    private = post(client, alice_h, status="friends", visibility="private")
    assert fetch(client, public["id"]).get_json()["content"] == "hello"
    assert fetch(client, private["id"]).status_code == 404
    assert fetch(client, private["id"], bob_h).status_code == 404
    follow(bob, account)
    assert fetch(client, private["id"], bob_h).status_code == 200
    # a token without read:statuses reads as anonymous (SPEC 1.1), it does not fail
    assert fetch(client, private["id"], auth_headers(bob, "write")).status_code == 404
    assert fetch(client, public["id"], auth_headers(bob, "write")).status_code == 200


def test_show_status_personalised(client, account, bob, alice_h, bob_h):
    status = post(client, alice_h, status="hello")
    client.post(f"/api/v1/statuses/{status['id']}/favourite", headers=bob_h)
    assert fetch(client, status["id"], bob_h).get_json()["favourited"] is True
    assert fetch(client, status["id"]).get_json()["favourited"] is False


def test_show_status_unknown(client):
    response = fetch(client, "nonexistent")
    assert response.status_code == 404
    assert response.get_json() == {"error": "Record not found"}


def test_list_statuses_keeps_request_order_and_hides_invisible(client, account, bob, alice_h, bob_h):
    one = post(client, alice_h, status="one")
    two = post(client, alice_h, status="two")
    hidden = post(client, alice_h, status="hidden", visibility="direct")
    response = client.get(
        f"/api/v1/statuses?ids[]={two['id']}&ids[]={hidden['id']}&ids[]=nope&ids[]={one['id']}", headers=bob_h
    )
    assert response.status_code == 200
    assert [s["id"] for s in response.get_json()] == [two["id"], one["id"]]
    mastodon_style = client.get(f"/api/v1/statuses?id[]={one['id']}&id[]={hidden['id']}", headers=alice_h)
    assert [s["id"] for s in mastodon_style.get_json()] == [one["id"], hidden["id"]]
    assert client.get("/api/v1/statuses").get_json() == []


# ---------------------------------------------------------------------------------------------
# DELETE /api/v1/statuses/:id


def test_delete_status_returns_source_and_cleans_up(client, account, bob, carol, alice_h, bob_h, carol_h):
    parent = post(client, bob_h, status="parent")
    status = post(client, alice_h, status="**gone** @bob", in_reply_to_id=parent["id"])
    sid = status["id"]
    client.post(f"/api/v1/statuses/{sid}/favourite", headers=bob_h)
    client.post(f"/api/v1/statuses/{sid}/bookmark", headers=bob_h)
    reblog = client.post(f"/api/v1/statuses/{sid}/reblog", headers=carol_h).get_json()
    assert fetch(client, parent["id"]).get_json()["replies_count"] == 1
    assert statuses_count(account) == 1

    response = client.delete(f"/api/v1/statuses/{sid}", headers=alice_h)
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == sid
    assert body["text"] == "**gone** @bob"
    assert fetch(client, sid, alice_h).status_code == 404
    assert fetch(client, reblog["id"], alice_h).status_code == 404
    assert statuses_count(account) == 0
    assert fetch(client, parent["id"]).get_json()["replies_count"] == 0
    assert db.session.scalars(select(Favourite)).all() == []
    assert db.session.scalars(select(Bookmark)).all() == []
    assert notifications(bob, "mention") == [] and notifications(bob, "favourite") == []
    assert notifications(account, "reblog") == []


def test_delete_parent_leaves_reply_pointing_at_it(client, account, bob, alice_h, bob_h):
    parent = post(client, alice_h, status="parent")
    reply = post(client, bob_h, status="reply", in_reply_to_id=parent["id"])
    client.delete(f"/api/v1/statuses/{parent['id']}", headers=alice_h)
    body = fetch(client, reply["id"]).get_json()
    assert body["in_reply_to_id"] == parent["id"]
    assert body["pleroma"]["parent_visible"] is False


def test_delete_status_of_someone_else_is_not_found(client, account, bob, alice_h, bob_h):
    status = post(client, alice_h, status="mine")
    response = client.delete(f"/api/v1/statuses/{status['id']}", headers=bob_h)
    assert response.status_code == 404
    assert response.get_json() == {"error": "Record not found"}
    assert client.delete("/api/v1/statuses/nonexistent", headers=bob_h).status_code == 404
    assert fetch(client, status["id"]).status_code == 200


def test_admin_deletes_any_status(client, account, make_account, auth_headers, alice_h):
    admin = make_account("root", is_admin=True)
    status = post(client, alice_h, status="bad post")
    response = client.delete(f"/api/v1/statuses/{status['id']}", headers=auth_headers(admin))
    assert response.status_code == 200
    assert statuses_count(account) == 0


def test_delete_status_auth_and_scope(client, account, alice_h, auth_headers):
    status = post(client, alice_h, status="x")
    assert client.delete(f"/api/v1/statuses/{status['id']}").get_json() == {"error": "Invalid credentials."}
    response = client.delete(
        f"/api/v1/statuses/{status['id']}", headers=auth_headers(account, "read write:favourites")
    )
    assert response.status_code == 403
    assert response.get_json() == {"error": "Insufficient permissions: write:statuses."}


def test_delete_last_direct_status_rewinds_conversation(client, account, bob, alice_h, bob_h):
    dm = post(client, alice_h, status="@bob first", visibility="direct")
    reply = post(client, bob_h, status="second", in_reply_to_id=dm["id"])
    client.delete(f"/api/v1/statuses/{reply['id']}", headers=bob_h)
    lasts = set(db.session.scalars(select(Participation.last_status_id)))
    assert lasts == {dm["id"]}


# ---------------------------------------------------------------------------------------------
# GET source and context


def test_show_source_visibility(client, account, bob_h, alice_h):
    status = post(client, alice_h, status="secret", visibility="direct", spoiler_text="cw")
    assert client.get(f"/api/v1/statuses/{status['id']}/source", headers=alice_h).get_json() == {
        "id": status["id"],
        "text": "secret",
        "spoiler_text": "cw",
        "content_type": "text/plain",
    }
    response = client.get(f"/api/v1/statuses/{status['id']}/source", headers=bob_h)
    assert response.status_code == 404


def _thread(client, alice_h, bob_h) -> dict[str, str]:
    """root ← a ← a1, root ← b (direct to nobody but bob) ← b1, a ← a2; ids by name."""
    ids: dict[str, str] = {}
    ids["root"] = post(client, alice_h, status="root")["id"]
    ids["a"] = post(client, bob_h, status="a", in_reply_to_id=ids["root"])["id"]
    ids["b"] = post(client, bob_h, status="b", in_reply_to_id=ids["root"], visibility="direct")["id"]
    ids["a1"] = post(client, alice_h, status="a1", in_reply_to_id=ids["a"])["id"]
    ids["b1"] = post(client, bob_h, status="b1", in_reply_to_id=ids["b"], visibility="public")["id"]
    ids["a2"] = post(client, bob_h, status="a2", in_reply_to_id=ids["a"])["id"]
    return ids


def test_context_orders_ancestors_and_descendants(client, account, bob, carol, alice_h, bob_h, carol_h):
    ids = _thread(client, alice_h, bob_h)
    names = {v: k for k, v in ids.items()}
    context = client.get(f"/api/v1/statuses/{ids['root']}/context", headers=bob_h).get_json()
    assert context["ancestors"] == []
    assert [names[s["id"]] for s in context["descendants"]] == ["a", "a1", "a2", "b", "b1"]
    # carol may not see b (direct), but its visible reply still shows
    context = client.get(f"/api/v1/statuses/{ids['root']}/context", headers=carol_h).get_json()
    assert [names[s["id"]] for s in context["descendants"]] == ["a", "a1", "a2", "b1"]
    context = client.get(f"/api/v1/statuses/{ids['a1']}/context").get_json()
    assert [names[s["id"]] for s in context["ancestors"]] == ["root", "a"]
    assert context["descendants"] == []
    context = client.get(f"/api/v1/statuses/{ids['b1']}/context", headers=carol_h).get_json()
    assert [names[s["id"]] for s in context["ancestors"]] == ["root"]


def test_context_of_invisible_status_is_not_found(client, account, bob_h, alice_h):
    dm = post(client, alice_h, status="secret", visibility="direct")
    response = client.get(f"/api/v1/statuses/{dm['id']}/context", headers=bob_h)
    assert response.status_code == 404
    assert response.get_json() == {"error": "Record not found"}


def test_context_query_count_does_not_grow_with_the_thread(
    client, account, bob, alice_h, bob_h, count_queries
):
    root = post(client, alice_h, status="root")["id"]
    parent = root
    for i in range(3):
        parent = post(client, bob_h, status=f"r{i}", in_reply_to_id=parent)["id"]
    with count_queries() as small:
        client.get(f"/api/v1/statuses/{root}/context", headers=bob_h)
    for i in range(6):
        parent = post(client, alice_h if i % 2 else bob_h, status=f"s{i}", in_reply_to_id=parent)["id"]
    with count_queries() as large:
        response = client.get(f"/api/v1/statuses/{root}/context", headers=bob_h)
    assert len(response.get_json()["descendants"]) == 9
    assert large.count == small.count


# ---------------------------------------------------------------------------------------------
# favourite / unfavourite


def test_favourite_and_unfavourite(client, account, bob, alice_h, bob_h):
    status = post(client, alice_h, status="like me")
    sid = status["id"]
    response = client.post(f"/api/v1/statuses/{sid}/favourite", headers=bob_h)
    assert response.status_code == 200
    assert response.get_json()["favourited"] is True
    assert response.get_json()["favourites_count"] == 1
    again = client.post(f"/api/v1/statuses/{sid}/favourite", headers=bob_h).get_json()
    assert again["favourites_count"] == 1
    assert [n.status_id for n in notifications(account, "favourite")] == [sid]

    response = client.post(f"/api/v1/statuses/{sid}/unfavourite", headers=bob_h)
    assert response.status_code == 200
    assert response.get_json()["favourited"] is False
    assert response.get_json()["favourites_count"] == 0
    assert (
        client.post(f"/api/v1/statuses/{sid}/unfavourite", headers=bob_h).get_json()["favourites_count"] == 0
    )
    assert notifications(account, "favourite") == []


def test_favourite_own_status_does_not_notify(client, account, alice_h):
    status = post(client, alice_h, status="me me")
    body = client.post(f"/api/v1/statuses/{status['id']}/favourite", headers=alice_h).get_json()
    assert body["favourites_count"] == 1
    assert notifications(account, "favourite") == []


def test_favourite_of_a_reblog_favourites_the_original(client, account, bob, alice_h, bob_h):
    status = post(client, alice_h, status="original")
    wrapper = client.post(f"/api/v1/statuses/{status['id']}/reblog", headers=bob_h).get_json()
    body = client.post(f"/api/v1/statuses/{wrapper['id']}/favourite", headers=bob_h).get_json()
    assert body["id"] == status["id"]
    assert body["favourites_count"] == 1


def test_favourite_errors(client, account, bob, alice_h, bob_h, auth_headers):
    dm = post(client, alice_h, status="secret", visibility="direct")
    public = post(client, alice_h, status="open")
    response = client.post(f"/api/v1/statuses/{dm['id']}/favourite", headers=bob_h)
    assert response.status_code == 404
    assert response.get_json() == {"error": "Record not found"}
    assert client.post("/api/v1/statuses/nope/favourite", headers=bob_h).status_code == 404
    assert client.post(f"/api/v1/statuses/{public['id']}/favourite").get_json() == {
        "error": "Invalid credentials."
    }
    response = client.post(
        f"/api/v1/statuses/{public['id']}/unfavourite", headers=auth_headers(bob, "read write:statuses")
    )
    assert response.status_code == 403
    assert response.get_json() == {"error": "Insufficient permissions: write:favourites."}


# ---------------------------------------------------------------------------------------------
# reblog / unreblog


def test_reblog_and_unreblog(client, account, bob, alice_h, bob_h):
    status = post(client, alice_h, status="share me")
    sid = status["id"]
    response = client.post(f"/api/v1/statuses/{sid}/reblog", headers=bob_h)
    assert response.status_code == 200
    wrapper = response.get_json()
    assert wrapper["id"] != sid
    assert wrapper["account"]["id"] == bob.id
    assert wrapper["content"] == ""
    assert wrapper["visibility"] == "public"
    assert wrapper["reblog"]["id"] == sid
    assert wrapper["reblog"]["reblogged"] is True
    assert wrapper["reblog"]["reblogs_count"] == 1
    again = client.post(f"/api/v1/statuses/{sid}/reblog", headers=bob_h).get_json()
    assert again["id"] == wrapper["id"]
    assert fetch(client, sid).get_json()["reblogs_count"] == 1
    assert [n.status_id for n in notifications(account, "reblog")] == [sid]
    assert statuses_count(bob) == 0  # Pleroma counts notes only

    response = client.post(f"/api/v1/statuses/{sid}/unreblog", headers=bob_h)
    assert response.status_code == 200
    original = response.get_json()
    assert original["id"] == sid
    assert original["reblogged"] is False
    assert original["reblogs_count"] == 0
    assert fetch(client, wrapper["id"]).status_code == 404
    assert notifications(account, "reblog") == []


def test_reblog_visibility(client, account, bob, alice_h, bob_h):
    public = post(client, alice_h, status="x")
    wrapper = client.post(
        f"/api/v1/statuses/{public['id']}/reblog", data={"visibility": "unlisted"}, headers=bob_h
    )
    assert wrapper.get_json()["visibility"] == "unlisted"
    bad = client.post(f"/api/v1/statuses/{public['id']}/reblog", json={"visibility": "loud"}, headers=bob_h)
    assert bad.status_code == 400
    assert bad.get_json() == {"error": "visibility - Must be one of: public, unlisted, private."}


def test_reblog_private_only_own(client, account, bob, alice_h, bob_h):
    private = post(client, alice_h, status="followers", visibility="private")
    follow(bob, account)
    response = client.post(f"/api/v1/statuses/{private['id']}/reblog", headers=bob_h)
    assert response.status_code == 404
    assert response.get_json() == {"error": "Record not found"}
    own = client.post(f"/api/v1/statuses/{private['id']}/reblog", headers=alice_h)
    assert own.status_code == 200
    assert own.get_json()["visibility"] == "private"
    dm = post(client, alice_h, status="@bob hi", visibility="direct")
    assert client.post(f"/api/v1/statuses/{dm['id']}/reblog", headers=bob_h).status_code == 404


def test_reblogs_auth_and_scope(client, account, bob, alice_h, auth_headers):
    status = post(client, alice_h, status="x")
    assert client.post(f"/api/v1/statuses/{status['id']}/reblog").status_code == 403
    response = client.post(
        f"/api/v1/statuses/{status['id']}/unreblog", headers=auth_headers(bob, "write:favourites")
    )
    assert response.get_json() == {"error": "Insufficient permissions: write:statuses."}


def test_delete_own_reblog_undoes_it(client, account, bob, alice_h, bob_h):
    status = post(client, alice_h, status="x")
    wrapper = client.post(f"/api/v1/statuses/{status['id']}/reblog", headers=bob_h).get_json()
    assert client.delete(f"/api/v1/statuses/{wrapper['id']}", headers=bob_h).status_code == 200
    assert fetch(client, status["id"]).get_json()["reblogs_count"] == 0
    assert notifications(account, "reblog") == []


# ---------------------------------------------------------------------------------------------
# bookmark, pin, mute


def test_bookmark_and_unbookmark(client, account, bob, alice_h, bob_h, auth_headers):
    status = post(client, alice_h, status="for later")
    sid = status["id"]
    # Filing into folders (and the 403 for someone else's) is tested with bookmark folders.
    response = client.post(f"/api/v1/statuses/{sid}/bookmark", headers=bob_h)
    assert response.status_code == 200
    assert response.get_json()["bookmarked"] is True
    assert client.post(f"/api/v1/statuses/{sid}/bookmark", headers=bob_h).get_json()["bookmarked"] is True
    assert fetch(client, sid, alice_h).get_json()["bookmarked"] is False
    response = client.post(f"/api/v1/statuses/{sid}/unbookmark", headers=bob_h)
    assert response.get_json()["bookmarked"] is False
    assert client.post(f"/api/v1/statuses/{sid}/bookmark").status_code == 403
    response = client.post(f"/api/v1/statuses/{sid}/bookmark", headers=auth_headers(bob, "write:statuses"))
    assert response.get_json() == {"error": "Insufficient permissions: write:bookmarks."}
    assert client.post("/api/v1/statuses/nope/bookmark", headers=bob_h).status_code == 404


def test_pin_and_unpin(client, account, alice_h):
    status = post(client, alice_h, status="pinned")
    response = client.post(f"/api/v1/statuses/{status['id']}/pin", headers=alice_h)
    assert response.status_code == 200
    assert response.get_json()["pinned"] is True
    assert response.get_json()["pleroma"]["pinned_at"] is not None
    response = client.post(f"/api/v1/statuses/{status['id']}/unpin", headers=alice_h)
    assert response.get_json()["pinned"] is False


def test_pin_errors(client, account, bob, alice_h, bob_h, auth_headers):
    theirs = post(client, bob_h, status="bob's")
    response = client.post(f"/api/v1/statuses/{theirs['id']}/pin", headers=alice_h)
    assert response.status_code == 422
    assert response.get_json() == {"error": "Someone else's status cannot be pinned"}
    private = post(client, alice_h, status="p", visibility="private")
    response = client.post(f"/api/v1/statuses/{private['id']}/pin", headers=alice_h)
    assert response.status_code == 422
    assert response.get_json() == {"error": "Non-public status cannot be pinned"}
    for i in range(5):
        status = post(client, alice_h, status=f"pin {i}", visibility="unlisted" if i % 2 else "public")
        assert client.post(f"/api/v1/statuses/{status['id']}/pin", headers=alice_h).status_code == 200
    sixth = post(client, alice_h, status="one too many")
    response = client.post(f"/api/v1/statuses/{sixth['id']}/pin", headers=alice_h)
    assert response.status_code == 400
    assert response.get_json() == {"error": "You have already pinned the maximum number of statuses"}
    response = client.post(
        f"/api/v1/statuses/{sixth['id']}/pin", headers=auth_headers(account, "write:statuses")
    )
    assert response.get_json() == {"error": "Insufficient permissions: write:accounts."}
    assert client.post(f"/api/v1/statuses/{sixth['id']}/unpin").status_code == 403


def test_mute_thread_silences_notifications(client, account, bob, alice_h, bob_h, auth_headers):
    root = post(client, alice_h, status="thread")
    reply = post(client, bob_h, status="reply", in_reply_to_id=root["id"])
    response = client.post(f"/api/v1/statuses/{reply['id']}/mute", headers=alice_h)
    assert response.status_code == 200
    assert response.get_json()["muted"] is True
    assert response.get_json()["pleroma"]["thread_muted"] is True
    assert fetch(client, root["id"], alice_h).get_json()["muted"] is True
    client.post(f"/api/v1/statuses/{root['id']}/favourite", headers=bob_h)
    assert notifications(account, "favourite") == []
    response = client.post(f"/api/v1/statuses/{root['id']}/unmute", headers=alice_h)
    assert response.get_json()["muted"] is False
    client.post(f"/api/v1/statuses/{root['id']}/reblog", headers=bob_h)
    assert len(notifications(account, "reblog")) == 1
    response = client.post(
        f"/api/v1/statuses/{root['id']}/mute", headers=auth_headers(account, "write:statuses")
    )
    assert response.get_json() == {"error": "Insufficient permissions: write:mutes."}
    # the legacy `follow` scope covers write:mutes
    assert (
        client.post(
            f"/api/v1/statuses/{root['id']}/mute", headers=auth_headers(account, "follow")
        ).status_code
        == 200
    )


# ---------------------------------------------------------------------------------------------
# favourited_by / reblogged_by


def test_favourited_by_pages_with_link(client, account, make_account, auth_headers, alice_h):
    status = post(client, alice_h, status="popular")
    fans = [make_account(f"fan{i}") for i in range(3)]
    for fan in fans:
        client.post(f"/api/v1/statuses/{status['id']}/favourite", headers=auth_headers(fan))
    response = client.get(f"/api/v1/statuses/{status['id']}/favourited_by?limit=2")
    assert response.status_code == 200
    assert [a["username"] for a in response.get_json()] == ["fan2", "fan1"]
    link = response.headers["Link"]
    assert 'rel="next"' in link and 'rel="prev"' in link
    next_url = link.split(">")[0].lstrip("<").removeprefix(BASE)
    assert "limit=2" in next_url
    assert [a["username"] for a in client.get(next_url).get_json()] == ["fan0"]


def test_reblogged_by(client, account, bob, carol, alice_h, bob_h, carol_h):
    status = post(client, alice_h, status="share")
    client.post(f"/api/v1/statuses/{status['id']}/reblog", headers=bob_h)
    client.post(f"/api/v1/statuses/{status['id']}/reblog", headers=carol_h)
    response = client.get(f"/api/v1/statuses/{status['id']}/reblogged_by", headers=alice_h)
    assert response.status_code == 200
    assert [a["username"] for a in response.get_json()] == ["carol", "bob"]
    assert "Link" in response.headers
    empty = post(client, alice_h, status="nobody")
    response = client.get(f"/api/v1/statuses/{empty['id']}/reblogged_by")
    assert response.get_json() == [] and "Link" not in response.headers


def test_favourited_by_of_invisible_status_is_not_found(client, account, alice_h, bob_h):
    dm = post(client, alice_h, status="secret", visibility="direct")
    for path in ("favourited_by", "reblogged_by"):
        response = client.get(f"/api/v1/statuses/{dm['id']}/{path}", headers=bob_h)
        assert response.status_code == 404
        assert response.get_json() == {"error": "Record not found"}


def test_counters_survive_a_round_trip(client, account, bob, alice_h, bob_h):
    """favourite + reblog + reply, then undo them all: every counter is back at zero."""
    status = post(client, alice_h, status="count me")
    sid = status["id"]
    client.post(f"/api/v1/statuses/{sid}/favourite", headers=bob_h)
    client.post(f"/api/v1/statuses/{sid}/reblog", headers=bob_h)
    reply = post(client, bob_h, status="r", in_reply_to_id=sid)
    body = fetch(client, sid).get_json()
    assert (body["favourites_count"], body["reblogs_count"], body["replies_count"]) == (1, 1, 1)
    assert statuses_count(bob) == 1
    client.post(f"/api/v1/statuses/{sid}/unfavourite", headers=bob_h)
    client.post(f"/api/v1/statuses/{sid}/unreblog", headers=bob_h)
    client.delete(f"/api/v1/statuses/{reply['id']}", headers=bob_h)
    body = fetch(client, sid).get_json()
    assert (body["favourites_count"], body["reblogs_count"], body["replies_count"]) == (0, 0, 0)
    assert statuses_count(bob) == 0
    db.session.expire_all()
    stored = db.session.get(Status, sid)
    assert (stored.favourites_count, stored.reblogs_count, stored.replies_count) == (0, 0, 0)


def test_create_status_json_body_with_numbers_and_nulls(client, account, alice_h):
    """JSON clients (megalodon) send nulls for unset fields."""
    response = client.post(
        "/api/v1/statuses",
        data=json.dumps(
            {
                "status": "n",
                "in_reply_to_id": None,
                "media_ids": None,
                "spoiler_text": None,
                "visibility": None,
                "sensitive": None,
                "poll": None,
            }
        ),
        headers=alice_h | {"Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["visibility"] == "public"


def test_create_status_with_uploaded_file_field_is_ignored(client, account, alice_h):
    response = client.post(
        "/api/v1/statuses",
        data={"status": "file?", "extra": (io.BytesIO(b"x"), "x.txt")},
        headers=alice_h,
        content_type="multipart/form-data",
    )
    assert response.status_code == 200


def test_create_status_refuses_an_expiry_past_the_integer_range(client, alice_h):
    """Found by the fuzzing: expires_in=10**20 overflowed the date arithmetic (500)."""
    response = client.post(
        "/api/v1/statuses",
        data='{"status": "x", "expires_in": 100000000000000000000}',
        headers={**alice_h, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("expires_in - ")
