"""Posting a status with a poll (SPEC 26): form and JSON, the limits, media refused, the job that
ends it scheduled, and status pages rendering polls without more statements."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from models import Account
from models import Media
from models import Poll
from models import Status
from models import db
from services.polls import POLL_LIMITS
from services.polls import NewPoll
from services.statuses import NewStatus
from services.statuses import post_status

STATUSES = "/api/v1/statuses"


def poll_count() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(Poll))


def test_create_status_with_poll_as_json(client, app, account, alice_h):
    body = {
        "status": "which?",
        "poll": {"options": ["tea", "coffee"], "expires_in": 3600, "multiple": True, "hide_totals": False},
    }
    response = client.post(STATUSES, json=body, headers=alice_h)
    assert response.status_code == 200
    poll = response.get_json()["poll"]
    assert poll["options"] == [{"title": "tea", "votes_count": 0}, {"title": "coffee", "votes_count": 0}]
    assert poll["multiple"] is True
    assert poll["expired"] is False
    assert poll["votes_count"] == 0
    assert poll["voters_count"] == 0
    assert poll["voted"] is True  # the author: as Mastodon, clients then show the results
    assert poll["own_votes"] == []
    assert poll["expires_at"] is not None
    scheduled = app.extensions["kenoma_jobs"].huey.scheduled()
    assert [task.args for task in scheduled] == [("end_poll", {"poll_id": poll["id"]})]


def test_create_status_with_poll_as_form(client, account, alice_h):
    form = {
        "status": "form poll",
        "poll[options][]": ["yes", "no", "maybe"],
        "poll[expires_in]": "600",
        "poll[hide_totals]": "true",
    }
    response = client.post(STATUSES, data=form, headers=alice_h)
    assert response.status_code == 200
    poll = response.get_json()["poll"]
    assert [o["title"] for o in poll["options"]] == ["yes", "no", "maybe"]
    assert poll["multiple"] is False
    assert poll["voters_count"] is None  # Mastodon: only for multiple-choice polls


def test_status_without_poll_has_null_poll(client, account, alice_h):
    assert client.post(STATUSES, json={"status": "plain"}, headers=alice_h).get_json()["poll"] is None


@pytest.mark.parametrize(
    "poll",
    [
        {"options": ["only one"], "expires_in": 3600},
        {"options": [str(n) for n in range(POLL_LIMITS["max_options"] + 1)], "expires_in": 3600},
        {"options": ["x" * (POLL_LIMITS["max_option_chars"] + 1), "b"], "expires_in": 3600},
        {"options": ["a", "a"], "expires_in": 3600},
        {"options": ["a", " "], "expires_in": 3600},
        {"options": ["a", "b"], "expires_in": POLL_LIMITS["min_expiration"] - 1},
        {"options": ["a", "b"], "expires_in": POLL_LIMITS["max_expiration"] + 1},
        {"options": ["a", "b"]},
        {"expires_in": 3600},
    ],
)
def test_create_status_rejects_bad_poll(client, account, alice_h, poll):
    response = client.post(STATUSES, json={"status": "bad", "poll": poll}, headers=alice_h)
    assert response.status_code == 422
    assert "error" in response.get_json()
    assert poll_count() == 0
    assert db.session.scalar(db.select(db.func.count()).select_from(Status)) == 0


def test_create_status_with_poll_and_media_is_refused(client, account, alice_h):
    media = Media(account_id=account.id, path="a.png", mime_type="image/png")
    db.session.add(media)
    db.session.commit()
    poll = {"options": ["a", "b"], "expires_in": 3600}
    response = client.post(
        STATUSES, json={"status": "both", "media_ids": [media.id], "poll": poll}, headers=alice_h
    )
    assert response.status_code == 422
    assert "media" in response.get_json()["error"]
    assert poll_count() == 0


def test_create_status_preview_with_poll_saves_nothing(client, app, account, alice_h):
    poll = {"options": ["a", "b"], "expires_in": 3600}
    response = client.post(STATUSES, json={"status": "draft", "poll": poll, "preview": True}, headers=alice_h)
    assert response.status_code == 200
    assert response.get_json()["poll"]["options"][0]["title"] == "a"
    assert poll_count() == 0
    assert app.extensions["kenoma_jobs"].huey.scheduled() == []


def test_poll_shows_in_timelines_and_reblogs(client, account, bob, alice_h, bob_h):
    posted = client.post(
        STATUSES, json={"status": "q", "poll": {"options": ["a", "b"], "expires_in": 3600}}, headers=bob_h
    ).get_json()
    reblog = client.post(f"{STATUSES}/{posted['id']}/reblog", headers=alice_h).get_json()
    assert reblog["poll"] is None
    assert reblog["reblog"]["poll"]["id"] == posted["poll"]["id"]
    public = client.get("/api/v1/timelines/public", headers=alice_h).get_json()
    assert {s["id"]: s["reblog"] or s for s in public}[posted["id"]]["poll"]["voted"] is False


def test_status_page_with_polls_issues_no_more_statements(
    client: FlaskClient,
    make_account: Callable[..., Account],
    auth_headers: Callable[..., dict],
    count_queries: Callable,
) -> None:
    alice, bob = make_account("alice"), make_account("bob")
    for n in range(10):
        post_status(bob, NewStatus(text=f"plain {n}"))
    headers = auth_headers(alice)
    url = f"/api/v1/accounts/{bob.id}/statuses?limit=10"
    client.get(url, headers=headers)  # warm-up
    with count_queries() as plain:
        assert len(client.get(url, headers=headers).get_json()) == 10

    for n in range(10):
        poll = NewPoll(options=[f"yes {n}", "no"], expires_in=3600, multiple=bool(n % 2))
        post_status(bob, NewStatus(text=f"poll {n}", poll=poll))
    client.get(url, headers=headers)
    with count_queries() as polls:
        page = client.get(url, headers=headers).get_json()
    assert all(s["poll"] is not None for s in page)
    assert polls.count == plain.count, polls.statements
