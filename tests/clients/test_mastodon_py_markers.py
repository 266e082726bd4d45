"""Mastodon.py's own `markers_set` / `markers_get` against a live Kenoma on loopback.

Mastodon.py sends the markers as a JSON body and asks with `timeline[]=...`. The markers API is
Mastodon 3.0, newer than the 2.7.2 that Pleroma's `version` string announces, so the client
skips its version check here, as an app that knows it talks to Pleroma does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from mastodon import Mastodon

from tests.clients.conftest import mastodon_users

if TYPE_CHECKING:
    from tests.clients.conftest import LiveServer


@pytest.fixture(scope="module")
def apis(server: LiveServer) -> dict[str, Mastodon]:
    return mastodon_users(server, "Kenoma markers test", ("alice", "bob"))


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
