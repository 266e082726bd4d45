"""Polls across servers (SPEC 24.4, 24.5, 26): a poll goes out as a Question and is shown with
its counts on the other server; a vote there goes back to the author as a named Note, counts
as a vote (it is no status), and the author's server sends the new counts to the voters."""

from __future__ import annotations


def _counts(poll: dict) -> list[int]:
    return [o["votes_count"] for o in poll["options"]]


def _poll(options: list[str], multiple: bool = False) -> dict:
    return {"options": options, "expires_in": 3600, "multiple": multiple}


def test_a_remote_vote_counts_on_the_authors_server_and_comes_back(peers):
    here, there = peers
    here.follow("dave", there.acct_of("carol"))
    posted = there.post_status("carol", "tea or coffee?", poll=_poll(["tea", "coffee"]))
    there.post(f"/api/v1/polls/{posted['poll']['id']}/votes", "erin", json={"choices": [1]})

    seen = here.get("/api/v1/timelines/home", "dave")[0]
    poll = seen["poll"]
    assert [o["title"] for o in poll["options"]] == ["tea", "coffee"] and poll["multiple"] is False
    assert poll["expires_at"][:16] == posted["poll"]["expires_at"][:16] and poll["voted"] is False
    voted = here.post(f"/api/v1/polls/{poll['id']}/votes", "dave", json={"choices": [0]})
    assert voted["voted"] is True and voted["own_votes"] == [0]

    # There: dave's vote counts beside erin's, and it is no status (no reply to carol's).
    counted = there.get(f"/api/v1/polls/{posted['poll']['id']}", "carol")
    assert _counts(counted) == [1, 1] and counted["votes_count"] == 2
    assert there.get(f"/api/v1/statuses/{posted['id']}/context", "carol")["descendants"] == []
    assert there.get(f"/api/v1/statuses/{posted['id']}", "carol")["replies_count"] == 0
    # Here: carol's server sent the Question again with both votes.
    shown = here.get(f"/api/v1/polls/{poll['id']}", "dave")
    assert _counts(shown) == [1, 1] and shown["own_votes"] == [0] and shown["voted"] is True
    again = here.call("POST", f"/api/v1/polls/{poll['id']}/votes", "dave", json={"choices": [1]})
    assert again.status_code == 422

    # The vote delivered again is not counted twice.
    with here.server.app.app_context():
        from federation.delivery import deliver
        from models import Activity
        from models import db

        sent = db.session.scalars(
            db.select(Activity).where(Activity.type == "Create", Activity.is_local.is_(True))
        ).one()
        deliver(f"{there.url}/inbox", sent.id)
        db.session.remove()
    assert _counts(there.get(f"/api/v1/polls/{posted['poll']['id']}", "carol")) == [1, 1]


def test_a_multiple_choice_vote_counts_each_option(peers):
    here, there = peers
    there.follow("erin", here.acct_of("alice"))
    posted = here.post_status("alice", "pick some", poll=_poll(["a", "b", "c"], multiple=True))
    seen = there.get("/api/v1/timelines/home", "erin")[0]
    assert seen["poll"]["multiple"] is True
    there.post(f"/api/v1/polls/{seen['poll']['id']}/votes", "erin", json={"choices": [0, 2]})
    counted = here.get(f"/api/v1/polls/{posted['poll']['id']}", "alice")
    assert _counts(counted) == [1, 0, 1] and counted["voters_count"] == 1
    shown = there.get(f"/api/v1/polls/{seen['poll']['id']}", "erin")
    assert _counts(shown) == [1, 0, 1] and shown["voters_count"] == 1 and shown["own_votes"] == [0, 2]


def test_an_edited_poll_shows_its_new_options_and_history(peers):
    here, there = peers
    here.follow("dave", there.acct_of("carol"))
    posted = there.post_status("carol", "which?", poll=_poll(["one", "two"]))
    seen = here.get("/api/v1/timelines/home", "dave")[0]
    here.post(f"/api/v1/polls/{seen['poll']['id']}/votes", "dave", json={"choices": [0]})
    edited = there.call(
        "PUT",
        f"/api/v1/statuses/{posted['id']}",
        "carol",
        json={"status": "which?", "poll": _poll(["uno", "dos"])},
    )
    assert edited.status_code == 200, edited.text
    shown = here.get(f"/api/v1/statuses/{seen['id']}", "dave")["poll"]
    assert [o["title"] for o in shown["options"]] == ["uno", "dos"]
    assert _counts(shown) == [0, 0] and shown["own_votes"] == [] and shown["voted"] is False
    history = here.get(f"/api/v1/statuses/{seen['id']}/history", "dave")
    assert [[o["title"] for o in v["poll"]["options"]] for v in history] == [["one", "two"], ["uno", "dos"]]
