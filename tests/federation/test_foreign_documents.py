"""The shapes Mastodon and Pleroma send for the families of this branch (SPEC 24.4), fed to the
inbox job as a verified delivery would be, and read back through the client API: a Mastodon
Question, votes on a local poll, a Mastodon Flag, a Pleroma ChatMessage and a Move."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from federation.inbox import process_activity
from models import Account
from models import Status
from models import db

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
HOST = "https://mastodon.example"


@pytest.fixture(autouse=True)
def quiet(app: Flask) -> None:
    app.config["FEDERATING"] = False  # nothing goes out to the made-up servers


def _remote(nickname: str) -> Account:
    ap_id = f"{HOST}/users/{nickname}"
    account = Account(
        nickname=nickname,
        domain="mastodon.example",
        ap_id=ap_id,
        inbox=f"{ap_id}/inbox",
        followers_url=f"{ap_id}/followers",
    )
    db.session.add(account)
    db.session.commit()
    return account


def _deliver(actor: Account, kind: str, obj: Any, number: int = 1, **extra: Any) -> None:
    activity = {"id": f"{actor.ap_id}/activities/{kind}/{number}", "type": kind, "actor": actor.ap_id}
    process_activity(activity | {"object": obj} | extra, actor.id)


def _status_of(uri: str) -> Status | None:
    return db.session.scalar(db.select(Status).where(Status.uri == uri))


def test_a_mastodon_question_becomes_a_status_with_its_poll(client: FlaskClient, alice_h: dict) -> None:
    zed = _remote("zed")
    question = {
        "id": f"{zed.ap_id}/statuses/1",
        "type": "Question",
        "attributedTo": zed.ap_id,
        "content": "<p>Which ones?</p>",
        "published": "2026-01-01T00:00:00Z",
        "endTime": "2099-01-01T00:00:00Z",
        "votersCount": 4,
        "anyOf": [
            {"type": "Note", "name": "red", "replies": {"type": "Collection", "totalItems": 3}},
            {"type": "Note", "name": "blue", "replies": {"type": "Collection", "totalItems": 2}},
        ],
        "to": [PUBLIC],
        "cc": [zed.followers_url],
    }
    _deliver(zed, "Create", question)
    status = _status_of(question["id"])
    assert status is not None
    poll = client.get(f"/api/v1/statuses/{status.id}", headers=alice_h).get_json()["poll"]
    assert poll["multiple"] is True and poll["voters_count"] == 4 and poll["votes_count"] == 5
    assert [(o["title"], o["votes_count"]) for o in poll["options"]] == [("red", 3), ("blue", 2)]
    assert poll["expires_at"] == "2099-01-01T00:00:00.000Z" and poll["expired"] is False
    # An Update of the Question with new counts (Mastodon sends one as votes come in).
    question["anyOf"][1]["replies"]["totalItems"] = 5
    _deliver(zed, "Update", question, number=2)
    shown = client.get(f"/api/v1/polls/{poll['id']}", headers=alice_h).get_json()
    assert [o["votes_count"] for o in shown["options"]] == [3, 5]


def test_votes_on_a_local_poll_count_and_are_no_statuses(client: FlaskClient, alice_h: dict) -> None:
    posted = client.post(
        "/api/v1/statuses",
        json={"status": "pick", "poll": {"options": ["a", "b"], "expires_in": 3600}},
        headers=alice_h,
    ).get_json()
    zed, yan = _remote("zed"), _remote("yan")

    def vote(voter: Account, name: str, number: int, author: str | None = None) -> None:
        note = {
            "id": f"{voter.ap_id}/votes/{number}",
            "type": "Note",
            "name": name,
            "attributedTo": author or voter.ap_id,
            "inReplyTo": posted["uri"],
            "to": [f"{posted['account']['url']}"],
        }
        _deliver(voter, "Create", note, number=number)

    vote(zed, "b", 1)
    vote(zed, "a", 2)  # a second choice in a single-choice poll: not counted
    vote(yan, "a", 3, author=zed.ap_id)  # a vote in someone else's name: dropped
    vote(yan, "c", 4)  # no such option
    poll = client.get(f"/api/v1/polls/{posted['poll']['id']}", headers=alice_h).get_json()
    assert [o["votes_count"] for o in poll["options"]] == [0, 1] and poll["votes_count"] == 1
    assert db.session.scalar(db.select(db.func.count()).select_from(Status)) == 1


def test_a_mastodon_flag_reports_to_the_admins(client: FlaskClient, make_account, auth_headers) -> None:
    admin = make_account("root")
    admin.is_admin = True
    alice = make_account("alice")
    db.session.commit()
    headers = auth_headers(alice)
    posted = client.post("/api/v1/statuses", json={"status": "hm"}, headers=headers).get_json()
    instance = _remote("instance")
    _deliver(instance, "Flag", [alice.ap_id, posted["uri"], f"{HOST}/users/other"], content="Spam!")
    seen = client.get(
        "/api/v1/notifications",
        headers=auth_headers(admin),
        query_string={"include_types[]": "pleroma:report"},
    ).get_json()
    assert [n["type"] for n in seen] == ["pleroma:report"]
    report = seen[0]["report"]
    assert report["account"]["id"] == alice.id and report["comment"] == "Spam!"
    assert report["status_ids"] == [posted["id"]]


def test_a_pleroma_chat_message_with_an_attachment(
    client: FlaskClient, account: Account, alice_h: dict
) -> None:
    zed = _remote("zed")
    message = {
        "id": f"{zed.ap_id}/objects/chat-1",
        "type": "ChatMessage",
        "attributedTo": zed.ap_id,
        "to": [account.ap_id],
        "content": "look <script>x</script>",
        "published": "2026-01-01T00:00:00Z",
        "attachment": {"type": "Document", "mediaType": "image/png", "url": f"{HOST}/media/1.png"},
    }
    _deliver(zed, "Create", message)
    _deliver(zed, "Create", message, number=2)  # the same object under another activity id
    chats = client.get("/api/v1/pleroma/chats", headers=alice_h).get_json()
    assert [c["account"]["acct"] for c in chats] == ["zed@mastodon.example"]
    messages = client.get(f"/api/v1/pleroma/chats/{chats[0]['id']}/messages", headers=alice_h).get_json()
    assert len(messages) == 1 and messages[0]["unread"] is True
    assert messages[0]["attachment"]["url"] == f"{HOST}/media/1.png"
    assert "script" not in messages[0]["content"] and "look" in messages[0]["content"]


def test_a_move_to_a_local_account_moves_the_local_followers(
    client: FlaskClient, make_account, auth_headers
) -> None:
    zed = _remote("zed")
    target, follower = make_account("new"), make_account("fan")
    target.also_known_as = [zed.ap_id]
    db.session.commit()
    headers = auth_headers(follower)
    assert client.post(f"/api/v1/accounts/{zed.id}/follow", headers=headers).status_code == 200
    from services import follows

    follows.accepted_by_remote(follower, zed)
    _deliver(zed, "Move", zed.ap_id, target=target.ap_id)
    relations = client.get(
        "/api/v1/accounts/relationships", headers=headers, query_string={"id[]": [zed.id, target.id]}
    ).get_json()
    assert [(r["id"], r["following"]) for r in relations] == [(zed.id, False), (target.id, True)]
    notification = client.get("/api/v1/notifications", headers=headers).get_json()[0]
    assert notification["type"] == "move" and notification["target"]["id"] == target.id
