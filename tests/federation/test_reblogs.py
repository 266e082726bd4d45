"""Reblogs between two Kenomas (SPEC 24.4, 24.5): a local reblog goes out as an Announce (to the
author's server and the reblogger's followers) and unreblogging as its Undo; an Announce of a
status the receiver does not know yet fetches it; replays change nothing."""

from __future__ import annotations

from tests.federation.acts import redeliver
from tests.federation.acts import send_as
from tests.federation.acts import status_seen_by
from tests.federation.peers import Peer


def _follow(peer: Peer, who: str, acct: str) -> None:
    assert peer.follow(who, acct)["following"] is True


def _reblog_notifications(peer: Peer, who: str) -> list[dict]:
    return [n for n in peer.get("/api/v1/notifications", who) if n["type"] == "reblog"]


def _home(peer: Peer, who: str) -> list[tuple[str, str | None]]:
    """(author acct, reblogged uri) of each home timeline entry."""
    return [
        (s["account"]["acct"], s["reblog"]["uri"] if s["reblog"] else None)
        for s in peer.get("/api/v1/timelines/home", who)
    ]


def test_a_reblog_reaches_the_author_and_the_reblogger_followers(peers):
    here, there = peers
    _follow(there, "erin", here.acct_of("dave"))
    posted = there.post_status("carol", "boost me")
    seen = status_seen_by(here, "dave", posted["uri"])
    reblog = here.post(f"/api/v1/statuses/{seen['id']}/reblog", "dave")
    assert reblog["reblog"]["reblogged"] is True

    assert there.get(f"/api/v1/statuses/{posted['id']}", "carol")["reblogs_count"] == 1
    boosters = there.get(f"/api/v1/statuses/{posted['id']}/reblogged_by", "carol")
    assert [a["acct"] for a in boosters] == [here.acct_of("dave")]
    [notification] = _reblog_notifications(there, "carol")
    assert notification["account"]["acct"] == here.acct_of("dave")
    assert notification["status"]["id"] == posted["id"]
    assert _home(there, "erin") == [(here.acct_of("dave"), posted["uri"])]

    redeliver(here, there, "Announce")  # a replay: still one reblog
    assert there.get(f"/api/v1/statuses/{posted['id']}", "carol")["reblogs_count"] == 1
    assert len(_reblog_notifications(there, "carol")) == 1
    assert len(_home(there, "erin")) == 1

    here.post(f"/api/v1/statuses/{seen['id']}/unreblog", "dave")
    assert there.get(f"/api/v1/statuses/{posted['id']}", "carol")["reblogs_count"] == 0
    assert _reblog_notifications(there, "carol") == []
    assert _home(there, "erin") == []
    redeliver(here, there, "Undo")
    redeliver(here, there, "Announce")  # the old Announce after its Undo: already seen
    assert there.get(f"/api/v1/statuses/{posted['id']}", "carol")["reblogs_count"] == 0
    assert _home(there, "erin") == []


def test_an_announce_of_an_unknown_status_fetches_it(peers):
    here, there = peers
    _follow(here, "dave", there.acct_of("carol"))
    posted = there.post_status("erin", "dave does not know me yet")
    there.post(f"/api/v1/statuses/{posted['id']}/reblog", "carol")
    [entry] = here.get("/api/v1/timelines/home", "dave")
    assert entry["account"]["acct"] == there.acct_of("carol")
    assert entry["reblog"]["uri"] == posted["uri"]
    assert entry["reblog"]["account"]["acct"] == there.acct_of("erin")
    assert "dave does not know me yet" in entry["reblog"]["content"]

    there.post(f"/api/v1/statuses/{posted['id']}/unreblog", "carol")
    assert here.get("/api/v1/timelines/home", "dave") == []


def test_a_remote_reblog_of_a_local_status_notifies_its_author(peers):
    here, there = peers
    posted = here.post_status("alice", "from here")
    seen = status_seen_by(there, "erin", posted["uri"])
    wrapper = there.post(f"/api/v1/statuses/{seen['id']}/reblog", "erin")
    assert here.get(f"/api/v1/statuses/{posted['id']}", "alice")["reblogs_count"] == 1
    [notification] = _reblog_notifications(here, "alice")
    assert notification["account"]["acct"] == there.acct_of("erin")
    # Deleting the reblog itself (not /unreblog) takes it back the same way.
    assert there.call("DELETE", f"/api/v1/statuses/{wrapper['id']}", "erin").status_code == 200
    assert here.get(f"/api/v1/statuses/{posted['id']}", "alice")["reblogs_count"] == 0
    assert _reblog_notifications(here, "alice") == []


def test_a_reblog_of_a_private_status_is_not_federated_from_outside(peers):
    here, there = peers
    posted = here.post_status("alice", "followers only", visibility="private")
    send_as(there, "erin", here, {"type": "Announce", "object": posted["uri"], "to": [], "cc": []})
    assert here.get(f"/api/v1/statuses/{posted['id']}", "alice")["reblogs_count"] == 0
