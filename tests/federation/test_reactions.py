"""Emoji reactions between two Kenomas (SPEC 16, 24.4, 24.5): Pleroma's EmojiReact, unicode or a
custom emoji with its image in `tag`, and its Undo; seen on the other server in
pleroma.emoji_reactions and notifications; replays change nothing."""

from __future__ import annotations

from urllib.parse import quote

from tests.federation.acts import add_custom_emoji
from tests.federation.acts import redeliver
from tests.federation.acts import send_as
from tests.federation.acts import status_seen_by
from tests.federation.peers import Peer


def _reactions(peer: Peer, who: str, status_id: str) -> list[tuple[str, int, str | None]]:
    shown = peer.get(f"/api/v1/statuses/{status_id}", who)["pleroma"]["emoji_reactions"]
    return [(r["name"], r["count"], r["url"]) for r in shown]


def _reaction_notifications(peer: Peer, who: str) -> list[dict]:
    return [n for n in peer.get("/api/v1/notifications", who) if n["type"] == "pleroma:emoji_reaction"]


def _react(peer: Peer, who: str, status_id: str, emoji: str, method: str = "PUT") -> dict:
    response = peer.call(method, f"/api/v1/pleroma/statuses/{status_id}/reactions/{quote(emoji)}", who)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_unicode_reaction_and_its_undo(peers):
    here, there = peers
    posted = there.post_status("carol", "react to me")
    seen = status_seen_by(here, "dave", posted["uri"])
    _react(here, "dave", seen["id"], "🍮")
    assert _reactions(there, "carol", posted["id"]) == [("🍮", 1, None)]
    listed = there.get(f"/api/v1/pleroma/statuses/{posted['id']}/reactions", "carol")
    assert [a["acct"] for a in listed[0]["accounts"]] == [here.acct_of("dave")]
    [notification] = _reaction_notifications(there, "carol")
    assert notification["emoji"] == "🍮" and notification["account"]["acct"] == here.acct_of("dave")

    redeliver(here, there, "EmojiReact")
    assert _reactions(there, "carol", posted["id"]) == [("🍮", 1, None)]
    assert len(_reaction_notifications(there, "carol")) == 1

    _react(here, "dave", seen["id"], "🍮", method="DELETE")
    assert _reactions(there, "carol", posted["id"]) == []
    assert _reaction_notifications(there, "carol") == []
    redeliver(here, there, "Undo")
    redeliver(here, there, "EmojiReact")
    assert _reactions(there, "carol", posted["id"]) == []


def test_a_custom_emoji_reaction_carries_its_image(peers):
    here, there = peers
    image = add_custom_emoji(here, "kenoma")
    posted = there.post_status("carol", "custom please")
    seen = status_seen_by(here, "dave", posted["uri"])
    _react(here, "dave", seen["id"], "🍮")
    _react(here, "dave", seen["id"], ":kenoma:")
    remote_name = f"kenoma@{here.host}"
    assert _reactions(there, "carol", posted["id"]) == [("🍮", 1, None), (remote_name, 1, image)]
    custom = [n for n in _reaction_notifications(there, "carol") if n["emoji_url"]]
    assert [(n["emoji"], n["emoji_url"]) for n in custom] == [(remote_name, image)]
    # Someone there may now react with the same remote emoji (SPEC 16 rule 3).
    _react(there, "erin", posted["id"], f":{remote_name}:")
    assert _reactions(there, "carol", posted["id"])[1] == (remote_name, 2, image)

    # Taking the custom one back undoes that EmojiReact, not the other emoji's.
    _react(here, "dave", seen["id"], ":kenoma:", method="DELETE")
    assert _reactions(there, "carol", posted["id"]) == [("🍮", 1, None), (remote_name, 1, image)]


def test_a_reaction_from_outside_a_direct_status_audience_is_dropped(peers):
    here, there = peers
    posted = here.post_status("alice", "only dave", visibility="direct")
    send_as(there, "erin", here, {"type": "EmojiReact", "object": posted["uri"], "content": "🍮"})
    assert _reactions(here, "alice", posted["id"]) == []
    assert _reaction_notifications(here, "alice") == []


def test_an_emoji_react_that_is_not_an_emoji_changes_nothing(peers):
    here, there = peers
    posted = here.post_status("alice", "hello")
    send_as(there, "erin", here, {"type": "EmojiReact", "object": posted["uri"], "content": "not one"})
    send_as(there, "erin", here, {"type": "EmojiReact", "object": posted["uri"], "content": ":nope:"})
    assert _reactions(here, "alice", posted["id"]) == []
