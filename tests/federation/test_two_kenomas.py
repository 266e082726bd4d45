"""Two Kenoma servers federating over loopback (SPEC 24): follows, posts, replies and deletes
go from one to the other as signed ActivityPub deliveries, and every effect is read back through
the other server's client API."""

from __future__ import annotations

import pytest

from tests.federation.peers import Peer


@pytest.fixture
def peers(live_server):
    here = Peer(live_server(), "alice", "dave")
    there = Peer(live_server(), "carol", "erin", locked=("erin",))
    return here, there


def test_following_an_unlocked_remote_account_is_accepted(peers):
    here, there = peers
    relationship = here.follow("dave", there.acct_of("carol"))
    # The Follow went out, carol's server accepted it at once and its Accept came back.
    assert relationship["requested"] is False and relationship["following"] is True
    carol = there.account("carol", "carol")
    followers = there.get(f"/api/v1/accounts/{carol['id']}/followers", "carol")
    assert [a["acct"] for a in followers] == [here.acct_of("dave")]
    assert there.get("/api/v1/notifications", "carol")[0]["type"] == "follow"
    dave = here.get("/api/v1/accounts/verify_credentials", "dave")
    assert dave["following_count"] == 1


def test_a_locked_remote_account_is_requested_until_it_authorizes(peers):
    here, there = peers
    relationship = here.follow("dave", there.acct_of("erin"))
    assert relationship["requested"] is True and relationship["following"] is False
    requests_seen = there.get("/api/v1/follow_requests", "erin")
    assert [a["acct"] for a in requests_seen] == [here.acct_of("dave")]
    there.post(f"/api/v1/follow_requests/{requests_seen[0]['id']}/authorize", "erin")
    erin = here.account(there.acct_of("erin"), "dave")
    relation = here.get("/api/v1/accounts/relationships", "dave", params={"id[]": erin["id"]})[0]
    assert relation["following"] is True and relation["requested"] is False


def test_posts_reach_followers_home_and_deletes_follow(peers):
    here, there = peers
    here.follow("dave", there.acct_of("carol"))
    posted = there.post_status("carol", "hello #fediverse from there")
    home = here.get("/api/v1/timelines/home", "dave")
    assert [s["uri"] for s in home] == [posted["uri"]]
    shown = home[0]
    assert shown["account"]["acct"] == there.acct_of("carol")
    assert "hello" in shown["content"] and shown["visibility"] == "public"
    assert [t["name"] for t in shown["tags"]] == ["fediverse"]
    public = here.get("/api/v1/timelines/public", params={"remote": "true"})
    assert [s["uri"] for s in public] == [posted["uri"]]
    deleted = there.call("DELETE", f"/api/v1/statuses/{posted['id']}", "carol")
    assert deleted.status_code == 200
    assert here.get("/api/v1/timelines/home", "dave") == []


def test_a_mention_and_a_reply_notify_across_servers(peers):
    here, there = peers
    here.follow("dave", there.acct_of("carol"))
    mention = there.post_status("carol", f"hi @dave@{here.host}", visibility="direct")
    notification = here.get("/api/v1/notifications", "dave")[0]
    assert notification["type"] == "mention" and notification["status"]["uri"] == mention["uri"]
    assert notification["status"]["visibility"] == "direct"
    # dave replies from here; carol sees the reply in her notifications, threaded under hers.
    reply = here.post_status(
        "dave",
        f"@carol@{there.host} hello back",
        in_reply_to_id=notification["status"]["id"],
        visibility="direct",
    )
    answer = there.get("/api/v1/notifications", "carol")[0]
    assert answer["type"] == "mention" and answer["status"]["uri"] == reply["uri"]
    assert answer["status"]["in_reply_to_id"] == mention["id"]


def test_unfollow_and_replayed_activities_change_nothing_more(peers):
    here, there = peers
    here.follow("dave", there.acct_of("carol"))
    there.post_status("carol", "once")
    with there.server.app.app_context():
        from federation.delivery import deliver
        from models import Activity
        from models import db

        created = db.session.scalars(db.select(Activity).where(Activity.type == "Create")).one()
        deliver(f"{here.url}/inbox", created.id)  # the same Create again, freshly signed
        db.session.remove()
    assert len(here.get("/api/v1/timelines/home", "dave")) == 1
    carol = here.account(there.acct_of("carol"), "dave")
    here.post(f"/api/v1/accounts/{carol['id']}/unfollow", "dave")
    assert there.get(f"/api/v1/accounts/{there.account('carol', 'carol')['id']}/followers", "carol") == []


def test_attachments_stay_on_their_server(peers):
    import io

    from PIL import Image

    here, there = peers
    here.follow("dave", there.acct_of("carol"))
    png = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(png, "PNG")
    uploaded = there.call(
        "POST",
        "/api/v1/media",
        "carol",
        files={"file": ("red.png", png.getvalue(), "image/png")},
        data={"description": "a red square"},
    )
    assert uploaded.status_code == 200, uploaded.text
    posted = there.post_status("carol", "with a picture", media_ids=[uploaded.json()["id"]])
    shown = here.get("/api/v1/timelines/home", "dave")[0]
    assert shown["uri"] == posted["uri"]
    [attachment] = shown["media_attachments"]
    assert attachment["url"] == posted["media_attachments"][0]["url"]
    assert attachment["url"].startswith(there.url) and attachment["description"] == "a red square"
    assert attachment["type"] == "image"


def test_a_deleted_account_disappears_from_the_other_server(peers):
    here, there = peers
    here.follow("dave", there.acct_of("carol"))
    there.follow("carol", here.acct_of("dave"))
    there.post_status("carol", "soon gone")
    assert len(here.get("/api/v1/timelines/home", "dave")) == 1
    deleted = there.call("POST", "/api/pleroma/delete_account", "carol", data={"password": "secret-pw"})
    assert deleted.status_code == 200, deleted.text
    assert here.get("/api/v1/timelines/home", "dave") == []
    dave = here.get("/api/v1/accounts/verify_credentials", "dave")
    assert dave["following_count"] == 0 and dave["followers_count"] == 0
