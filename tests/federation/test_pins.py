"""Pins between two Kenomas (SPEC 24.4, 24.5): pinning adds the status to the featured collection
with an Add to the followers, unpinning sends the Remove; the other server shows the pins in
/api/v1/accounts/:id/statuses?pinned=true; replays change nothing."""

from __future__ import annotations

from tests.federation.acts import redeliver
from tests.federation.acts import send_as
from tests.federation.acts import status_seen_by
from tests.federation.peers import Peer


def _follow(peer: Peer, who: str, acct: str) -> dict:
    target = peer.account(acct, who)
    assert peer.post(f"/api/v1/accounts/{target['id']}/follow", who)["following"] is True
    return target


def _pinned(peer: Peer, who: str, account_id: str) -> list[str]:
    found = peer.get(f"/api/v1/accounts/{account_id}/statuses", who, params={"pinned": "true"})
    return [s["uri"] for s in found]


def test_a_pin_and_an_unpin_reach_the_followers(peers):
    here, there = peers
    dave = _follow(there, "carol", here.acct_of("dave"))
    posted = here.post_status("dave", "pin me")
    assert here.post(f"/api/v1/statuses/{posted['id']}/pin", "dave")["pinned"] is True
    assert _pinned(there, "carol", dave["id"]) == [posted["uri"]]

    redeliver(here, there, "Add")
    assert _pinned(there, "carol", dave["id"]) == [posted["uri"]]

    here.post(f"/api/v1/statuses/{posted['id']}/unpin", "dave")
    assert _pinned(there, "carol", dave["id"]) == []
    redeliver(here, there, "Remove")
    redeliver(here, there, "Add")  # the old Add after the Remove: already seen
    assert _pinned(there, "carol", dave["id"]) == []


def test_a_pin_of_a_status_the_follower_never_got_fetches_it(peers):
    here, there = peers
    posted = here.post_status("dave", "from before the follow")
    dave = _follow(there, "carol", here.acct_of("dave"))
    here.post(f"/api/v1/statuses/{posted['id']}/pin", "dave")
    assert _pinned(there, "carol", dave["id"]) == [posted["uri"]]


def test_an_actor_cannot_pin_someone_else_status(peers):
    here, there = peers
    posted = there.post_status("carol", "carol's")
    seen = status_seen_by(here, "dave", posted["uri"])
    erin_featured = f"{there.url}/users/erin/collections/featured"
    send_as(there, "erin", here, {"type": "Add", "object": posted["uri"], "target": erin_featured})
    assert _pinned(here, "dave", seen["account"]["id"]) == []
    # carol's own Add, though, pins it.
    carol_featured = f"{there.url}/users/carol/collections/featured"
    send_as(there, "carol", here, {"type": "Add", "object": posted["uri"], "target": carol_featured})
    assert _pinned(here, "dave", seen["account"]["id"]) == [posted["uri"]]
    send_as(there, "erin", here, {"type": "Remove", "object": posted["uri"], "target": erin_featured})
    assert _pinned(here, "dave", seen["account"]["id"]) == [posted["uri"]]
