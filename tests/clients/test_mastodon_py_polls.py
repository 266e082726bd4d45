"""Mastodon.py's own `make_poll`, `status_post(poll=...)`, `poll_vote` and `poll` against a live
Kenoma on loopback.

Mastodon.py posts a status with a poll as a JSON body and votes with `choices[]=...` in a form.
Polls are Mastodon 2.8, newer than the 2.7.2 that Pleroma's `version` string announces, so the
client skips its version check here, as an app that knows it talks to Pleroma does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from mastodon import Mastodon
from mastodon import MastodonAPIError

from tests.clients.conftest import mastodon_users

if TYPE_CHECKING:
    from tests.clients.conftest import LiveServer


@pytest.fixture(scope="module")
def apis(server: LiveServer) -> dict[str, Mastodon]:
    return mastodon_users(server, "Kenoma polls test", ("alice", "bob"))


def test_poll_round_trip(apis: dict[str, Mastodon]) -> None:
    alice, bob = apis["alice"], apis["bob"]
    poll = alice.make_poll(["tea", "coffee", "water"], expires_in=3600, multiple=True)
    status = alice.status_post("what to drink?", poll=poll)
    assert [option.title for option in status.poll.options] == ["tea", "coffee", "water"]
    assert status.poll.multiple is True
    assert status.poll.expired is False

    voted = bob.poll_vote(status.poll.id, [0, 2])
    assert voted.voted is True
    assert voted.own_votes == [0, 2]
    assert [option.votes_count for option in voted.options] == [1, 0, 1]
    assert voted.voters_count == 1

    read = alice.poll(status.poll)
    assert read.votes_count == 2
    assert bob.status(status.id).poll.own_votes == [0, 2]


def test_poll_vote_refusals(apis: dict[str, Mastodon]) -> None:
    alice, bob = apis["alice"], apis["bob"]
    status = bob.status_post("one only", poll=bob.make_poll(["yes", "no"], expires_in=600, hide_totals=True))
    with pytest.raises(MastodonAPIError):
        alice.poll_vote(status.poll, [0, 1])  # a single-choice poll
    with pytest.raises(MastodonAPIError):
        bob.poll_vote(status.poll, 0)  # the author
    hidden = alice.poll_vote(status.poll, 1)
    assert [option.votes_count for option in hidden.options] == [None, None]
    with pytest.raises(MastodonAPIError):
        alice.poll_vote(status.poll, 0)  # already voted
