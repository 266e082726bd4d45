"""Polls (SPEC 26): reading a poll, voting, hidden totals, and the end of a poll (moved clock)."""

from __future__ import annotations

from datetime import timedelta

import pytest

import models
import readcache
from models import Notification
from models import Poll
from models import PollVote
from models import db
from models import utcnow
from services import polls
from services.polls import NewPoll
from services.statuses import NewStatus
from services.statuses import post_status

POLLS = "/api/v1/polls"
NOT_FOUND = {"error": "Record not found"}


def make_poll(author, *options, visibility="public", **kwargs):
    poll = NewPoll(options=list(options or ("a", "b", "c")), expires_in=3600, **kwargs)
    status = post_status(author, NewStatus(text="poll", visibility=visibility, poll=poll))
    return db.session.scalar(db.select(Poll).where(Poll.status_id == status.id))


def votes() -> list[tuple[str, int]]:
    rows = db.session.execute(db.select(PollVote.account_id, PollVote.choice))
    return sorted(tuple(row) for row in rows)


def later(monkeypatch, seconds: int = 7200) -> None:
    moment = utcnow() + timedelta(seconds=seconds)
    monkeypatch.setattr(models, "utcnow", lambda: moment)
    monkeypatch.setattr(readcache, "utcnow", lambda: moment)


# ---------------------------------------------------------------------------------------------
# Reading


def test_show_poll(client, account, bob, alice_h):
    poll = make_poll(bob)
    response = client.get(f"{POLLS}/{poll.id}", headers=alice_h)
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == poll.id
    assert [o["title"] for o in body["options"]] == ["a", "b", "c"]
    assert body["voted"] is False
    assert body["emojis"] == []


def test_show_poll_anonymous_on_a_public_status(client, bob):
    poll = make_poll(bob)
    body = client.get(f"{POLLS}/{poll.id}").get_json()
    assert body["voted"] is False
    assert body["own_votes"] == []


def test_show_poll_of_a_status_the_reader_cannot_see_is_404(client, account, bob, alice_h):
    poll = make_poll(bob, visibility="private")
    response = client.get(f"{POLLS}/{poll.id}", headers=alice_h)
    assert response.status_code == 404
    assert response.get_json() == NOT_FOUND
    assert client.get(f"{POLLS}/nope", headers=alice_h).get_json() == NOT_FOUND


def test_show_poll_without_read_scope_reads_as_anonymous(client, account, bob, auth_headers):
    poll = make_poll(bob, visibility="private")
    models.db.session.add(models.Follow(follower_id=account.id, followee_id=bob.id))
    db.session.commit()
    assert client.get(f"{POLLS}/{poll.id}", headers=auth_headers(account, "read")).status_code == 200
    response = client.get(f"{POLLS}/{poll.id}", headers=auth_headers(account, "write"))
    assert response.status_code == 404


# ---------------------------------------------------------------------------------------------
# Voting


def test_vote_json(client, account, bob, alice_h):
    poll = make_poll(bob)
    response = client.post(f"{POLLS}/{poll.id}/votes", json={"choices": [1]}, headers=alice_h)
    assert response.status_code == 200
    body = response.get_json()
    assert body["voted"] is True
    assert body["own_votes"] == [1]
    assert [o["votes_count"] for o in body["options"]] == [0, 1, 0]
    assert body["votes_count"] == 1
    assert votes() == [(account.id, 1)]


def test_vote_form_multiple(client, account, bob, carol, alice_h, carol_h):
    poll = make_poll(bob, multiple=True)
    response = client.post(f"{POLLS}/{poll.id}/votes", data={"choices[]": ["0", "2"]}, headers=alice_h)
    assert response.status_code == 200
    assert response.get_json()["own_votes"] == [0, 2]
    body = client.post(f"{POLLS}/{poll.id}/votes", json={"choices": [2]}, headers=carol_h).get_json()
    assert body["votes_count"] == 3
    assert body["voters_count"] == 2
    assert [o["votes_count"] for o in body["options"]] == [1, 0, 2]


def test_vote_shows_on_the_status(client, account, bob, alice_h):
    poll = make_poll(bob)
    client.post(f"{POLLS}/{poll.id}/votes", json={"choices": [0]}, headers=alice_h)
    status = client.get(f"/api/v1/statuses/{poll.status_id}", headers=alice_h).get_json()
    assert status["poll"]["own_votes"] == [0]
    assert status["poll"]["options"][0]["votes_count"] == 1


@pytest.mark.parametrize(
    ("choices", "message"),
    [
        ([0, 1], "Validation failed: This poll takes one choice"),
        ([3], "Validation failed: Invalid choice"),
        ([], "Validation failed: Choose at least one option"),
    ],
)
def test_vote_rejects_bad_choices(client, account, bob, alice_h, choices, message):
    poll = make_poll(bob)
    response = client.post(f"{POLLS}/{poll.id}/votes", json={"choices": choices}, headers=alice_h)
    assert response.status_code == 422
    assert response.get_json() == {"error": message}
    assert votes() == []


def test_vote_twice_is_refused(client, account, bob, alice_h):
    poll = make_poll(bob, multiple=True)
    client.post(f"{POLLS}/{poll.id}/votes", json={"choices": [0]}, headers=alice_h)
    response = client.post(f"{POLLS}/{poll.id}/votes", json={"choices": [1]}, headers=alice_h)
    assert response.status_code == 422
    assert "already voted" in response.get_json()["error"]
    assert votes() == [(account.id, 0)]


def test_vote_in_own_poll_is_refused(client, account, alice_h):
    poll = make_poll(account)
    response = client.post(f"{POLLS}/{poll.id}/votes", json={"choices": [0]}, headers=alice_h)
    assert response.status_code == 422
    assert votes() == []


def test_vote_after_the_end_is_refused(client, account, bob, alice_h, monkeypatch):
    poll = make_poll(bob)
    later(monkeypatch)
    response = client.post(f"{POLLS}/{poll.id}/votes", json={"choices": [0]}, headers=alice_h)
    assert response.status_code == 422
    assert response.get_json() == {"error": "Validation failed: The poll has already ended"}
    assert votes() == []


def test_vote_needs_auth_and_write_scope(client, account, bob, auth_headers):
    poll = make_poll(bob)
    url = f"{POLLS}/{poll.id}/votes"
    response = client.post(url, json={"choices": [0]})
    assert response.status_code == 403
    assert response.get_json() == {"error": "Invalid credentials."}
    assert client.post(url, json={"choices": [0]}, headers=auth_headers(account, "read")).status_code == 403
    assert votes() == []


def test_vote_in_a_poll_the_voter_cannot_see_is_404(client, account, bob, alice_h):
    poll = make_poll(bob, visibility="private")
    response = client.post(f"{POLLS}/{poll.id}/votes", json={"choices": [0]}, headers=alice_h)
    assert response.status_code == 404
    assert response.get_json() == NOT_FOUND
    assert votes() == []


# ---------------------------------------------------------------------------------------------
# Hidden totals and the end of a poll


def test_hidden_totals_until_the_end_except_for_the_author(client, account, bob, alice_h, bob_h, monkeypatch):
    poll = make_poll(bob, hide_totals=True)
    body = client.post(f"{POLLS}/{poll.id}/votes", json={"choices": [0]}, headers=alice_h).get_json()
    assert [o["votes_count"] for o in body["options"]] == [None, None, None]
    assert body["votes_count"] == 1
    own = client.get(f"{POLLS}/{poll.id}", headers=bob_h).get_json()
    assert [o["votes_count"] for o in own["options"]] == [1, 0, 0]
    later(monkeypatch)
    ended = client.get(f"{POLLS}/{poll.id}", headers=alice_h).get_json()
    assert ended["expired"] is True
    assert [o["votes_count"] for o in ended["options"]] == [1, 0, 0]


def test_poll_counts_as_ended_before_its_job_runs(client, app, account, bob, alice_h, monkeypatch):
    app.config["READ_CACHE"] = True
    poll = make_poll(bob)
    assert client.get(f"{POLLS}/{poll.id}", headers=alice_h).get_json()["expired"] is False
    # A kept answer (readcache.py) holds no longer than the poll runs, though nothing is written.
    status = client.get(f"/api/v1/statuses/{poll.status_id}", headers=alice_h).get_json()
    assert status["poll"]["expired"] is False
    later(monkeypatch)
    assert client.get(f"{POLLS}/{poll.id}", headers=alice_h).get_json()["expired"] is True
    status = client.get(f"/api/v1/statuses/{poll.status_id}", headers=alice_h).get_json()
    assert status["poll"]["expired"] is True
    assert db.session.get(Poll, poll.id).is_closed is False


def poll_notifications() -> list[tuple[str, str]]:
    rows = db.session.execute(
        db.select(Notification.account_id, Notification.status_id).where(Notification.type == "poll")
    )
    return sorted(tuple(row) for row in rows)


def test_end_poll_notifies_voters_and_the_author(client, account, bob, carol, alice_h, carol_h, monkeypatch):
    poll = make_poll(bob, multiple=True)
    client.post(f"{POLLS}/{poll.id}/votes", json={"choices": [0, 1]}, headers=alice_h)
    client.post(f"{POLLS}/{poll.id}/votes", json={"choices": [2]}, headers=carol_h)
    later(monkeypatch)
    polls.end_poll(poll.id)
    expected = sorted((who.id, poll.status_id) for who in (account, bob, carol))
    assert poll_notifications() == expected
    polls.end_poll(poll.id)  # a second run sends nothing more
    assert poll_notifications() == expected
    listed = client.get("/api/v1/notifications", headers=alice_h).get_json()
    assert listed[0]["type"] == "poll"
    assert listed[0]["status"]["poll"]["expired"] is True


def test_end_poll_run_early_waits_for_the_end(app, account, bob):
    poll = make_poll(bob)
    huey = app.extensions["kenoma_jobs"].huey
    before = len(huey.scheduled())
    polls.end_poll(poll.id)
    assert poll_notifications() == []
    assert db.session.get(Poll, poll.id).is_closed is False
    assert len(huey.scheduled()) == before + 1


def test_end_poll_of_a_deleted_status_does_nothing(client, account, alice_h):
    poll = make_poll(account)
    poll_id = poll.id
    assert client.delete(f"/api/v1/statuses/{poll.status_id}", headers=alice_h).status_code == 200
    polls.end_poll(poll_id)
    assert poll_notifications() == []
