"""Mastodon.py's own `status_update`, `status_history` and `status_source` against a live Kenoma.

Editing is Mastodon 3.5, newer than the 2.7.2 that Pleroma's `version` string announces, so the
client skips its version check here, as an app that knows it talks to Pleroma does. Mastodon.py
sends an edit with a poll as JSON, and one without as a form.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from mastodon import Mastodon
from mastodon import MastodonNotFoundError

from tests.clients.conftest import mastodon_users

if TYPE_CHECKING:
    from tests.clients.conftest import LiveServer


@pytest.fixture(scope="module")
def apis(server: LiveServer) -> dict[str, Mastodon]:
    return mastodon_users(server, "Kenoma edits test", ("alice", "bob"))


def test_status_update_history_and_source(apis: dict[str, Mastodon]) -> None:
    alice, bob = apis["alice"], apis["bob"]
    status = alice.status_post("first version", spoiler_text="cw")
    assert status.edited_at is None
    bob.status_favourite(status)

    edited = alice.status_update(status, "second version", spoiler_text="", sensitive=True)
    assert edited.id == status.id
    assert "second version" in edited.content
    assert edited.edited_at is not None
    assert edited.sensitive is True

    source = alice.status_source(status)
    assert source.text == "second version"
    assert source.spoiler_text == ""

    history = bob.status_history(status)
    assert len(history) == 2
    assert "first version" in history[0].content
    assert history[0].spoiler_text == "cw"
    assert "second version" in history[1].content
    assert history[1].account.acct == "alice"

    update = [n for n in bob.notifications() if n.type == "update"]
    assert len(update) == 1
    assert update[0].status.id == status.id


def test_status_update_poll(apis: dict[str, Mastodon]) -> None:
    alice, bob = apis["alice"], apis["bob"]
    status = alice.status_post("vote", poll=alice.make_poll(["a", "b"], expires_in=3600))
    bob.poll_vote(status.poll, [0])
    edited = alice.status_update(status, "vote again", poll=alice.make_poll(["a", "c"], expires_in=3600))
    assert [o.title for o in edited.poll.options] == ["a", "c"]
    assert edited.poll.votes_count == 0
    history = alice.status_history(status)
    assert [[o.title for o in v.poll.options] for v in history] == [["a", "b"], ["a", "c"]]


def test_status_update_of_someone_elses_status(apis: dict[str, Mastodon]) -> None:
    alice, bob = apis["alice"], apis["bob"]
    status = alice.status_post("mine")
    with pytest.raises(MastodonNotFoundError):
        bob.status_update(status, "theirs")
