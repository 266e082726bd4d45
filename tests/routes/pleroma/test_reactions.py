from __future__ import annotations

from urllib.parse import quote

import pytest

from models import Block
from models import Follow
from models import Mute
from models import Notification
from models import db
from services.statuses import NewStatus
from services.statuses import post_status
from tests.conftest import sql_log


@pytest.fixture
def people(make_account):
    return make_account("alice"), make_account("bob"), make_account("carol")


@pytest.fixture
def status(people):
    return post_status(people[0], NewStatus(text="react to me"))


def _put(client, headers, status_id, emoji, prefix="/api/v1/pleroma"):
    return client.put(f"{prefix}/statuses/{status_id}/reactions/{quote(emoji)}", headers=headers)


@pytest.mark.parametrize("prefix", ["/api/v1/pleroma", "/api/pleroma"])
def test_put_reaction_returns_status_with_reaction(client, people, status, auth_headers, prefix):
    bob = people[1]
    response = _put(client, auth_headers(bob), status.id, "😀", prefix)
    assert response.status_code == 200
    reactions = response.get_json()["pleroma"]["emoji_reactions"]
    assert reactions == [{"name": "😀", "count": 1, "me": True, "url": None, "account_ids": [bob.id]}]
    assert response.get_json()["emoji_reactions"] == reactions


def test_put_reaction_twice_is_a_no_op_and_notifies_once(client, people, status, auth_headers):
    alice, bob, _ = people
    headers = auth_headers(bob)
    _put(client, headers, status.id, "😀")
    response = _put(client, headers, status.id, "😀")
    assert response.status_code == 200
    assert response.get_json()["pleroma"]["emoji_reactions"][0]["count"] == 1
    notes = db.session.scalars(db.select(Notification).where(Notification.account_id == alice.id)).all()
    assert [(n.type, n.emoji) for n in notes] == [("pleroma:emoji_reaction", "😀")]


def test_put_reaction_stores_fully_qualified_form(client, people, status, auth_headers):
    response = _put(client, auth_headers(people[1]), status.id, "\u26a0")
    assert response.get_json()["pleroma"]["emoji_reactions"][0]["name"] == "\u26a0\ufe0f"


@pytest.mark.parametrize("bad", ["x", "😀😀", "hi😀", ":nosuchemoji:", ":remote@else.where:"])
def test_put_reaction_rejects_invalid_emoji(client, people, status, auth_headers, bad):
    response = _put(client, auth_headers(people[1]), status.id, bad)
    assert response.status_code == 400
    assert response.get_json() == {"error": "Could not add reaction emoji"}


def test_put_reaction_accepts_a_regional_indicator(client, people, status, auth_headers):
    assert _put(client, auth_headers(people[1]), status.id, "\U0001f1e6").status_code == 200


def test_put_reaction_on_unknown_or_invisible_status_is_400(client, people, auth_headers):
    alice, bob, carol = people
    secret = post_status(alice, NewStatus(text="hi @bob", visibility="direct"))
    for status_id in ("nope", secret.id):
        response = _put(client, auth_headers(carol), status_id, "😀")
        assert response.status_code == 400
        assert response.get_json() == {"error": "Could not add reaction emoji"}


def test_put_reaction_needs_auth_and_scope(client, people, status, auth_headers):
    assert _put(client, {}, status.id, "😀").get_json() == {"error": "Invalid credentials."}
    response = _put(client, auth_headers(people[1], "read"), status.id, "😀")
    assert response.status_code == 403
    assert response.get_json() == {"error": "Insufficient permissions: write:statuses."}


def test_delete_reaction_removes_it_and_its_notification(client, people, status, auth_headers):
    bob = people[1]
    headers = auth_headers(bob)
    _put(client, headers, status.id, "😀")
    response = client.delete(f"/api/v1/pleroma/statuses/{status.id}/reactions/{quote('😀')}", headers=headers)
    assert response.status_code == 200
    assert response.get_json()["pleroma"]["emoji_reactions"] == []
    assert db.session.scalar(db.select(db.func.count()).select_from(Notification)) == 0
    again = client.delete(f"/api/v1/pleroma/statuses/{status.id}/reactions/{quote('😀')}", headers=headers)
    assert again.status_code == 400
    assert again.get_json() == {"error": "Could not remove reaction emoji"}


def test_list_reactions_in_order_of_first_use_with_accounts(client, people, status, auth_headers):
    alice, bob, carol = people
    _put(client, auth_headers(bob), status.id, "👍")
    _put(client, auth_headers(carol), status.id, "😀")
    _put(client, auth_headers(carol), status.id, "👍")
    body = client.get(
        f"/api/v1/pleroma/statuses/{status.id}/reactions", headers=auth_headers(carol)
    ).get_json()
    assert [(e["name"], e["count"], e["me"]) for e in body] == [("👍", 2, True), ("😀", 1, True)]
    assert [a["username"] for a in body[0]["accounts"]] == ["bob", "carol"]
    anonymous = client.get(f"/api/pleroma/statuses/{status.id}/reactions").get_json()
    assert [e["me"] for e in anonymous] == [False, False]
    one = client.get(f"/api/v1/pleroma/statuses/{status.id}/reactions/{quote('😀')}").get_json()
    assert [e["name"] for e in one] == ["😀"]


def test_list_reactions_hides_blocked_and_muted_reactors(client, people, status, auth_headers):
    alice, bob, carol = people
    _put(client, auth_headers(bob), status.id, "😀")
    _put(client, auth_headers(carol), status.id, "🎉")
    db.session.add_all(
        [Block(account_id=alice.id, target_id=bob.id), Mute(account_id=alice.id, target_id=carol.id)]
    )
    db.session.commit()
    url = f"/api/v1/pleroma/statuses/{status.id}/reactions"
    assert client.get(url, headers=auth_headers(alice)).get_json() == []
    with_muted = client.get(url + "?with_muted=true", headers=auth_headers(alice)).get_json()
    assert [e["name"] for e in with_muted] == ["🎉"]
    status_view = client.get(f"/api/v1/statuses/{status.id}", headers=auth_headers(alice)).get_json()
    assert status_view["pleroma"]["emoji_reactions"] == []


def test_list_reactions_of_a_status_the_reader_cannot_see_is_empty(client, people, auth_headers):
    alice, bob, carol = people
    private = post_status(alice, NewStatus(text="followers only", visibility="private"))
    assert _put(client, auth_headers(alice), private.id, "🎉").status_code == 200
    url = f"/api/v1/pleroma/statuses/{private.id}/reactions"
    assert [e["name"] for e in client.get(url, headers=auth_headers(alice)).get_json()] == ["🎉"]
    assert client.get(url, headers=auth_headers(bob)).get_json() == []
    assert client.get(url).get_json() == []


def test_list_reactions_runs_three_statements_whatever_the_reactors(
    client, people, status, make_account, auth_headers, count_queries
):
    reader = auth_headers(people[0])
    url = f"/api/v1/pleroma/statuses/{status.id}/reactions"
    for n, emoji in enumerate(["👍", "🎉", "😀", "🔥", "👀"]):
        _put(client, auth_headers(make_account(f"fan{n}")), status.id, emoji)
    with count_queries() as counter:
        body = client.get(url, headers=reader).get_json()
    assert len(body) == 5
    assert counter.count <= 3, counter.statements  # token, reader, reactions with their accounts


def test_list_reactions_of_unknown_status_is_empty(client):
    response = client.get("/api/v1/pleroma/statuses/nope/reactions")
    assert response.status_code == 200
    assert response.get_json() == []


def test_akkoma_alias_paths_react_and_unreact(client, people, status, auth_headers):
    headers = auth_headers(people[1])
    put = client.put(f"/api/v1/statuses/{status.id}/emoji_reactions/{quote('🎉')}", headers=headers)
    assert put.status_code == 200
    assert put.get_json()["pleroma"]["emoji_reactions"][0]["name"] == "🎉"
    gone = client.delete(f"/api/v1/statuses/{status.id}/emoji_reactions/{quote('🎉')}", headers=headers)
    assert gone.status_code == 200 and gone.get_json()["emoji_reactions"] == []
    assert client.put(f"/api/v1/statuses/{status.id}/emoji_reactions/x", headers=headers).status_code == 400


@pytest.mark.parametrize(
    "path",
    ["/api/v1/pleroma/statuses/{id}/reactions/{emoji}", "/api/v1/statuses/{id}/emoji_reactions/{emoji}"],
)
def test_put_reaction_reads_first_and_renders_without_loading_again(
    client, people, status, auth_headers, path
):
    """Pleroma's path and Akkoma's share one: the same statements, the same answer."""
    alice, bob, _ = people
    headers = auth_headers(bob)
    with sql_log() as log:
        response = client.put(path.format(id=status.id, emoji=quote("🎉")), headers=headers)
    assert response.status_code == 200
    assert response.get_json()["pleroma"]["emoji_reactions"][0]["account_ids"] == [bob.id]
    assert response.get_json()["account"]["id"] == alice.id
    # SQLite writers queue for one lock: it is held for the two inserts only, nothing read under it.
    first_write = next(i for i, sql in enumerate(log) if sql.startswith(("INSERT", "UPDATE", "DELETE")))
    commit = log.index("COMMIT")
    assert [sql.split()[2] for sql in log[first_write:commit]] == ["emoji_reaction", "notification"]
    # The status, its author and the reader stay loaded across the commit; whether alice has a
    # Web Push subscription was read with the notification checks, not asked again after it.
    # The answer's per-status facts (mentions, reactions...) were read before the first write
    # too: nothing runs after the commit.
    assert log[commit + 1 :] == []
    assert any(sql.startswith("SELECT 'mention'") for sql in log[:first_write])
    assert response.get_json() == client.get(f"/api/v1/statuses/{status.id}", headers=headers).get_json()


def test_put_reaction_notifies_no_one_who_blocks_the_reactor_or_muted_the_thread(
    client, people, auth_headers
):
    alice, bob, carol = people
    blocked = post_status(alice, NewStatus(text="bob is blocked"))
    muted = post_status(alice, NewStatus(text="a muted thread"))
    db.session.add(Block(account_id=alice.id, target_id=bob.id))
    db.session.commit()
    assert client.post(f"/api/v1/statuses/{muted.id}/mute", headers=auth_headers(alice)).status_code == 200
    assert _put(client, auth_headers(bob), blocked.id, "🎉").status_code == 200
    assert _put(client, auth_headers(carol), muted.id, "🎉").status_code == 200
    assert _put(client, auth_headers(carol), blocked.id, "🎉").status_code == 200
    assert _put(client, auth_headers(alice), blocked.id, "🎉").status_code == 200  # one's own: none
    rows = db.session.execute(
        db.select(Notification.from_account_id, Notification.status_id).where(
            Notification.account_id == alice.id
        )
    ).all()
    assert rows == [(carol.id, blocked.id)]


def test_put_reaction_from_a_stranger_is_not_notified_with_block_from_strangers(client, people, auth_headers):
    alice, bob, carol = people
    mine = post_status(alice, NewStatus(text="friends only, please"))
    db.session.add(Follow(follower_id=alice.id, followee_id=carol.id))
    alice.notification_settings = {"block_from_strangers": True}
    db.session.commit()
    assert _put(client, auth_headers(bob), mine.id, "🎉").status_code == 200
    assert _put(client, auth_headers(carol), mine.id, "🎉").status_code == 200
    senders = db.session.scalars(
        db.select(Notification.from_account_id).where(Notification.account_id == alice.id)
    )
    assert list(senders) == [carol.id]
