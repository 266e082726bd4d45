"""Mastodon.py's own `announcements`, `announcement_dismiss`, `announcement_reaction_create` and
`announcement_reaction_delete` against a live Kenoma on loopback, the announcement made with
`flask announcement create` as an admin would.

Announcements are Mastodon 3.1, newer than the 2.7.2 that Pleroma's `version` string announces,
so the client skips its version check, as an app that knows it talks to Pleroma does.
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
    credentials = Mastodon.create_app(
        "Kenoma announcements test", scopes=SCOPES, api_base_url=server.base_url
    )
    return {nickname: _logged_in(server, credentials, nickname) for nickname in PASSWORDS}


def test_announcements_round_trip(server: LiveServer, apis: dict[str, Mastodon]) -> None:
    alice, bob = apis["alice"], apis["bob"]
    assert alice.announcements() == []
    announcement_id = server.cli("announcement", "create", "Maintenance on Sunday").strip()

    (shown,) = alice.announcements()
    assert str(shown.id) == announcement_id
    assert "Maintenance on Sunday" in shown.content
    assert shown.read is False
    assert shown.reactions == []

    alice.announcement_dismiss(shown)
    assert alice.announcements()[0].read is True
    assert bob.announcements()[0].read is False

    alice.announcement_reaction_create(shown, "👍")
    bob.announcement_reaction_create(shown, "👍")
    bob.announcement_reaction_create(shown, "👍")  # again: nothing changes
    (reaction,) = alice.announcements()[0].reactions
    assert (reaction.name, reaction.count, reaction.me) == ("👍", 2, True)

    alice.announcement_reaction_delete(shown, "👍")
    alice.announcement_reaction_delete(shown, "👍")  # again: nothing changes
    (reaction,) = alice.announcements()[0].reactions
    assert (reaction.count, reaction.me) == (1, False)

    server.cli("announcement", "delete", announcement_id)
    assert bob.announcements() == []
