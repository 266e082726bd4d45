"""Favourite, reblog, bookmark, pin and mute a status, and who favourited or reblogged it."""

from __future__ import annotations

from models import Account
from models import Status
from models import db
from tests.conftest import sql_log
from tests.routes.statuses_helpers import BASE
from tests.routes.statuses_helpers import fetch
from tests.routes.statuses_helpers import follow
from tests.routes.statuses_helpers import notifications
from tests.routes.statuses_helpers import post
from tests.routes.statuses_helpers import statuses_count

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


def test_favourite_reads_first_and_renders_without_loading_again(client, account, bob, alice_h, bob_h):
    sid = post(client, alice_h, status="like me")["id"]
    for action, writes in (
        ("favourite", ["favourite", "status", "notification"]),
        ("unfavourite", ["favourite", "status", "notification"]),
    ):
        db.session.expire_all()  # as a request of a real server: nothing loaded yet
        with sql_log() as log:
            response = client.post(f"/api/v1/statuses/{sid}/{action}", headers=bob_h)
        assert response.status_code == 200
        assert response.get_json()["favourites_count"] == (1 if action == "favourite" else 0)
        # SQLite writers queue for one lock: it is held for the writes only, nothing read under it.
        first_write = next(i for i, sql in enumerate(log) if sql.startswith(("INSERT", "UPDATE", "DELETE")))
        commit = log.index("COMMIT")
        tables = [sql.split()[1 if sql.startswith("UPDATE") else 2] for sql in log[first_write:commit]]
        assert tables == writes
        # The status, its author and the reader stay loaded across the commit, and the answer's
        # per-status facts were read before the first write: nothing runs after the commit.
        assert log[commit + 1 :] == []
        assert response.get_json() == client.get(f"/api/v1/statuses/{sid}", headers=bob_h).get_json()


def test_favourite_answers_the_caller_and_the_status_as_get_shows_them(
    client, account, bob, carol, alice_h, bob_h
):
    """The caller and the status are read as plain rows, not ORM loads: a moved author, the
    owner's own status, an admin caller and a followers-only status still answer as GET."""
    follow(bob, account)
    sid = post(client, alice_h, status="followers only", visibility="private")["id"]
    alice, admin = db.session.get(Account, account.id), db.session.get(Account, bob.id)
    alice.moved_to_id = carol.id
    alice.fields = [{"name": "site", "value": "example.org"}]
    admin.is_admin = True
    db.session.commit()
    answers = {}
    for caller, headers in (("bob", bob_h), ("alice", alice_h)):
        for action in ("favourite", "unfavourite"):
            db.session.expire_all()
            response = client.post(f"/api/v1/statuses/{sid}/{action}", headers=headers)
            assert response.status_code == 200
            body = answers[caller] = response.get_json()
            assert body["account"]["moved"]["id"] == carol.id
            assert body["account"]["fields"][0]["name"] == "site"
            assert body["favourited"] is (action == "favourite")
            assert body == client.get(f"/api/v1/statuses/{sid}", headers=headers).get_json()
    assert answers["bob"]["account"]["pleroma"]["deactivated"] is False  # shown to an admin
    assert "deactivated" not in answers["alice"]["account"]["pleroma"]
    assert answers["alice"]["account"]["pleroma"]["is_admin"] is False  # the owner sees her role


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
