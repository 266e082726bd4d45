"""Pleroma chats across servers (SPEC 24.4, 24.5, 26): a message to another server's account goes
there as a ChatMessage and shows in the recipient's chat, unread, with a notification; a replay
adds nothing, and a blocked sender's messages are dropped."""

from __future__ import annotations

from tests.federation.peers import Peer


def _chat(peer: Peer, who: str, acct: str) -> dict:
    account = peer.account(acct, who)
    return peer.post(f"/api/v1/pleroma/chats/by-account-id/{account['id']}", who)


def _say(peer: Peer, who: str, chat_id: str, text: str) -> dict:
    return peer.post(f"/api/v1/pleroma/chats/{chat_id}/messages", who, json={"content": text})


def test_chat_messages_go_both_ways(peers):
    here, there = peers
    chat = _chat(here, "dave", there.acct_of("carol"))
    assert chat["account"]["acct"] == there.acct_of("carol")
    _say(here, "dave", chat["id"], "hello carol")

    chats = there.get("/api/v1/pleroma/chats", "carol")
    assert [(c["account"]["acct"], c["unread"]) for c in chats] == [(here.acct_of("dave"), 1)]
    assert "hello carol" in chats[0]["last_message"]["content"]
    notification = there.get(
        "/api/v1/notifications", "carol", params={"include_types[]": "pleroma:chat_mention"}
    )[0]
    assert notification["type"] == "pleroma:chat_mention"
    assert "hello carol" in notification["chat_message"]["content"]

    _say(there, "carol", chats[0]["id"], "hi dave")
    messages = here.get(f"/api/v1/pleroma/chats/{chat['id']}/messages", "dave")
    assert ["hi dave" in m["content"] for m in messages] == [True, False]
    assert messages[0]["unread"] is True

    with here.server.app.app_context():
        from federation.delivery import deliver
        from models import Activity
        from models import db

        sent = db.session.scalars(
            db.select(Activity).where(Activity.type == "Create", Activity.is_local.is_(True))
        ).one()
        deliver(f"{there.url}/inbox", sent.id)
        db.session.remove()
    assert len(there.get(f"/api/v1/pleroma/chats/{chats[0]['id']}/messages", "carol")) == 2


def test_a_blocked_sender_reaches_no_chat(peers):
    here, there = peers
    chat = _chat(here, "dave", there.acct_of("carol"))  # before the block: then search hides carol
    dave = there.account(here.acct_of("dave"), "carol")
    there.post(f"/api/v1/accounts/{dave['id']}/block", "carol")
    # The Block reached dave's server, which now refuses to send; carol's would drop it anyway.
    refused = here.call(
        "POST", f"/api/v1/pleroma/chats/{chat['id']}/messages", "dave", json={"content": "hi"}
    )
    assert refused.status_code == 422 and refused.json() == {"error": "actor is blocked by recipient"}
    assert there.get("/api/v1/pleroma/chats", "carol") == []
    assert (
        there.get("/api/v1/notifications", "carol", params={"include_types[]": "pleroma:chat_mention"}) == []
    )


def test_an_account_refusing_chats_says_so_to_other_servers(peers):
    here, there = peers
    there.call(
        "PATCH", "/api/v1/accounts/update_credentials", "carol", data={"accepts_chat_messages": "false"}
    )
    carol = here.account(there.acct_of("carol"), "dave")
    chat = here.post(f"/api/v1/pleroma/chats/by-account-id/{carol['id']}", "dave")
    refused = here.call(
        "POST", f"/api/v1/pleroma/chats/{chat['id']}/messages", "dave", json={"content": "hi"}
    )
    assert refused.status_code == 422
    assert refused.json() == {"error": "recipient does not accept chat messages"}
