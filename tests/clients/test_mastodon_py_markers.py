"""Mastodon.py's own `markers_set` / `markers_get` against a live Kenoma on loopback.

Mastodon.py sends the markers as a JSON body and asks with `timeline[]=...`. The markers API is
Mastodon 3.0, newer than the 2.7.2 that Pleroma's `version` string announces, so the client
skips its version check here, as an app that knows it talks to Pleroma does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from mastodon import Mastodon

if TYPE_CHECKING:
    from tests.clients.conftest import LiveServer

SCOPES = ["read", "write", "follow", "push"]
PASSWORDS = {"alice": "alice-pw-123", "bob": "bob-pw-456"}


@pytest.fixture(scope="module")
def server(live_server: LiveServer) -> LiveServer:
    for nickname, password in PASSWORDS.items():
        live_server.create_user(nickname, password, email=f"{nickname}@example.org")
    return live_server


def _logged_in(server: LiveServer, credentials: tuple[str, str], nickname: str) -> Mastodon:
    client_id, client_secret = credentials
    api = Mastodon(
        client_id=client_id,
        client_secret=client_secret,
        api_base_url=server.base_url,
        feature_set="pleroma",
        ratelimit_method="throw",
        request_timeout=10,
        version_check_mode="none",
    )
    api.log_in(nickname, PASSWORDS[nickname], scopes=SCOPES, allow_http=True)
    return api


@pytest.fixture(scope="module")
def apis(server: LiveServer) -> dict[str, Mastodon]:
    credentials = Mastodon.create_app("Kenoma markers test", scopes=SCOPES, api_base_url=server.base_url)
    return {nickname: _logged_in(server, credentials, nickname) for nickname in PASSWORDS}


def test_markers_round_trip(apis: dict[str, Mastodon]) -> None:
    alice, bob = apis["alice"], apis["bob"]
    assert alice.markers_get(["home", "notifications"]) == {}

    status = bob.status_post("something to read")
    bob.account_follow(alice.me())  # a follow notification for alice
    notification = alice.notifications()[0]

    first = alice.markers_set("home", status)
    assert first.home.last_read_id == str(status.id)
    assert first.home.version == 0
    assert "notifications" not in first

    both = alice.markers_set(["home", "notifications"], [status, notification])
    assert both.home.version == 1
    assert both.notifications.last_read_id == str(notification.id)
    assert both.notifications.pleroma.unread_count == 0  # saving it marked the notification seen

    got = alice.markers_get(["home", "notifications"])
    assert set(got) == {"home", "notifications"}
    assert got.home.last_read_id == str(status.id)
    assert got.home.version == 1
    assert got.notifications.pleroma.unread_count == 0
    assert alice.notifications()[0].pleroma.is_seen is True
    assert set(alice.markers_get()) == {"home"}  # Mastodon.py's default asks for home only

    assert bob.markers_get(["home", "notifications"]) == {}
