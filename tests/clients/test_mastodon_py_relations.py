"""Mastodon.py's own domain block, account note and follower methods against a live Kenoma on
loopback (SPEC 26). These APIs are newer than the 2.7.2 that Pleroma's `version` string
announces, so the client skips its version check, as an app that knows it talks to Pleroma does.
Mastodon.py sends familiar_followers' ids as a JSON body on a GET, and domain_unblock's domain as
a form body on DELETE."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from mastodon import Mastodon

from models import Account
from models import db
from services import follows
from tests.clients.conftest import mastodon_users

if TYPE_CHECKING:
    from tests.clients.conftest import LiveServer


@pytest.fixture(scope="module")
def apis(server: LiveServer) -> dict[str, Mastodon]:
    return mastodon_users(server, "Kenoma relations test", ("alice", "bob", "carol"))


def _remote_follower(server: LiveServer, followee_id: str) -> str:
    """A remote stub account (no federation needed) following the given local account."""
    with server.app.app_context():
        remote = Account(nickname="remy", domain="remote.example", ap_id="https://remote.example/users/remy")
        db.session.add(remote)
        db.session.commit()
        follows.follow(remote, db.session.get(Account, followee_id))
        return remote.id


def test_domain_blocks_round_trip(apis: dict[str, Mastodon], server: LiveServer) -> None:
    alice = apis["alice"]
    remote_id = _remote_follower(server, server.users["alice"])
    assert alice.account_relationships(remote_id)[0].followed_by is True
    assert alice.domain_blocks() == []
    alice.domain_block("remote.example")
    alice.domain_block("second.example")
    assert list(alice.domain_blocks()) == ["second.example", "remote.example"]
    page = alice.domain_blocks(limit=1)
    assert list(page) == ["second.example"]
    assert list(alice.fetch_next(page)) == ["remote.example"]
    relationship = alice.account_relationships(remote_id)[0]
    assert relationship.domain_blocking is True
    assert relationship.followed_by is False
    alice.domain_unblock("second.example")
    assert list(alice.domain_blocks()) == ["remote.example"]


def test_account_note_set(apis: dict[str, Mastodon], server: LiveServer) -> None:
    alice = apis["alice"]
    bob_id = server.users["bob"]
    relationship = alice.account_note_set(bob_id, "plays the cello")
    assert relationship.note == "plays the cello"
    assert alice.account_relationships([bob_id])[0].note == "plays the cello"
    assert alice.account_note_set(bob_id, "").note == ""


def test_remove_from_followers_and_familiar_followers(apis: dict[str, Mastodon], server: LiveServer) -> None:
    alice, bob = apis["alice"], apis["bob"]
    alice_id, bob_id, carol_id = (server.users[n] for n in ("alice", "bob", "carol"))
    bob.account_follow(alice_id)
    alice.account_follow(bob_id)
    bob.account_follow(carol_id)

    familiar = alice.account_familiar_followers(carol_id)
    assert [entry.id for entry in familiar] == [carol_id]
    assert [account.acct for account in familiar[0].accounts] == ["bob"]
    both = alice.account_familiar_followers([carol_id, bob_id])
    assert [entry.id for entry in both] == [carol_id, bob_id]
    assert both[1].accounts == []

    relationship = alice.account_remove_from_followers(bob_id)
    assert relationship.followed_by is False
    assert relationship.following is True
    assert alice.me().followers_count == 0
    assert bob.account_relationships(alice_id)[0].following is False
