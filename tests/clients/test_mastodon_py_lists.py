"""Mastodon.py's list methods against a live Kenoma (SPEC 26): Mastodon.py sends forms, DELETE
included, and reads every answer into its own UserList / Account / Status objects."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from mastodon import Mastodon
from mastodon import MastodonNotFoundError

from tests.clients.test_mastodon_py import _logged_in
from tests.clients.test_mastodon_py import credentials  # noqa: F401 - a fixture used by name
from tests.clients.test_mastodon_py import server  # noqa: F401 - a fixture used by name

if TYPE_CHECKING:
    from tests.clients.conftest import LiveServer


@pytest.fixture(scope="module")
def alice(server: LiveServer, credentials: tuple[str, str]) -> Mastodon:  # noqa: F811
    return _logged_in(server, credentials, "alice")


@pytest.fixture(scope="module")
def bob(server: LiveServer, credentials: tuple[str, str]) -> Mastodon:  # noqa: F811
    return _logged_in(server, credentials, "bob")


@pytest.fixture(scope="module")
def carol(server: LiveServer, credentials: tuple[str, str]) -> Mastodon:  # noqa: F811
    return _logged_in(server, credentials, "carol")


def test_list_lifecycle(alice: Mastodon, bob: Mastodon, carol: Mastodon, server: LiveServer) -> None:  # noqa: F811
    bob_id, carol_id = server.users["bob"], server.users["carol"]
    alice.account_follow(bob_id)

    created = alice.list_create("Friends")
    assert created.title == "Friends" and created.replies_policy == "list" and created.exclusive is False
    assert [item.id for item in alice.lists()] == [created.id]
    assert alice.list(created.id).title == "Friends"

    alice.list_accounts_add(created, [bob_id])
    assert [account.id for account in alice.list_accounts(created)] == [bob_id]
    assert [item.id for item in alice.account_lists(bob_id)] == [created.id]
    with pytest.raises(MastodonNotFoundError):
        alice.list_accounts_add(created, [carol_id])  # not followed

    first = bob.status_post("for the list")
    carol.status_post("not in it")
    timeline = alice.timeline_list(created)
    assert [status.id for status in timeline] == [first.id]

    updated = alice.list_update(created, "Close friends", replies_policy="none", exclusive=True)
    assert (updated.title, updated.replies_policy, updated.exclusive) == ("Close friends", "none", True)
    assert first.id not in [status.id for status in alice.timeline_home()]

    alice.list_accounts_delete(created, [bob_id])
    assert alice.list_accounts(created) == []
    assert alice.account_lists(bob_id) == []

    alice.list_delete(created)
    assert alice.lists() == []
    with pytest.raises(MastodonNotFoundError):
        alice.list(created.id)


def test_list_timeline_pages_with_fetch_next(alice: Mastodon, bob: Mastodon, server: LiveServer) -> None:  # noqa: F811
    alice.account_follow(server.users["bob"])
    user_list = alice.list_create("Paged")
    alice.list_accounts_add(user_list, [server.users["bob"]])
    posted = [bob.status_post(f"paged {i}").id for i in range(3)]
    page = alice.timeline_list(user_list, limit=2)
    assert [status.id for status in page] == posted[::-1][:2]
    older = alice.fetch_next(page)
    assert older is not None and older[0].id == posted[0]
