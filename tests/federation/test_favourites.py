"""Favourites between two Kenomas (SPEC 24.4, 24.5): a Like and its Undo go to the author's
server and show there in favourites_count, favourited_by and notifications; a Misskey Like
with `content` is an emoji reaction; replays change nothing."""

from __future__ import annotations

from tests.federation.acts import add_custom_emoji
from tests.federation.acts import redeliver
from tests.federation.acts import send_as
from tests.federation.acts import status_seen_by
from tests.federation.peers import Peer


def _stored_notifications(peer: Peer) -> int:
    from models import Notification
    from models import db

    with peer.server.app.app_context():
        count = db.session.scalar(db.select(db.func.count()).select_from(Notification))
        db.session.remove()
    return count


def _favourite_notifications(peer: Peer, who: str) -> list[dict]:
    return [n for n in peer.get("/api/v1/notifications", who) if n["type"] == "favourite"]


def test_a_like_reaches_the_author_and_its_undo_takes_it_back(peers):
    here, there = peers
    posted = there.post_status("carol", "like me")
    seen = status_seen_by(here, "dave", posted["uri"])
    liked = here.post(f"/api/v1/statuses/{seen['id']}/favourite", "dave")
    assert liked["favourited"] is True and liked["favourites_count"] == 1
    assert _stored_notifications(here) == 0  # carol reads hers on her server, not here

    shown = there.get(f"/api/v1/statuses/{posted['id']}", "carol")
    assert shown["favourites_count"] == 1
    likers = there.get(f"/api/v1/statuses/{posted['id']}/favourited_by", "carol")
    assert [a["acct"] for a in likers] == [here.acct_of("dave")]
    notifications = _favourite_notifications(there, "carol")
    assert [(n["account"]["acct"], n["status"]["id"]) for n in notifications] == [
        (here.acct_of("dave"), posted["id"])
    ]

    redeliver(here, there, "Like")  # a replay: no second favourite, no second notification
    assert there.get(f"/api/v1/statuses/{posted['id']}", "carol")["favourites_count"] == 1
    assert len(_favourite_notifications(there, "carol")) == 1

    undone = here.post(f"/api/v1/statuses/{seen['id']}/unfavourite", "dave")
    assert undone["favourited"] is False
    assert there.get(f"/api/v1/statuses/{posted['id']}", "carol")["favourites_count"] == 0
    assert there.get(f"/api/v1/statuses/{posted['id']}/favourited_by", "carol") == []
    assert _favourite_notifications(there, "carol") == []

    redeliver(here, there, "Undo")
    redeliver(here, there, "Like")  # an old Like again after its Undo: already seen, ignored
    assert there.get(f"/api/v1/statuses/{posted['id']}", "carol")["favourites_count"] == 0


def test_a_remote_like_of_a_local_status_notifies_its_author(peers):
    here, there = peers
    posted = here.post_status("alice", "from here")
    seen = status_seen_by(there, "erin", posted["uri"])
    there.post(f"/api/v1/statuses/{seen['id']}/favourite", "erin")
    assert here.get(f"/api/v1/statuses/{posted['id']}", "alice")["favourites_count"] == 1
    [notification] = _favourite_notifications(here, "alice")
    assert notification["account"]["acct"] == there.acct_of("erin")
    there.post(f"/api/v1/statuses/{seen['id']}/unfavourite", "erin")
    assert here.get(f"/api/v1/statuses/{posted['id']}", "alice")["favourites_count"] == 0


def test_a_like_of_a_direct_status_from_outside_its_audience_is_dropped(peers):
    here, there = peers
    posted = here.post_status("alice", "just for dave", visibility="direct")
    send_as(there, "erin", here, {"type": "Like", "object": posted["uri"]})
    assert here.get(f"/api/v1/statuses/{posted['id']}", "alice")["favourites_count"] == 0
    assert _favourite_notifications(here, "alice") == []


def test_a_misskey_like_with_content_is_an_emoji_reaction(peers):
    here, there = peers
    posted = here.post_status("alice", "react to me")
    like = send_as(there, "erin", here, {"type": "Like", "object": posted["uri"], "content": "🍮"})
    shown = here.get(f"/api/v1/statuses/{posted['id']}", "alice")
    assert shown["favourites_count"] == 0
    assert [(r["name"], r["count"]) for r in shown["pleroma"]["emoji_reactions"]] == [("🍮", 1)]
    [notification] = [
        n for n in here.get("/api/v1/notifications", "alice") if n["type"] == "pleroma:emoji_reaction"
    ]
    assert notification["emoji"] == "🍮" and notification["account"]["acct"] == there.acct_of("erin")
    send_as(there, "erin", here, {"type": "Undo", "object": like["id"]})
    assert here.get(f"/api/v1/statuses/{posted['id']}", "alice")["pleroma"]["emoji_reactions"] == []


def test_a_misskey_like_with_a_custom_emoji_takes_its_image_from_tag(peers):
    here, there = peers
    image = add_custom_emoji(there, "blobcat")
    posted = here.post_status("alice", "react with yours")
    emoji = {"type": "Emoji", "name": ":blobcat:", "icon": {"type": "Image", "url": image}}
    like = {"type": "Like", "object": posted["uri"], "content": ":blobcat:", "tag": [emoji]}
    send_as(there, "erin", here, like | {"_misskey_reaction": ":blobcat:"})
    [reaction] = here.get(f"/api/v1/statuses/{posted['id']}", "alice")["pleroma"]["emoji_reactions"]
    assert (reaction["name"], reaction["url"], reaction["count"]) == (f"blobcat@{there.host}", image, 1)
