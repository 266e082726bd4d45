"""Scheduled statuses (SPEC 26): `scheduled_at` on POST /api/v1/statuses, the
/api/v1/scheduled_statuses routes, the limits, and publishing at the time (moved clock)."""

from __future__ import annotations

from datetime import timedelta

import pytest

import models
from models import Media
from models import ScheduledStatus
from models import Status
from models import db
from models import utcnow
from services import scheduled_statuses
from services.scheduled_statuses import publish_due_scheduled_statuses
from services.scheduled_statuses import publish_scheduled_status

STATUSES = "/api/v1/statuses"
SCHEDULED = "/api/v1/scheduled_statuses"
NOT_FOUND = {"error": "Record not found"}
TOO_SOON = {"error": "Validation failed: Scheduled at The scheduled date must be in the future"}


def at(seconds: int = 3600) -> str:
    return (utcnow() + timedelta(seconds=seconds)).isoformat(timespec="seconds") + "Z"


def schedule(client, headers, seconds: int = 3600, **fields):
    return client.post(
        STATUSES, json={"status": "later", "scheduled_at": at(seconds), **fields}, headers=headers
    )


def statuses_count() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(Status))


def rows_count() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(ScheduledStatus))


def add_media(owner) -> Media:
    media = Media(account_id=owner.id, path="a.png", mime_type="image/png")
    db.session.add(media)
    db.session.commit()
    return media


def later(monkeypatch, seconds: int) -> None:
    moment = utcnow() + timedelta(seconds=seconds)
    monkeypatch.setattr(models, "utcnow", lambda: moment)
    monkeypatch.setattr(scheduled_statuses, "utcnow", lambda: moment)


# ---------------------------------------------------------------------------------------------
# Scheduling through POST /api/v1/statuses


def test_post_with_scheduled_at_answers_the_scheduled_status(client, account, alice_h):
    when = at(3600)
    response = client.post(
        STATUSES,
        data={"status": "good morning", "scheduled_at": when, "visibility": "unlisted", "spoiler_text": "cw"},
        headers=alice_h,
    )
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) >= {"id", "scheduled_at", "params", "media_attachments"}
    assert body["scheduled_at"].startswith(when[:19])
    assert body["params"]["text"] == "good morning"
    assert body["params"]["visibility"] == "unlisted"
    assert body["params"]["spoiler_text"] == "cw"
    assert body["params"]["scheduled_at"] is None
    assert body["media_attachments"] == []
    assert statuses_count() == 0
    assert rows_count() == 1


def test_post_scheduled_reserves_media(client, account, bob, alice_h):
    mine, theirs = add_media(account), add_media(bob)
    body = schedule(client, alice_h, media_ids=[mine.id, theirs.id]).get_json()
    assert [m["id"] for m in body["media_attachments"]] == [mine.id]
    assert body["params"]["media_ids"] == [mine.id]
    # A status posted now cannot take media reserved for the scheduled one.
    posted = client.post(STATUSES, json={"status": "now", "media_ids": [mine.id]}, headers=alice_h).get_json()
    assert posted["media_attachments"] == []
    # ...nor can a second scheduled status.
    again = schedule(client, alice_h, media_ids=[mine.id]).get_json()
    assert again["media_attachments"] == []


@pytest.mark.parametrize("seconds", [60, -3600])
def test_post_scheduled_too_soon_is_refused(client, account, alice_h, seconds):
    response = schedule(client, alice_h, seconds=seconds)
    assert response.status_code == 422
    assert response.get_json() == TOO_SOON
    assert rows_count() == 0 and statuses_count() == 0


def test_minimum_comes_from_the_config(app, client, account, alice_h):
    assert schedule(client, alice_h, seconds=120).status_code == 422
    app.config["SCHEDULED_STATUSES_MIN_SECONDS"] = 60
    assert schedule(client, alice_h, seconds=120).status_code == 200


@pytest.mark.parametrize("value", ["tomorrow", "2026-13-45T10:00:00Z", "0001-01-01T00:00:00+05:00"])
def test_post_scheduled_bad_date_is_refused(client, account, alice_h, value):
    response = client.post(STATUSES, json={"status": "x", "scheduled_at": value}, headers=alice_h)
    assert response.status_code == 422
    assert "error" in response.get_json()
    assert rows_count() == 0 and statuses_count() == 0


def test_post_scheduled_checks_the_status_now(client, account, alice_h, app):
    app.config["MAX_TOOT_CHARS"] = 10
    response = schedule(client, alice_h, status="x" * 50)
    assert response.status_code == 422
    assert rows_count() == 0 and statuses_count() == 0


def test_post_scheduled_with_a_poll_keeps_it(client, account, alice_h):
    poll = {"options": ["a", "b"], "expires_in": 600, "multiple": True}
    body = schedule(client, alice_h, poll=poll).get_json()
    assert body["params"]["poll"] == {
        "options": ["a", "b"],
        "expires_in": 600,
        "multiple": True,
        "hide_totals": False,
    }


def test_total_limit(client, account, alice_h, monkeypatch):
    monkeypatch.setattr(scheduled_statuses, "TOTAL_LIMIT", 2)
    assert schedule(client, alice_h, seconds=3600).status_code == 200
    assert schedule(client, alice_h, seconds=90000).status_code == 200
    response = schedule(client, alice_h, seconds=200000)
    assert response.status_code == 422
    assert response.get_json() == {
        "error": "Validation failed: You have exceeded the limit of 2 scheduled posts"
    }
    assert rows_count() == 2


def test_daily_limit(client, account, bob, alice_h, bob_h):
    day = (utcnow() + timedelta(days=2)).replace(hour=0, minute=0, second=0, microsecond=0)
    for i in range(scheduled_statuses.DAILY_LIMIT):
        db.session.add(
            ScheduledStatus(account_id=account.id, scheduled_at=day + timedelta(minutes=i), params={})
        )
    db.session.commit()
    same_day = (day + timedelta(hours=23)).isoformat() + "Z"
    response = client.post(STATUSES, json={"status": "x", "scheduled_at": same_day}, headers=alice_h)
    assert response.status_code == 422
    assert response.get_json() == {
        "error": "Validation failed: You have exceeded the limit of 25 scheduled posts for today"
    }
    next_day = (day + timedelta(days=1)).isoformat() + "Z"
    assert (
        client.post(STATUSES, json={"status": "x", "scheduled_at": next_day}, headers=alice_h).status_code
        == 200
    )
    # The limit is per account.
    assert (
        client.post(STATUSES, json={"status": "x", "scheduled_at": same_day}, headers=bob_h).status_code
        == 200
    )


# ---------------------------------------------------------------------------------------------
# The scheduled_statuses routes


def test_list_scheduled_statuses_paged(client, account, bob, alice_h, bob_h):
    ids = [schedule(client, alice_h, seconds=3600 + i).get_json()["id"] for i in range(3)]
    schedule(client, bob_h)
    response = client.get(f"{SCHEDULED}?limit=2", headers=alice_h)
    assert response.status_code == 200
    assert [row["id"] for row in response.get_json()] == ids[::-1][:2]
    assert 'rel="next"' in response.headers["Link"]
    older = client.get(f"{SCHEDULED}?max_id={ids[1]}", headers=alice_h).get_json()
    assert [row["id"] for row in older] == [ids[0]]


def test_show_scheduled_status(client, account, alice_h):
    media = add_media(account)
    created = schedule(client, alice_h, media_ids=[media.id]).get_json()
    response = client.get(f"{SCHEDULED}/{created['id']}", headers=alice_h)
    assert response.status_code == 200
    assert response.get_json() == created


def test_update_scheduled_status(client, account, alice_h):
    created = schedule(client, alice_h).get_json()
    when = at(7200)
    response = client.put(f"{SCHEDULED}/{created['id']}", json={"scheduled_at": when}, headers=alice_h)
    assert response.status_code == 200
    assert response.get_json()["scheduled_at"].startswith(when[:19])
    assert (
        client.get(f"{SCHEDULED}/{created['id']}", headers=alice_h)
        .get_json()["scheduled_at"]
        .startswith(when[:19])
    )


def test_update_scheduled_status_too_soon_changes_nothing(client, account, alice_h):
    created = schedule(client, alice_h).get_json()
    response = client.put(f"{SCHEDULED}/{created['id']}", data={"scheduled_at": at(10)}, headers=alice_h)
    assert response.status_code == 422
    assert response.get_json() == TOO_SOON
    assert client.get(f"{SCHEDULED}/{created['id']}", headers=alice_h).get_json() == created


def test_delete_scheduled_status_frees_its_media(client, account, alice_h):
    media = add_media(account)
    created = schedule(client, alice_h, media_ids=[media.id]).get_json()
    response = client.delete(f"{SCHEDULED}/{created['id']}", headers=alice_h)
    assert response.status_code == 200
    assert response.get_json() == {}
    assert rows_count() == 0
    assert client.get(f"{SCHEDULED}/{created['id']}", headers=alice_h).status_code == 404
    posted = client.post(
        STATUSES, json={"status": "now", "media_ids": [media.id]}, headers=alice_h
    ).get_json()
    assert [m["id"] for m in posted["media_attachments"]] == [media.id]


def test_others_scheduled_statuses_are_not_found(client, account, bob, alice_h, bob_h):
    created = schedule(client, alice_h).get_json()
    url = f"{SCHEDULED}/{created['id']}"
    assert client.get(SCHEDULED, headers=bob_h).get_json() == []
    for response in (
        client.get(url, headers=bob_h),
        client.put(url, json={"scheduled_at": at(7200)}, headers=bob_h),
        client.delete(url, headers=bob_h),
        client.get(f"{SCHEDULED}/nope", headers=alice_h),
    ):
        assert response.status_code == 404
        assert response.get_json() == NOT_FOUND
    assert rows_count() == 1


def test_scheduled_statuses_need_auth(client, account, alice_h):
    created = schedule(client, alice_h).get_json()
    url = f"{SCHEDULED}/{created['id']}"
    for response in (
        client.get(SCHEDULED),
        client.get(url),
        client.put(url, json={"scheduled_at": at(7200)}),
        client.delete(url),
        client.post(STATUSES, json={"status": "x", "scheduled_at": at()}),
    ):
        assert response.status_code == 403
        assert response.get_json() == {"error": "Invalid credentials."}
    assert rows_count() == 1


def test_scheduled_statuses_scopes(client, account, auth_headers, alice_h):
    created = schedule(client, alice_h).get_json()
    url = f"{SCHEDULED}/{created['id']}"
    reader, writer = auth_headers(account, "read:statuses"), auth_headers(account, "write:statuses")
    assert client.get(SCHEDULED, headers=reader).status_code == 200
    assert client.get(url, headers=reader).status_code == 200
    assert client.get(url, headers=writer).status_code == 403
    assert client.put(url, json={"scheduled_at": at(7200)}, headers=reader).status_code == 403
    assert client.delete(url, headers=reader).status_code == 403
    assert client.put(url, json={"scheduled_at": at(7200)}, headers=writer).status_code == 200
    assert client.delete(url, headers=writer).status_code == 200


# ---------------------------------------------------------------------------------------------
# Publishing


def test_publish_posts_the_status_with_its_media(client, account, alice_h, monkeypatch):
    media = add_media(account)
    created = schedule(client, alice_h, seconds=3600, media_ids=[media.id], visibility="unlisted").get_json()
    later(monkeypatch, 3601)
    publish_scheduled_status(created["id"])
    assert rows_count() == 0
    status = db.session.scalars(db.select(Status)).one()
    assert status.source == "later"
    assert status.visibility == "unlisted"
    assert status.app_name == "Test client"  # the app that scheduled it
    shown = client.get(f"{STATUSES}/{status.id}", headers=alice_h).get_json()
    assert [m["id"] for m in shown["media_attachments"]] == [media.id]
    assert db.session.get(Media, media.id).scheduled_status_id is None


def test_publish_early_waits(client, account, alice_h, monkeypatch):
    created = schedule(client, alice_h, seconds=3600).get_json()
    later(monkeypatch, 1800)
    publish_scheduled_status(created["id"])
    assert rows_count() == 1 and statuses_count() == 0


def test_publish_after_a_move_later_waits_for_the_new_time(client, account, alice_h, monkeypatch):
    created = schedule(client, alice_h, seconds=3600).get_json()
    client.put(f"{SCHEDULED}/{created['id']}", json={"scheduled_at": at(7200)}, headers=alice_h)
    later(monkeypatch, 3601)
    publish_scheduled_status(created["id"])  # the job queued for the first time
    assert rows_count() == 1 and statuses_count() == 0
    later(monkeypatch, 7201)
    publish_scheduled_status(created["id"])
    assert rows_count() == 0 and statuses_count() == 1


def test_deleted_scheduled_status_is_not_published(client, account, alice_h, monkeypatch):
    created = schedule(client, alice_h).get_json()
    client.delete(f"{SCHEDULED}/{created['id']}", headers=alice_h)
    later(monkeypatch, 3601)
    publish_scheduled_status(created["id"])
    assert statuses_count() == 0


def test_publish_runs_once(client, account, alice_h, monkeypatch):
    created = schedule(client, alice_h).get_json()
    later(monkeypatch, 3601)
    publish_scheduled_status(created["id"])
    publish_scheduled_status(created["id"])
    publish_due_scheduled_statuses()
    assert statuses_count() == 1


def test_sweep_publishes_what_fell_due(client, account, alice_h, monkeypatch):
    schedule(client, alice_h, seconds=3600)
    waiting = schedule(client, alice_h, seconds=90000).get_json()
    later(monkeypatch, 4000)
    publish_due_scheduled_statuses()
    assert [row.id for row in db.session.scalars(db.select(ScheduledStatus))] == [waiting["id"]]
    assert statuses_count() == 1


def test_sweep_is_queued_when_a_consumer_starts(app, monkeypatch):
    queued = []
    monkeypatch.setattr(app.extensions["kenoma_jobs"], "enqueue", lambda name, **kw: queued.append(name))
    app.extensions["kenoma_jobs"].enqueue_start_jobs()
    assert "publish_due_scheduled_statuses" in queued


def test_publish_drops_a_status_that_cannot_be_posted(client, account, bob, alice_h, bob_h, monkeypatch):
    parent = client.post(STATUSES, json={"status": "parent"}, headers=bob_h).get_json()
    created = schedule(client, alice_h, in_reply_to_id=parent["id"]).get_json()
    client.delete(f"{STATUSES}/{parent['id']}", headers=bob_h)
    later(monkeypatch, 3601)
    publish_scheduled_status(created["id"])
    assert rows_count() == 0
    assert statuses_count() == 0


def test_posting_schedules_the_job_at_its_time(client, account, alice_h, monkeypatch):
    queued = []
    monkeypatch.setattr(scheduled_statuses.jobs, "enqueue", lambda name, **kw: queued.append((name, kw)))
    created = schedule(client, alice_h).get_json()
    row = db.session.get(ScheduledStatus, created["id"])
    assert queued == [("publish_scheduled_status", {"eta": row.scheduled_at, "scheduled_status_id": row.id})]
