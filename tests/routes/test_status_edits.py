"""Status edits (SPEC 26): PUT /api/v1/statuses/:id, its history and source, `update` notifications."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

import models
import readcache
from models import Media
from models import Notification
from models import Poll
from models import PollVote
from models import StatusEdit
from models import StatusMention
from models import db
from models import utcnow
from tests.routes.statuses_helpers import follow
from tests.routes.statuses_helpers import notifications
from tests.routes.statuses_helpers import post

STATUSES = "/api/v1/statuses"
NOT_FOUND = {"error": "Record not found"}
POLL = {"options": ["a", "b"], "expires_in": 3600}


def later(monkeypatch, seconds: int = 60) -> None:
    moment = utcnow() + timedelta(seconds=seconds)
    monkeypatch.setattr(models, "utcnow", lambda: moment)
    monkeypatch.setattr(readcache, "utcnow", lambda: moment)


def edit(client, headers, status_id: str, **data):
    return client.put(f"{STATUSES}/{status_id}", json=data, headers=headers)


def history(client, status_id: str, headers: dict | None = None):
    return client.get(f"{STATUSES}/{status_id}/history", headers=headers or {})


def upload(account, name: str = "a.png") -> Media:
    media = Media(account_id=account.id, path=f"m/{name}", mime_type="image/png")
    db.session.add(media)
    db.session.commit()
    return media


# ---------------------------------------------------------------------------------------------
# Editing


def test_edit_status(client, account, alice_h, monkeypatch):
    original = post(client, alice_h, status="first #one", spoiler_text="cw")
    assert original["edited_at"] is None
    later(monkeypatch)
    response = edit(client, alice_h, original["id"], status="second #two", sensitive=True)
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == original["id"]
    assert body["content"].startswith("second ")
    assert 'data-tag="two"' in body["content"]
    assert body["spoiler_text"] == ""
    assert body["sensitive"] is True
    assert [t["name"] for t in body["tags"]] == ["two"]
    assert body["edited_at"] is not None and body["edited_at"] > body["created_at"]
    assert body["created_at"] == original["created_at"]
    shown = client.get(f"{STATUSES}/{original['id']}", headers=alice_h).get_json()
    assert shown["edited_at"] == body["edited_at"]
    assert "second" in shown["content"]


def test_edit_status_form_encoded(client, account, alice_h):
    original = post(client, alice_h, status="first")
    response = client.put(f"{STATUSES}/{original['id']}", data={"status": "by form"}, headers=alice_h)
    assert response.status_code == 200
    assert "by form" in response.get_json()["content"]


def test_edit_status_keeps_markdown_content_type(client, account, alice_h):
    original = post(client, alice_h, status="*a*", content_type="text/markdown")
    body = edit(client, alice_h, original["id"], status="**b**").get_json()
    assert "<strong>b</strong>" in body["content"]
    source = client.get(f"{STATUSES}/{original['id']}/source", headers=alice_h).get_json()
    assert source == {
        "id": original["id"],
        "text": "**b**",
        "spoiler_text": "",
        "content_type": "text/markdown",
    }
    body = edit(client, alice_h, original["id"], status="**c**", content_type="text/plain").get_json()
    assert "<strong>" not in body["content"]


def test_edit_status_source_reflects_the_edit(client, account, alice_h):
    original = post(client, alice_h, status="old")
    edit(client, alice_h, original["id"], status="new text", spoiler_text="warning")
    source = client.get(f"{STATUSES}/{original['id']}/source", headers=alice_h).get_json()
    assert source["text"] == "new text"
    assert source["spoiler_text"] == "warning"


def test_edit_status_without_auth(client, account, alice_h):
    original = post(client, alice_h, status="old")
    response = client.put(f"{STATUSES}/{original['id']}", json={"status": "new"})
    assert response.status_code == 403
    assert response.get_json() == {"error": "Invalid credentials."}


def test_edit_status_wrong_scope(client, account, alice_h, auth_headers):
    original = post(client, alice_h, status="old")
    response = edit(client, auth_headers(account, "read"), original["id"], status="new")
    assert response.status_code == 403
    assert "old" in client.get(f"{STATUSES}/{original['id']}").get_json()["content"]


def test_edit_someone_elses_status_is_404(client, account, bob, alice_h, bob_h):
    theirs = post(client, bob_h, status="bobs")
    response = edit(client, alice_h, theirs["id"], status="mine now")
    assert response.status_code == 404
    assert response.get_json() == NOT_FOUND
    assert edit(client, alice_h, "nope", status="x").get_json() == NOT_FOUND
    assert "bobs" in client.get(f"{STATUSES}/{theirs['id']}").get_json()["content"]


def test_edit_a_reblog_is_404(client, account, bob, alice_h, bob_h):
    theirs = post(client, bob_h, status="bobs")
    reblog = client.post(f"{STATUSES}/{theirs['id']}/reblog", headers=alice_h).get_json()
    assert edit(client, alice_h, reblog["id"], status="x").status_code == 404


def test_edit_status_bad_input_changes_nothing(client, account, alice_h, app):
    original = post(client, alice_h, status="old", poll=POLL)
    status_id = original["id"]
    too_long = "x" * (app.config["MAX_TOOT_CHARS"] + 1)
    for data in (
        {"status": ""},
        {"status": too_long},
        {"status": "x", "language": "zz"},
        {"status": "x", "poll": {"options": ["only one"], "expires_in": 3600}},
        {"status": "x", "poll": {"options": ["a", "b"], "expires_in": 10}},
    ):
        response = edit(client, alice_h, status_id, **data)
        assert response.status_code == 422, data
        assert "error" in response.get_json()
    response = edit(client, alice_h, status_id, status="x", sensitive="maybe")
    assert response.status_code in (400, 422)
    body = client.get(f"{STATUSES}/{status_id}", headers=alice_h).get_json()
    assert body["edited_at"] is None
    assert "old" in body["content"]
    assert [o["title"] for o in body["poll"]["options"]] == ["a", "b"]
    assert db.session.scalar(select(StatusEdit.id)) is None


def test_edit_status_without_changes_stores_no_version(client, account, alice_h):
    original = post(client, alice_h, status="same")
    body = edit(client, alice_h, original["id"], status="same").get_json()
    assert body["edited_at"] is None
    assert len(history(client, original["id"]).get_json()) == 1


def test_edit_status_media(client, account, bob, alice_h):
    first, second, third = upload(account, "1.png"), upload(account, "2.png"), upload(account, "3.png")
    theirs = upload(bob, "b.png")
    original = post(client, alice_h, status="pics", media_ids=[first.id, second.id])
    response = edit(
        client,
        alice_h,
        original["id"],
        status="pics",
        media_ids=[third.id, first.id, theirs.id],
        media_attributes=[{"id": first.id, "description": "a cat", "focus": "0.5,-0.5"}],
    )
    assert response.status_code == 200
    media = response.get_json()["media_attachments"]
    assert [m["id"] for m in media] == [third.id, first.id]
    assert media[1]["description"] == "a cat"
    assert media[1]["meta"]["focus"] == {"x": 0.5, "y": -0.5}
    db.session.expire_all()
    assert db.session.get(Media, second.id).status_id is None
    versions = history(client, original["id"]).get_json()
    assert [[m["id"] for m in v["media_attachments"]] for v in versions] == [
        [first.id, second.id],
        [third.id, first.id],
    ]
    assert versions[0]["media_attachments"][0]["description"] == ""


def test_edit_status_cannot_take_media_of_another_status(client, account, alice_h):
    used = upload(account)
    post(client, alice_h, status="has it", media_ids=[used.id])
    other = post(client, alice_h, status="text")
    body = edit(client, alice_h, other["id"], status="text", media_ids=[used.id]).get_json()
    assert body["media_attachments"] == []


def test_edit_status_bad_media_attributes(client, account, alice_h):
    media = upload(account)
    original = post(client, alice_h, status="pic", media_ids=[media.id])
    for attributes in ({"id": media.id, "focus": "2,0"}, {"id": media.id, "description": "d" * 1501}):
        response = edit(
            client, alice_h, original["id"], status="new", media_ids=[media.id], media_attributes=[attributes]
        )
        assert response.status_code == 422
    assert "pic" in client.get(f"{STATUSES}/{original['id']}").get_json()["content"]


def test_edit_status_poll_change_resets_votes(client, account, bob, alice_h, bob_h):
    original = post(client, alice_h, status="vote", poll=POLL)
    poll_id = original["poll"]["id"]
    assert (
        client.post(f"/api/v1/polls/{poll_id}/votes", json={"choices": [0]}, headers=bob_h).status_code == 200
    )
    # The same options: the votes stay.
    body = edit(client, alice_h, original["id"], status="vote!", poll=POLL).get_json()
    assert body["poll"]["votes_count"] == 1
    body = edit(
        client, alice_h, original["id"], status="vote!", poll={"options": ["a", "c"], "expires_in": 7200}
    ).get_json()
    assert body["poll"]["id"] == poll_id
    assert [o["title"] for o in body["poll"]["options"]] == ["a", "c"]
    assert body["poll"]["votes_count"] == 0
    assert db.session.scalar(select(PollVote.id)) is None
    versions = history(client, original["id"]).get_json()
    assert [[o["title"] for o in v["poll"]["options"]] for v in versions] == [
        ["a", "b"],
        ["a", "b"],
        ["a", "c"],
    ]
    # No poll given: the poll goes, as in Mastodon.
    body = edit(client, alice_h, original["id"], status="no more poll").get_json()
    assert body["poll"] is None
    assert db.session.scalar(select(Poll.id)) is None


def test_edit_status_adds_a_poll(client, account, alice_h):
    original = post(client, alice_h, status="text")
    body = edit(client, alice_h, original["id"], status="now a poll", poll=POLL).get_json()
    assert [o["title"] for o in body["poll"]["options"]] == ["a", "b"]
    assert body["poll"]["expired"] is False


def test_edit_status_new_mentions_get_no_mention_notification(client, account, bob, carol, alice_h):
    original = post(client, alice_h, status="hi @bob")
    assert len(notifications(bob, "mention")) == 1
    body = edit(client, alice_h, original["id"], status="hi @carol").get_json()
    assert [m["acct"] for m in body["mentions"]] == ["carol"]
    assert notifications(carol, "mention") == []
    assert len(notifications(bob, "mention")) == 1
    rows = {r.account_id: r.is_visible for r in db.session.scalars(select(StatusMention))}
    assert rows == {bob.id: False, carol.id: True}  # bob keeps access, unlisted


# ---------------------------------------------------------------------------------------------
# Notifications


def test_edit_status_notifies_those_who_interacted(
    client, account, bob, carol, make_account, alice_h, bob_h, carol_h, auth_headers
):
    dave = make_account("dave")
    dave_h = auth_headers(dave, "read write")
    original = post(client, alice_h, status="old")
    status_id = original["id"]
    client.post(f"{STATUSES}/{status_id}/reblog", headers=bob_h)
    client.post(f"{STATUSES}/{status_id}/favourite", headers=bob_h)
    client.post(f"{STATUSES}/{status_id}/favourite", headers=carol_h)
    client.put(f"/api/v1/pleroma/statuses/{status_id}/reactions/👍", headers=carol_h)
    post(client, dave_h, status="quoting", quote_id=status_id)
    client.post(f"{STATUSES}/{status_id}/favourite", headers=alice_h)  # the author's own
    edit(client, alice_h, status_id, status="new")
    edit(client, alice_h, status_id, status="newer")
    for who in (bob, carol, dave):
        found = notifications(who, "update")
        assert len(found) == 1, who.nickname
        assert found[0].status_id == status_id
        assert found[0].from_account_id == account.id
    assert notifications(account, "update") == []
    listed = client.get("/api/v1/notifications", headers=bob_h).get_json()
    update = [n for n in listed if n["type"] == "update"]
    assert len(update) == 1
    assert "newer" in update[0]["status"]["content"]


def test_edit_status_does_not_notify_strangers(client, account, bob, alice_h):
    original = post(client, alice_h, status="old")
    edit(client, alice_h, original["id"], status="new")
    assert db.session.scalar(select(Notification.id).where(Notification.type == "update")) is None


# ---------------------------------------------------------------------------------------------
# History


def test_status_history_oldest_first_including_original(client, account, alice_h, monkeypatch):
    original = post(client, alice_h, status="one", spoiler_text="cw1")
    later(monkeypatch, 60)
    edit(client, alice_h, original["id"], status="two")
    later(monkeypatch, 120)
    edit(client, alice_h, original["id"], status="three", sensitive=True)
    response = history(client, original["id"])
    assert response.status_code == 200
    versions = response.get_json()
    assert [
        "one" in versions[0]["content"],
        "two" in versions[1]["content"],
        "three" in versions[2]["content"],
    ] == [
        True,
        True,
        True,
    ]
    assert [v["spoiler_text"] for v in versions] == ["cw1", "", ""]
    assert [v["sensitive"] for v in versions] == [False, False, True]
    assert versions[0]["created_at"] == original["created_at"]
    assert versions[0]["created_at"] < versions[1]["created_at"] < versions[2]["created_at"]
    current = client.get(f"{STATUSES}/{original['id']}").get_json()
    assert versions[2]["created_at"] == current["edited_at"]
    assert all(v["account"]["id"] == account.id for v in versions)
    assert all(v["poll"] is None and v["media_attachments"] == [] and v["emojis"] == [] for v in versions)


def test_status_history_of_an_unedited_status(client, account, alice_h):
    original = post(client, alice_h, status="only")
    versions = history(client, original["id"]).get_json()
    assert len(versions) == 1
    assert versions[0]["content"] == original["content"]
    assert versions[0]["created_at"] == original["created_at"]


def test_status_history_visibility(client, account, bob, carol, alice_h, bob_h, carol_h):
    private = post(client, alice_h, status="followers only", visibility="private")
    edit(client, alice_h, private["id"], status="edited, still private")
    assert history(client, private["id"]).status_code == 404
    assert history(client, private["id"]).get_json() == NOT_FOUND
    assert history(client, private["id"], carol_h).status_code == 404
    follow(bob, account)
    assert len(history(client, private["id"], bob_h).get_json()) == 2
    assert len(history(client, private["id"], alice_h).get_json()) == 2
    assert history(client, "nope", alice_h).status_code == 404
