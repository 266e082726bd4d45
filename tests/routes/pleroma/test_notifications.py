from __future__ import annotations

import pytest

from models import Notification
from models import db
from services.notifications import notify


@pytest.fixture
def two(make_account):
    return make_account("alice"), make_account("bob")


def _notifications(recipient, actor, count):
    made = [notify(recipient, actor, "follow") for _ in range(count)]
    db.session.commit()
    return [str(n.id) for n in made]  # as the API writes them


@pytest.mark.parametrize("prefix", ["/api/v1/pleroma", "/api/pleroma"])
def test_read_one_returns_the_seen_notification(client, two, auth_headers, prefix):
    alice, bob = two
    (nid,) = _notifications(alice, bob, 1)
    response = client.post(f"{prefix}/notifications/read", data={"id": nid}, headers=auth_headers(alice))
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == nid and body["pleroma"]["is_seen"] is True
    assert db.session.get(Notification, int(nid)).is_seen is True


def test_read_max_id_marks_older_and_returns_them_newest_first(client, two, auth_headers):
    alice, bob = two
    ids = _notifications(alice, bob, 3)
    response = client.post(
        "/api/v1/pleroma/notifications/read", json={"max_id": ids[1]}, headers=auth_headers(alice)
    )
    assert response.status_code == 200
    assert [n["id"] for n in response.get_json()] == [ids[1], ids[0]]
    assert [db.session.get(Notification, int(i)).is_seen for i in ids] == [True, True, False]


def test_read_max_id_returns_at_most_80(client, two, auth_headers):
    alice, bob = two
    ids = _notifications(alice, bob, 85)
    response = client.post(
        "/api/v1/pleroma/notifications/read", data={"max_id": ids[-1]}, headers=auth_headers(alice)
    )
    assert len(response.get_json()) == 80
    unseen = db.session.scalar(
        db.select(db.func.count()).select_from(Notification).where(Notification.is_seen.is_(False))
    )
    assert unseen == 0


def test_read_someone_elses_notification_is_400(client, two, auth_headers):
    alice, bob = two
    (nid,) = _notifications(bob, alice, 1)
    response = client.post(
        "/api/v1/pleroma/notifications/read", data={"id": nid}, headers=auth_headers(alice)
    )
    assert response.status_code == 400
    assert response.get_json() == {"error": "Cannot get notification"}
    assert db.session.get(Notification, int(nid)).is_seen is False


def test_read_without_id_or_max_id(client, two, auth_headers):
    response = client.post("/api/v1/pleroma/notifications/read", headers=auth_headers(two[0]))
    assert response.status_code == 400
    assert response.get_json() == {"error": "Missing field: id or max_id."}


def test_read_needs_auth_and_scope(client, two, auth_headers):
    assert client.post("/api/v1/pleroma/notifications/read", data={"id": "x"}).status_code == 403
    response = client.post(
        "/api/v1/pleroma/notifications/read", data={"id": "x"}, headers=auth_headers(two[0], "read")
    )
    assert response.get_json() == {"error": "Insufficient permissions: write:notifications."}
