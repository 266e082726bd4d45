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

from tests.clients.conftest import mastodon_users

if TYPE_CHECKING:
    from tests.clients.conftest import LiveServer


@pytest.fixture(scope="module")
def apis(server: LiveServer) -> dict[str, Mastodon]:
    return mastodon_users(server, "Kenoma announcements test", ("alice", "bob"))


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
