"""Pleroma chats driven over real HTTP with `requests` against a live Kenoma on loopback.

Mastodon.py has no chat methods, so this plays a chat client by hand the way Pleroma-FE does:
an app and password-grant tokens, a chat opened by account id, a message posted as JSON with an
Idempotency-Key, the recipient reading it through its own chat and the notification, then
marking it read and following the Link header of the message list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import requests

if TYPE_CHECKING:
    from tests.clients.conftest import LiveServer

PASSWORDS = {"alice": "alice-pw-123", "bob": "bob-pw-456"}


@pytest.fixture(scope="module")
def server(live_server: LiveServer) -> LiveServer:
    for nickname, password in PASSWORDS.items():
        live_server.create_user(nickname, password, email=f"{nickname}@example.org")
    return live_server


@pytest.fixture(scope="module")
def sessions(server: LiveServer) -> dict[str, requests.Session]:
    app = requests.post(
        f"{server.base_url}/api/v1/apps",
        data={
            "client_name": "chat test",
            "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
            "scopes": "read write",
        },
        timeout=10,
    ).json()
    out = {}
    for nickname, password in PASSWORDS.items():
        token = requests.post(
            f"{server.base_url}/oauth/token",
            data={
                "grant_type": "password",
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
                "username": nickname,
                "password": password,
                "scope": "read write",
            },
            timeout=10,
        ).json()["access_token"]
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        out[nickname] = session
    return out


def test_chat_round_trip(server: LiveServer, sessions: dict[str, requests.Session]) -> None:
    base = f"{server.base_url}/api/v1/pleroma/chats"
    alice, bob = sessions["alice"], sessions["bob"]
    chat = alice.post(f"{base}/by-account-id/{server.users['bob']}", timeout=10).json()
    assert chat["account"]["username"] == "bob"

    sent = alice.post(
        f"{base}/{chat['id']}/messages",
        json={"content": "hi bob :)"},
        headers={"Idempotency-Key": "k-1"},
        timeout=10,
    )
    assert sent.status_code == 200 and sent.json()["idempotency_key"] == "k-1"
    for n in range(3):
        alice.post(f"{base}/{chat['id']}/messages", data={"content": f"more {n}"}, timeout=10)

    chats = bob.get(f"{server.base_url}/api/v2/pleroma/chats", timeout=10).json()
    assert len(chats) == 1 and chats[0]["unread"] == 4
    assert chats[0]["account"]["username"] == "alice"
    bob_chat = chats[0]["id"]

    page = bob.get(f"{base}/{bob_chat}/messages", params={"limit": 2}, timeout=10)
    assert [m["content"] for m in page.json()] == ["more 2", "more 1"]
    older = bob.get(page.links["next"]["url"], timeout=10).json()
    assert [m["content"] for m in older] == ["more 0", "hi bob :)"]

    notifications = bob.get(
        f"{server.base_url}/api/v1/notifications",
        params={"include_types[]": "pleroma:chat_mention"},
        timeout=10,
    ).json()
    assert len(notifications) == 4
    assert notifications[0]["chat_message"]["chat_id"] == bob_chat

    read = bob.post(f"{base}/{bob_chat}/read", json={"last_read_id": page.json()[0]["id"]}, timeout=10)
    assert read.status_code == 200 and read.json()["unread"] == 0

    refused = requests.get(f"{base}/{bob_chat}", timeout=10)
    assert refused.status_code == 403
    assert alice.get(f"{base}/{bob_chat}", timeout=10).status_code == 404
