"""Mastodon.py's own hashtag, featured tag, directory and suggestion methods against a live Kenoma
on loopback (SPEC 26).

These APIs are newer than the Mastodon 2.7.2 that Pleroma's `version` string announces, so the
client skips its version check, as an app that knows it talks to Pleroma does.
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
    return mastodon_users(server, "Kenoma tags test", ("alice", "bob", "carol"))


def test_followed_tag_round_trip(apis: dict[str, Mastodon]) -> None:
    alice, bob = apis["alice"], apis["bob"]
    status = bob.status_post("a picture of my #Cats")
    tag = alice.tag("cats")
    assert tag.name == "cats" and tag.following is False
    assert tag.history[0].uses == "1"

    assert alice.tag_follow("Cats").following is True
    assert [t.name for t in alice.followed_tags()] == ["cats"]
    assert [s.id for s in alice.timeline_home()] == [status.id]

    assert alice.tag_unfollow("cats").following is False
    assert alice.followed_tags() == []
    assert alice.timeline_home() == []


def test_featured_tags_round_trip(apis: dict[str, Mastodon]) -> None:
    alice = apis["alice"]
    alice.status_post("#knitting today")
    featured = alice.featured_tag_create("Knitting")
    # Mastodon.py types statuses_count as a string; Mastodon (and Kenoma) send an integer.
    assert featured.name == "knitting" and int(featured.statuses_count) == 1
    assert [t.name for t in alice.featured_tags()] == ["knitting"]
    assert [t.name for t in alice.account_featured_tags(alice.me())] == ["knitting"]
    alice.featured_tag_delete(featured)
    assert alice.featured_tags() == []


def test_directory_and_suggestions(apis: dict[str, Mastodon]) -> None:
    alice, bob, carol = apis["alice"], apis["bob"], apis["carol"]
    bob.account_update_credentials(discoverable=True)
    carol.account_update_credentials(discoverable=True)
    assert {a.acct for a in alice.directory(order="new")} == {"bob", "carol"}

    # suggestions() picks v1 or v2 by the server's version; 2.7.2 means v1, which SPEC 23 keeps `[]`.
    assert alice.suggestions() == []
    suggested = alice.suggestions_v2()
    assert {s.account.acct for s in suggested} == {"bob", "carol"}
    assert all(s.source == "global" for s in suggested)
    alice.suggestion_delete(carol.me())
    alice.account_follow(bob.me())
    assert alice.suggestions_v2() == []
