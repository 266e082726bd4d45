"""POST /api/v1/statuses (routes/statuses.py): posting, visibility, replies and quotes. Showing,
deleting and threads: test_statuses_show_delete.py; favourites, reblogs, bookmarks, pins and
thread mutes: test_statuses_interactions.py."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy import update

from models import Account
from models import IdempotencyKey
from models import Media
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
from tests.routes.statuses_helpers import BASE
from tests.routes.statuses_helpers import fetch
from tests.routes.statuses_helpers import follow
from tests.routes.statuses_helpers import notifications
from tests.routes.statuses_helpers import post
from tests.routes.statuses_helpers import statuses_count

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


@pytest.mark.parametrize(
    "data",
    [
        {"status": "plain words"},
        {"status": "#Zeta hi @bob and @carol #alpha #zeta @remy@remote.example", "visibility": "unlisted"},
        {"status": "me @alice and @bob", "spoiler_text": "cw <b>x</b>", "sensitive": True},
        {"status": "**bold** #md", "content_type": "text/markdown", "language": "en"},
        {"status": "to whom", "to": ["bob"], "visibility": "private"},
        {"status": "secret @bob", "visibility": "direct"},
        {"status": "filtered words", "expires_in": 7200},
    ],
)
def test_create_status_answers_what_reading_it_shows(client, account, bob, carol, alice_h, data):
    # The answer to a new post is built from what the writer knows (services.statuses
    # KnownFacts); it must be exactly what the author reads back from the database.
    remote = Account(nickname="remy", domain="remote.example", ap_id="https://remote.example/users/remy")
    db.session.add(remote)
    db.session.commit()
    keyword = {"phrase": "filtered", "context": ["home", "public", "thread"]}
    assert client.post("/api/v1/filters", json=keyword, headers=alice_h).status_code == 200
    body = post(client, alice_h, **data)
    assert body == fetch(client, body["id"], alice_h).get_json()


@pytest.mark.parametrize(
    ("data", "remote_follower", "delivered"),
    [
        ({"status": "nobody elsewhere"}, False, False),
        ({"status": "to my followers"}, True, True),
        ({"status": "hi @remy@remote.example"}, False, True),
        ({"status": "hi @bob"}, False, False),
        ({"status": "stays here", "visibility": "local"}, True, False),
        ({"status": "dm", "visibility": "direct", "to": ["remy@remote.example"]}, False, True),
        ({"status": "dm @bob", "visibility": "direct"}, True, True),  # asked after the commit
        ({"status": "named", "to": ["remy@remote.example"]}, False, True),
    ],
)
def test_create_status_federates_only_with_a_remote_audience(
    client, monkeypatch, account, bob, alice_h, data, remote_follower, delivered
):
    # Decided with the reads before the write (services.statuses._remote_audience), or after the
    # commit (federation.outbox.has_remote_audience) when the writer cannot tell.
    from federation import outbox

    remote = Account(nickname="remy", domain="remote.example", ap_id="https://remote.example/users/remy")
    db.session.add(remote)
    db.session.commit()
    if remote_follower:
        follow(remote, account)
    queued = []
    monkeypatch.setattr(outbox, "enqueue", lambda name, **kwargs: queued.append((name, kwargs)))
    body = post(client, alice_h, **data)
    assert queued == ([("federate_status", {"status_id": body["id"]})] if delivered else [])
    # the rule the writer applies is the one the outbox applies
    assert outbox.has_remote_audience(body["id"]) is delivered


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
    # Jobs run inline in tests: the delivery job's reads (federation, SPEC 24) are not the request's.
    client.application.config["FEDERATING"] = False
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
    # The new status and its author are not loaded again after the commit; whether bob has a
    # Web Push subscription was read with the notification checks, not asked again after it.
    after = log[commit + 1 :]
    # Nor are its facts (mentions, tags...): the answer has them from the writer (KnownFacts).
    assert after == []


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
