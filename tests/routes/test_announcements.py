"""Announcements (SPEC 26): GET /api/v1/announcements, dismiss, reactions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlalchemy import select

import models
from models import Account
from models import AnnouncementReaction
from models import AnnouncementRead
from models import db
from services import announcements
from tests.conftest import copy_fixture_pack

URL = "/api/v1/announcements"


def made(text: str = "Maintenance tonight", **window: datetime | None) -> str:
    return announcements.create(text, window.get("starts_at"), window.get("ends_at"), False).id


def later(monkeypatch: pytest.MonkeyPatch, **delta: float) -> None:
    moment = models.utcnow() + timedelta(**delta)
    monkeypatch.setattr(models, "utcnow", lambda: moment)


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# ---------------------------------------------------------------------------------------------
# GET


def test_list_announcements_shows_the_active_ones(
    client: FlaskClient, account: Account, alice_h: dict
) -> None:
    now = models.utcnow()
    shown = made("Hello *there* https://example.org")
    made("not yet", starts_at=now + timedelta(hours=1))
    made("over", ends_at=now - timedelta(minutes=1))
    response = client.get(URL, headers=alice_h)
    assert response.status_code == 200
    body = response.get_json()
    assert [a["id"] for a in body] == [shown]
    entry = body[0]
    # Plain text, linked and sanitised as a status is; the source stays under `pleroma`.
    assert entry["content"] == 'Hello *there* <a href="https://example.org" rel="ugc">https://example.org</a>'
    assert entry["pleroma"] == {"raw_content": "Hello *there* https://example.org"}
    assert entry["read"] is False
    assert entry["reactions"] == []
    assert entry["all_day"] is False
    assert entry["starts_at"] is None and entry["ends_at"] is None
    assert entry["published_at"].endswith("Z")
    for key in ("updated_at", "mentions", "statuses", "tags", "emojis"):
        assert key in entry


def test_list_announcements_follows_the_clock(
    client: FlaskClient, account: Account, alice_h: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = models.utcnow()
    soon = made("soon", starts_at=now + timedelta(hours=1), ends_at=now + timedelta(hours=3))
    assert client.get(URL, headers=alice_h).get_json() == []
    later(monkeypatch, hours=2)
    assert [a["id"] for a in client.get(URL, headers=alice_h).get_json()] == [soon]
    later(monkeypatch, hours=4)
    assert client.get(URL, headers=alice_h).get_json() == []


def test_list_announcements_needs_auth_and_read_scope(
    client: FlaskClient, account: Account, auth_headers: Callable[..., dict]
) -> None:
    made()
    assert client.get(URL).status_code == 403
    assert client.get(URL).get_json() == {"error": "Invalid credentials."}
    assert client.get(URL, headers=auth_headers(account, "write")).status_code == 403


def test_list_announcements_loads_reactions_in_constant_queries(
    client: FlaskClient, make_account: Callable[..., Account], alice_h: dict, account: Account, count_queries
) -> None:
    def answer_cost() -> int:
        with count_queries() as counter:
            assert client.get(URL, headers=alice_h).status_code == 200
        return counter.count

    first = made("one")
    announcements.react(account, first, "👍")
    one = answer_cost()
    for n in range(4):
        other = make_account(f"user{n}")
        extra = made(f"more {n}")
        announcements.react(other, extra, "🎉")
        announcements.react(other, first, "👍")
        announcements.dismiss(account, extra)
    assert answer_cost() == one


# ---------------------------------------------------------------------------------------------
# dismiss


def test_dismiss_marks_read_once(
    client: FlaskClient, account: Account, bob: Account, alice_h: dict, bob_h: dict
) -> None:
    announcement_id = made()
    for _ in range(2):
        response = client.post(f"{URL}/{announcement_id}/dismiss", headers=alice_h)
        assert response.status_code == 200
        assert response.get_json() == {}
    assert count(AnnouncementRead) == 1
    assert client.get(URL, headers=alice_h).get_json()[0]["read"] is True
    assert client.get(URL, headers=bob_h).get_json()[0]["read"] is False
    assert client.get(f"{URL}?with_dismissed=false", headers=alice_h).get_json() == []


def test_dismiss_unknown_or_inactive_is_404(client: FlaskClient, account: Account, alice_h: dict) -> None:
    gone = made("over", ends_at=models.utcnow() - timedelta(minutes=1))
    for announcement_id in ("nope", gone):
        response = client.post(f"{URL}/{announcement_id}/dismiss", headers=alice_h)
        assert response.status_code == 404
        assert response.get_json() == {"error": "Record not found"}
    assert count(AnnouncementRead) == 0


def test_dismiss_needs_write_accounts(
    client: FlaskClient, account: Account, auth_headers: Callable[..., dict]
) -> None:
    announcement_id = made()
    assert client.post(f"{URL}/{announcement_id}/dismiss").status_code == 403
    response = client.post(
        f"{URL}/{announcement_id}/dismiss", headers=auth_headers(account, "read write:favourites")
    )
    assert response.status_code == 403
    assert (
        client.post(
            f"{URL}/{announcement_id}/dismiss", headers=auth_headers(account, "write:accounts")
        ).status_code
        == 200
    )
    assert count(AnnouncementRead) == 1


# ---------------------------------------------------------------------------------------------
# reactions


def test_put_reaction_counts_and_me(
    client: FlaskClient, account: Account, bob: Account, alice_h: dict, bob_h: dict
) -> None:
    announcement_id = made()
    for headers in (alice_h, alice_h, bob_h):
        response = client.put(f"{URL}/{announcement_id}/reactions/👍", headers=headers)
        assert response.status_code == 200
        assert response.get_json() == {}
    assert count(AnnouncementReaction) == 2
    client.put(f"{URL}/{announcement_id}/reactions/🎉", headers=bob_h)
    mine = client.get(URL, headers=alice_h).get_json()[0]["reactions"]
    assert mine == [{"name": "👍", "count": 2, "me": True}, {"name": "🎉", "count": 1, "me": False}]


def test_put_reaction_custom_emoji_has_urls(
    client: FlaskClient, app: Flask, account: Account, alice_h: dict
) -> None:
    copy_fixture_pack(app, "test_pack")
    announcement_id = made()
    assert client.put(f"{URL}/{announcement_id}/reactions/blank", headers=alice_h).status_code == 200
    assert client.put(f"{URL}/{announcement_id}/reactions/:blank:", headers=alice_h).status_code == 200
    (reaction,) = client.get(URL, headers=alice_h).get_json()[0]["reactions"]
    assert reaction["name"] == "blank"
    assert reaction["count"] == 1
    assert reaction["url"].endswith("/emoji/test_pack/blank.png")
    assert reaction["static_url"] == reaction["url"]


@pytest.mark.parametrize("name", ["nope", "👍👍", ":unknown:", "x@y"])
def test_put_reaction_unknown_emoji_is_422(
    client: FlaskClient, account: Account, alice_h: dict, name: str
) -> None:
    announcement_id = made()
    response = client.put(f"{URL}/{announcement_id}/reactions/{name}", headers=alice_h)
    assert response.status_code == 422
    assert "error" in response.get_json()
    assert count(AnnouncementReaction) == 0


def test_delete_reaction_is_idempotent(
    client: FlaskClient, account: Account, bob: Account, alice_h: dict, bob_h: dict
) -> None:
    announcement_id = made()
    client.put(f"{URL}/{announcement_id}/reactions/👍", headers=alice_h)
    client.put(f"{URL}/{announcement_id}/reactions/👍", headers=bob_h)
    for _ in range(2):
        response = client.delete(f"{URL}/{announcement_id}/reactions/👍", headers=alice_h)
        assert response.status_code == 200
        assert response.get_json() == {}
    assert client.get(URL, headers=alice_h).get_json()[0]["reactions"] == [
        {"name": "👍", "count": 1, "me": False}
    ]
    assert client.delete(f"{URL}/{announcement_id}/reactions/nope", headers=alice_h).status_code == 422


def test_reactions_need_write_favourites_and_a_live_announcement(
    client: FlaskClient, account: Account, auth_headers: Callable[..., dict], alice_h: dict
) -> None:
    announcement_id = made()
    path = f"{URL}/{announcement_id}/reactions/👍"
    assert client.put(path).status_code == 403
    assert client.put(path, headers=auth_headers(account, "read write:accounts")).status_code == 403
    assert client.delete(path, headers=auth_headers(account, "read write:accounts")).status_code == 403
    assert client.put(f"{URL}/missing/reactions/👍", headers=alice_h).status_code == 404
    assert count(AnnouncementReaction) == 0
    assert client.put(path, headers=auth_headers(account, "write:favourites")).status_code == 200
