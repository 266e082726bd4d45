"""Status edits across servers (SPEC 24.4, 24.5, 26): an edit goes out as an Update of the Note to
the audience of its Create; the other server keeps the history, marks the status edited and
sends `update` notifications to its accounts that acted on it. Replays, stale versions and
Updates by anyone but the author change nothing."""

from __future__ import annotations

from tests.federation.peers import Peer


def _edit(peer: Peer, who: str, status_id: str, text: str, **fields) -> dict:
    response = peer.call("PUT", f"/api/v1/statuses/{status_id}", who, json={"status": text, **fields})
    assert response.status_code == 200, response.text
    return response.json()


def _deliver_again(sender: Peer, receiver: Peer, kind: str) -> None:
    with sender.server.app.app_context():
        from federation.delivery import deliver
        from models import Activity
        from models import db

        for activity in db.session.scalars(db.select(Activity).where(Activity.type == kind)):
            deliver(f"{receiver.url}/inbox", activity.id)
        db.session.remove()


def test_an_edit_reaches_the_followers_with_its_history(peers):
    here, there = peers
    here.follow("dave", there.acct_of("carol"))
    posted = there.post_status("carol", "first words", spoiler_text="")
    seen = here.get("/api/v1/timelines/home", "dave")[0]
    assert seen["edited_at"] is None
    here.post(f"/api/v1/statuses/{seen['id']}/favourite", "dave")
    _edit(there, "carol", posted["id"], "second words", spoiler_text="careful")

    shown = here.get(f"/api/v1/statuses/{seen['id']}", "dave")
    assert "second words" in shown["content"] and shown["spoiler_text"] == "careful"
    assert shown["edited_at"] is not None
    history = here.get(f"/api/v1/statuses/{seen['id']}/history", "dave")
    assert ["first words" in v["content"] for v in history] == [True, False]
    assert "second words" in history[1]["content"]
    notifications = here.get("/api/v1/notifications", "dave")
    assert [(n["type"], n["status"]["id"]) for n in notifications] == [("update", seen["id"])]

    # The Update again, then the first version's Create again: nothing moves.
    _deliver_again(there, here, "Update")
    _deliver_again(there, here, "Create")
    assert len(here.get(f"/api/v1/statuses/{seen['id']}/history", "dave")) == 2
    assert "second words" in here.get(f"/api/v1/statuses/{seen['id']}", "dave")["content"]
    assert len(here.get("/api/v1/notifications", "dave")) == 1


def test_an_older_version_arriving_late_is_not_applied(peers):
    here, there = peers
    here.follow("dave", there.acct_of("carol"))
    posted = there.post_status("carol", "v1")
    _edit(there, "carol", posted["id"], "v2")
    _edit(there, "carol", posted["id"], "v3")
    with there.server.app.app_context():
        from federation.delivery import publish
        from models import Account
        from models import Activity
        from models import db

        first = db.session.scalars(
            db.select(Activity).where(Activity.type == "Update").order_by(Activity.id)
        ).first()
        late = dict(first.data, id=f"{there.url}/activities/late")  # v2 again, under a new id
        carol = db.session.scalar(db.select(Account).where(Account.nickname == "carol"))
        publish(late, carol, extra_inboxes=[f"{here.url}/inbox"])
        db.session.remove()
    seen = here.get("/api/v1/timelines/home", "dave")[0]
    assert "v3" in seen["content"]
    assert len(here.get(f"/api/v1/statuses/{seen['id']}/history", "dave")) == 3


def test_a_direct_edit_reaches_the_addressed_and_no_one_else_may_edit(peers):
    here, there = peers
    there.account(here.acct_of("dave"), "carol")  # known there, so the mention addresses him
    posted = there.post_status("carol", f"psst @dave@{here.host}", visibility="direct")
    _edit(there, "carol", posted["id"], f"psst again @dave@{here.host}", visibility="direct")
    mention = here.get("/api/v1/notifications", "dave")[0]
    assert mention["type"] == "mention"
    shown = here.get(f"/api/v1/statuses/{mention['status']['id']}", "dave")
    assert "psst again" in shown["content"] and shown["visibility"] == "direct"

    # erin signs an Update of carol's note: only its author may change it.
    with there.server.app.app_context():
        from federation import documents
        from federation.delivery import publish
        from models import Account
        from models import Status
        from models import db

        status = db.session.get(Status, posted["id"])
        erin = db.session.scalar(db.select(Account).where(Account.nickname == "erin"))
        status.content = "<p>forged</p>"
        forged = documents.update_note(status, f"{there.url}/activities/forged")
        db.session.rollback()
        forged["actor"] = erin.ap_id
        publish(forged, erin, extra_inboxes=[f"{here.url}/inbox"])
        db.session.remove()
    assert "psst again" in here.get(f"/api/v1/statuses/{mention['status']['id']}", "dave")["content"]
