"""Pleroma chats (SPEC 26): creating and listing chats, posting, paging, deleting and reading
messages, the refusals (blocks, accounts not accepting chats) and the
pleroma:chat_mention notification."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlalchemy import select

from models import Account
from models import Block
from models import Chat
from models import ChatMessage
from models import ChatMessageReference
from models import Media
from models import Mute
from models import Notification
from models import db
from serializers import chats as chat_serializers

V1 = "/api/v1/pleroma/chats"
V2 = "/api/v2/pleroma/chats"
NOT_FOUND = {"error": "Record not found"}


def open_chat(client: FlaskClient, headers: dict, account_id: str) -> dict:
    response = client.post(f"{V1}/by-account-id/{account_id}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def say(client: FlaskClient, headers: dict, chat_id: str, content: str = "hello", **extra: object) -> dict:
    response = client.post(f"{V1}/{chat_id}/messages", json={"content": content, **extra}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def count(model: type) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def chat(client: FlaskClient, alice_h: dict, bob: Account) -> dict:
    return open_chat(client, alice_h, bob.id)


def bobs_chat_id(alice: Account, bob: Account) -> str:
    return db.session.scalar(select(Chat.id).where(Chat.account_id == bob.id, Chat.recipient_id == alice.id))


# ---------------------------------------------------------------------------------------------
# Creating and reading chats


def test_create_chat_is_get_or_create(client: FlaskClient, alice_h: dict, bob: Account) -> None:
    first = open_chat(client, alice_h, bob.id)
    assert first["account"]["id"] == bob.id
    assert first["unread"] == 0 and first["last_message"] is None and first["updated_at"]
    assert open_chat(client, alice_h, bob.id)["id"] == first["id"]
    assert count(Chat) == 1  # the recipient's side appears with the first message


def test_create_chat_unknown_and_remote_accounts(client: FlaskClient, alice_h: dict) -> None:
    assert client.post(f"{V1}/by-account-id/nope", headers=alice_h).get_json() == NOT_FOUND
    remote = Account(nickname="eve", domain="remote.example", ap_id="https://remote.example/users/eve")
    db.session.add(remote)
    db.session.commit()
    # Another server's account can be chatted with: messages go out through federation.
    response = client.post(f"{V1}/by-account-id/{remote.id}", headers=alice_h)
    assert response.status_code == 200 and response.get_json()["account"]["id"] == remote.id
    assert count(Chat) == 1


def test_chats_need_auth_and_chat_scopes(
    client: FlaskClient, auth_headers: Callable[..., dict], account: Account, bob: Account, chat: dict
) -> None:
    anonymous = client.post(f"{V1}/by-account-id/{bob.id}")
    assert anonymous.status_code == 403 and anonymous.get_json() == {"error": "Invalid credentials."}
    assert client.get(V2).status_code == 403
    reader = auth_headers(account, "read:chats")
    assert client.post(f"{V1}/by-account-id/{bob.id}", headers=reader).status_code == 403
    assert (
        client.post(f"{V1}/{chat['id']}/messages", json={"content": "x"}, headers=reader).status_code == 403
    )
    assert client.get(f"{V1}/{chat['id']}", headers=reader).status_code == 200
    writer = auth_headers(account, "write:chats")
    assert client.get(V2, headers=writer).status_code == 403
    assert client.get(f"{V1}/{chat['id']}/messages", headers=writer).status_code == 403
    assert (
        client.post(f"{V1}/{chat['id']}/messages", json={"content": "x"}, headers=writer).status_code == 200
    )
    # The broad scopes cover them too.
    assert client.get(V2, headers=auth_headers(account, "read")).status_code == 200


def test_others_chats_read_as_missing(
    client: FlaskClient, chat: dict, bob_h: dict, carol_h: dict, alice_h: dict
) -> None:
    message = say(client, alice_h, chat["id"])
    cid, mid = chat["id"], message["id"]
    assert client.get(f"{V1}/{cid}", headers=carol_h).get_json() == NOT_FOUND
    assert client.get(f"{V1}/{cid}/messages", headers=carol_h).status_code == 404
    assert client.post(f"{V1}/{cid}/messages", json={"content": "hi"}, headers=carol_h).status_code == 404
    assert client.delete(f"{V1}/{cid}/messages/{mid}", headers=carol_h).status_code == 404
    assert client.post(f"{V1}/{cid}/read", json={"last_read_id": mid}, headers=carol_h).status_code == 404
    assert client.post(f"{V1}/{cid}/messages/{mid}/read", headers=carol_h).status_code == 404
    # The recipient sees the message under its own chat and ids, never through alice's.
    assert client.get(f"{V1}/{cid}", headers=bob_h).status_code == 404
    assert client.get(f"{V1}/missing", headers=alice_h).get_json() == NOT_FOUND
    assert count(ChatMessageReference) == 2


def test_chat_lists_newest_activity_first_and_paged(
    client: FlaskClient, alice_h: dict, bob: Account, carol: Account, make_account: Callable[..., Account]
) -> None:
    dave = make_account("dave")
    ids = [open_chat(client, alice_h, who.id)["id"] for who in (bob, carol, dave)]
    say(client, alice_h, ids[0])  # bob's chat becomes the most recent
    listed = client.get(V2, headers=alice_h)
    assert [c["id"] for c in listed.get_json()] == [ids[0], ids[2], ids[1]]
    assert [c["id"] for c in client.get(V1, headers=alice_h).get_json()] == [ids[0], ids[2], ids[1]]
    page = client.get(f"{V2}?limit=2", headers=alice_h)
    assert [c["id"] for c in page.get_json()] == [ids[0], ids[2]]
    next_url = page.headers["Link"].split(">")[0].lstrip("<")
    rest = client.get(next_url.replace("http://localhost", ""), headers=alice_h)
    assert [c["id"] for c in rest.get_json()] == [ids[1]]


def test_chat_lists_hide_blocked_and_muted(
    client: FlaskClient, account: Account, alice_h: dict, bob: Account, chat: dict
) -> None:
    db.session.add(Mute(account_id=account.id, target_id=bob.id))
    db.session.commit()
    assert client.get(V2, headers=alice_h).get_json() == []
    assert len(client.get(f"{V2}?with_muted=true", headers=alice_h).get_json()) == 1
    assert len(client.get(f"{V1}?with_muted=true", headers=alice_h).get_json()) == 1
    db.session.add(Block(account_id=account.id, target_id=bob.id))
    db.session.commit()
    assert client.get(f"{V2}?with_muted=true", headers=alice_h).get_json() == []


# ---------------------------------------------------------------------------------------------
# Messages


def test_post_message_renders_and_reaches_both_sides(
    client: FlaskClient, account: Account, alice_h: dict, bob: Account, bob_h: dict, chat: dict
) -> None:
    message = say(client, alice_h, chat["id"], "<b>hi</b> https://example.org\nbye")
    assert message["chat_id"] == chat["id"] and message["account_id"] == account.id
    assert "<b>" not in message["content"] and "&lt;b&gt;" in message["content"]
    assert '<a href="https://example.org"' in message["content"] and "<br" in message["content"]
    assert message["unread"] is False and message["attachment"] is None and message["card"] is None
    assert message["emojis"] == [] and "idempotency_key" not in message
    theirs = client.get(f"{V1}/{bobs_chat_id(account, bob)}", headers=bob_h).get_json()
    assert theirs["account"]["id"] == account.id and theirs["unread"] == 1
    assert theirs["last_message"]["content"] == message["content"]
    assert theirs["last_message"]["unread"] is True and theirs["last_message"]["id"] != message["id"]
    mine = client.get(f"{V1}/{chat['id']}", headers=alice_h).get_json()
    assert mine["unread"] == 0 and mine["last_message"]["id"] == message["id"]


def test_post_message_with_media_only_and_form(
    client: FlaskClient, account: Account, alice_h: dict, bob: Account, chat: dict
) -> None:
    media = Media(account_id=account.id, path="a.png", mime_type="image/png")
    theirs = Media(account_id=bob.id, path="b.png", mime_type="image/png")
    db.session.add_all([media, theirs])
    db.session.commit()
    response = client.post(f"{V1}/{chat['id']}/messages", data={"media_id": media.id}, headers=alice_h)
    assert response.status_code == 200
    assert response.get_json()["attachment"]["id"] == media.id and response.get_json()["content"] == ""
    # Someone else's upload is ignored, which leaves nothing to send.
    refused = client.post(f"{V1}/{chat['id']}/messages", json={"media_id": theirs.id}, headers=alice_h)
    assert refused.status_code == 400 and refused.get_json() == {"error": "no_content"}


@pytest.mark.parametrize(
    ("payload", "error"),
    [({}, "no_content"), ({"content": "   "}, "no_content"), ({"content": "x" * 5001}, "content_too_long")],
)
def test_post_message_bad_input_changes_nothing(
    client: FlaskClient, alice_h: dict, chat: dict, payload: dict, error: str
) -> None:
    response = client.post(f"{V1}/{chat['id']}/messages", json=payload, headers=alice_h)
    assert response.status_code == 400 and response.get_json() == {"error": error}
    assert count(ChatMessage) == 0 and count(Notification) == 0


def test_post_message_refused_by_blocks_and_settings(
    client: FlaskClient, account: Account, alice_h: dict, bob: Account, chat: dict
) -> None:
    db.session.add(Block(account_id=bob.id, target_id=account.id))
    db.session.commit()
    blocked = client.post(f"{V1}/{chat['id']}/messages", json={"content": "hi"}, headers=alice_h)
    assert blocked.status_code == 422 and blocked.get_json() == {"error": "actor is blocked by recipient"}
    db.session.execute(db.delete(Block))
    bob.accepts_chat_messages = False
    db.session.commit()
    refusing = client.post(f"{V1}/{chat['id']}/messages", json={"content": "hi"}, headers=alice_h)
    assert refusing.status_code == 422
    assert refusing.get_json() == {"error": "recipient does not accept chat messages"}
    assert count(ChatMessage) == 0 and count(Chat) == 1


def test_idempotency_key_echoed_and_deduplicated(
    client: FlaskClient, alice_h: dict, chat: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = {**alice_h, "Idempotency-Key": "abc-123"}
    first = say(client, headers, chat["id"], "once")
    assert first["idempotency_key"] == "abc-123"
    again = client.post(f"{V1}/{chat['id']}/messages", json={"content": "once"}, headers=headers)
    assert again.get_json()["id"] == first["id"] and count(ChatMessage) == 1
    # After a few minutes the key is no longer echoed.
    later = chat_serializers.utcnow() + timedelta(minutes=11)
    monkeypatch.setattr(chat_serializers, "utcnow", lambda: later)
    listed = client.get(f"{V1}/{chat['id']}/messages", headers=alice_h).get_json()
    assert "idempotency_key" not in listed[0]


def test_messages_newest_first_and_paged(client: FlaskClient, alice_h: dict, chat: dict) -> None:
    sent = [say(client, alice_h, chat["id"], f"m{n}")["id"] for n in range(5)]
    page = client.get(f"{V1}/{chat['id']}/messages?limit=2", headers=alice_h)
    assert [m["id"] for m in page.get_json()] == [sent[4], sent[3]]
    assert 'rel="next"' in page.headers["Link"]
    older = client.get(f"{V1}/{chat['id']}/messages?max_id={sent[3]}", headers=alice_h).get_json()
    assert [m["id"] for m in older] == [sent[2], sent[1], sent[0]]
    newer = client.get(f"{V1}/{chat['id']}/messages?min_id={sent[0]}&limit=2", headers=alice_h).get_json()
    assert [m["id"] for m in newer] == [sent[2], sent[1]]


def test_delete_own_message_removes_it_for_both(
    client: FlaskClient, account: Account, alice_h: dict, bob: Account, bob_h: dict, chat: dict
) -> None:
    message = say(client, alice_h, chat["id"])
    response = client.delete(f"{V1}/{chat['id']}/messages/{message['id']}", headers=alice_h)
    assert response.status_code == 200 and response.get_json()["id"] == message["id"]
    assert count(ChatMessage) == 0 and count(ChatMessageReference) == 0 and count(Notification) == 0
    theirs = client.get(f"{V1}/{bobs_chat_id(account, bob)}", headers=bob_h).get_json()
    assert theirs["unread"] == 0 and theirs["last_message"] is None


def test_delete_others_message_only_hides_it(
    client: FlaskClient, account: Account, alice_h: dict, bob: Account, bob_h: dict, chat: dict
) -> None:
    message = say(client, alice_h, chat["id"])
    bob_chat = bobs_chat_id(account, bob)
    theirs = client.get(f"{V1}/{bob_chat}/messages", headers=bob_h).get_json()[0]
    assert client.delete(f"{V1}/{bob_chat}/messages/{theirs['id']}", headers=bob_h).status_code == 200
    assert client.get(f"{V1}/{bob_chat}/messages", headers=bob_h).get_json() == []
    assert [m["id"] for m in client.get(f"{V1}/{chat['id']}/messages", headers=alice_h).get_json()] == [
        message["id"]
    ]
    # A message of another chat is not found through this one.
    assert client.delete(f"{V1}/{bob_chat}/messages/{message['id']}", headers=bob_h).status_code == 404


# ---------------------------------------------------------------------------------------------
# Read markers and notifications


def test_mark_chat_read_up_to_a_message(
    client: FlaskClient, account: Account, alice_h: dict, bob: Account, bob_h: dict, chat: dict
) -> None:
    for n in range(3):
        say(client, alice_h, chat["id"], f"m{n}")
    bob_chat = bobs_chat_id(account, bob)
    received = client.get(f"{V1}/{bob_chat}/messages", headers=bob_h).get_json()
    assert [m["unread"] for m in received] == [True, True, True]
    response = client.post(f"{V1}/{bob_chat}/read", json={"last_read_id": received[1]["id"]}, headers=bob_h)
    assert response.status_code == 200 and response.get_json()["unread"] == 1
    received = client.get(f"{V1}/{bob_chat}/messages", headers=bob_h).get_json()
    assert [m["unread"] for m in received] == [True, False, False]
    one = client.post(f"{V1}/{bob_chat}/messages/{received[0]['id']}/read", headers=bob_h)
    assert one.status_code == 200 and one.get_json()["unread"] is False
    assert client.get(f"{V1}/{bob_chat}", headers=bob_h).get_json()["unread"] == 0


def test_mark_chat_read_needs_last_read_id(client: FlaskClient, alice_h: dict, chat: dict) -> None:
    response = client.post(f"{V1}/{chat['id']}/read", json={}, headers=alice_h)
    assert 400 <= response.status_code < 500 and "error" in response.get_json()
    missing = client.post(f"{V1}/{chat['id']}/messages/nope/read", headers=alice_h)
    assert missing.get_json() == NOT_FOUND


def test_chat_mention_notification(
    client: FlaskClient, account: Account, alice_h: dict, bob: Account, bob_h: dict, chat: dict
) -> None:
    say(client, alice_h, chat["id"], "ping")
    # Not among the default types (SPEC 7): only when asked for.
    assert client.get("/api/v1/notifications", headers=bob_h).get_json() == []
    listed = client.get(
        "/api/v1/notifications?include_types[]=pleroma:chat_mention", headers=bob_h
    ).get_json()
    assert len(listed) == 1 and listed[0]["type"] == "pleroma:chat_mention"
    assert listed[0]["account"]["id"] == account.id
    chat_message = listed[0]["chat_message"]
    assert chat_message["chat_id"] == bobs_chat_id(account, bob) and chat_message["unread"] is True
    assert chat_message["account_id"] == account.id and "ping" in chat_message["content"]
    assert "status" not in listed[0]


def test_chat_mention_notifications_are_batch_loaded(
    client: FlaskClient,
    alice_h: dict,
    bob: Account,
    bob_h: dict,
    chat: dict,
    count_queries: Callable,
) -> None:
    url = "/api/v1/notifications?include_types[]=pleroma:chat_mention"
    say(client, alice_h, chat["id"])
    with count_queries() as one:
        assert len(client.get(url, headers=bob_h).get_json()) == 1
    for n in range(4):
        say(client, alice_h, chat["id"], f"m{n}")
    with count_queries() as five:
        assert len(client.get(url, headers=bob_h).get_json()) == 5
    assert five.count == one.count


def test_chat_with_oneself_holds_each_message_once(
    client: FlaskClient, account: Account, alice_h: dict
) -> None:
    own = open_chat(client, alice_h, account.id)
    say(client, alice_h, own["id"], "note to self")
    assert len(client.get(f"{V1}/{own['id']}/messages", headers=alice_h).get_json()) == 1
    assert client.get(f"{V1}/{own['id']}", headers=alice_h).get_json()["unread"] == 0
    assert count(Notification) == 0


def test_instance_advertises_chats(client: FlaskClient) -> None:
    features = client.get("/api/v1/instance").get_json()["pleroma"]["metadata"]["features"]
    assert "pleroma_chat_messages" in features


def test_chats_are_not_under_the_legacy_prefix(client: FlaskClient, alice_h: dict, bob: Account) -> None:
    assert client.post(f"/api/pleroma/chats/by-account-id/{bob.id}", headers=alice_h).status_code == 404
