"""Mastodon.py's own filters_v2 methods and v1 filter methods against a live Kenoma on loopback,
and the `filtered` attribute the server puts on timeline statuses.

Mastodon.py sends the v2 filter with `keywords_attributes` as a JSON body. Filters v2 are Mastodon
4.0, newer than the 2.7.2 that Pleroma's `version` string announces, so the client skips its
version check here, as an app that knows it talks to Pleroma does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from mastodon import Mastodon
from mastodon.errors import MastodonNotFoundError

from tests.clients.conftest import mastodon_users

if TYPE_CHECKING:
    from tests.clients.conftest import LiveServer


@pytest.fixture(scope="module")
def apis(server: LiveServer) -> dict[str, Mastodon]:
    return mastodon_users(server, "Kenoma filters test", ("alice", "bob"))


def test_filters_v2_round_trip_and_filtered_home(apis: dict[str, Mastodon]) -> None:
    alice, bob = apis["alice"], apis["bob"]
    created = alice.create_filter_v2(
        "Sports",
        ["home", "public"],
        "warn",
        expires_in=3600,
        keywords_attributes=[{"keyword": "football", "whole_word": True}],
    )
    assert created.title == "Sports" and created.filter_action == "warn"
    assert created.expires_at is not None
    assert [k.keyword for k in created.keywords] == ["football"]
    assert [f.id for f in alice.filters_v2()] == [created.id]
    assert alice.filter_v2(created.id).title == "Sports"

    keyword = alice.add_filter_keyword_v2(created.id, "cricket", whole_word=False)
    assert keyword.whole_word is False
    assert [k.keyword for k in alice.filter_keywords_v2(created.id)] == ["football", "cricket"]

    updated = alice.update_filter_v2(
        created.id,
        title="Ball games",
        keywords_attributes=[{"id": keyword.id, "_destroy": True}, {"keyword": "rugby"}],
    )
    assert updated.title == "Ball games"
    assert [k.keyword for k in updated.keywords] == ["football", "rugby"]

    alice.account_follow(alice.account_lookup("bob").id)
    matched = bob.status_post("Football tonight!")
    plain = bob.status_post("Knitting tonight")
    home = {s.id: s for s in alice.timeline_home()}
    (result,) = home[matched.id].filtered
    assert result.filter.id == created.id and result.keyword_matches == ["football"]
    assert home[plain.id].filtered == []

    status_filter = alice.add_filter_status_v2(created.id, plain.id)
    assert status_filter.status_id == plain.id
    assert [s.id for s in alice.filter_statuses_v2(created.id)] == [status_filter.id]
    assert alice.filter_status_v2(status_filter.id).status_id == plain.id
    home = {s.id: s for s in alice.timeline_home()}
    assert home[plain.id].filtered[0].status_matches == [plain.id]
    alice.delete_filter_status_v2(status_filter.id)

    alice.update_filter_v2(created.id, filter_action="hide")
    assert matched.id not in [s.id for s in alice.timeline_home()]

    alice.delete_filter_keyword_v2(updated.keywords[1].id)
    alice.delete_filter_v2(created.id)
    assert alice.filters_v2() == []
    with pytest.raises(MastodonNotFoundError):
        bob.filter_v2(created.id)


def test_filters_v1_round_trip(apis: dict[str, Mastodon]) -> None:
    alice = apis["alice"]
    created = alice.filter_create("spoiler", ["home", "thread"], irreversible=True, whole_word=False)
    assert created.phrase == "spoiler" and created.irreversible is True and created.whole_word is False
    assert [f.id for f in alice.filters()] == [created.id]
    changed = alice.filter_update(created.id, phrase="spoilers", irreversible=False)
    assert changed.phrase == "spoilers" and changed.irreversible is False
    assert alice.filter(created.id).context == ["home", "thread"]
    assert alice.filters_v2()[0].title == "spoilers"
    alice.filter_delete(created.id)
    assert alice.filters() == []
