"""Timeline markers (SPEC 26): GET/POST /api/v1/markers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from models import Account
from models import Marker
from models import Notification
from models import db
from services.notifications import notify

URL = "/api/v1/markers"
BOTH = "?timeline[]=home&timeline[]=notifications"


def notified(recipient: Account, actor: Account, count: int) -> list[Notification]:
    made = [notify(recipient, actor, "follow") for _ in range(count)]
    db.session.commit()
    assert all(made)
    return made  # type: ignore[return-value]


def saved(client: FlaskClient, headers: dict, **timelines: str) -> Any:
    body = {name: {"last_read_id": last_read_id} for name, last_read_id in timelines.items()}
    return client.post(URL, json=body, headers=headers)


# ---------------------------------------------------------------------------------------------
# POST


def test_save_home_as_form(client: FlaskClient, account: Account, alice_h: dict) -> None:
    response = client.post(URL, data={"home[last_read_id]": "103206604258487607"}, headers=alice_h)
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"home"}
    assert body["home"]["last_read_id"] == "103206604258487607"
    assert body["home"]["version"] == 0
    assert body["home"]["updated_at"].endswith("Z")
    assert "pleroma" not in body["home"]


def test_save_both_as_json(client: FlaskClient, account: Account, alice_h: dict) -> None:
    response = saved(client, alice_h, home="10", notifications="20")
    assert response.status_code == 200
    body = response.get_json()
    assert body["home"]["last_read_id"] == "10"
    assert body["notifications"]["last_read_id"] == "20"
    assert body["notifications"]["pleroma"] == {"unread_count": 0}


def test_json_number_id_is_a_string(client: FlaskClient, account: Account, alice_h: dict) -> None:
    response = client.post(URL, json={"home": {"last_read_id": 22222222222222}}, headers=alice_h)
    assert response.get_json()["home"]["last_read_id"] == "22222222222222"


def test_version_goes_up_on_every_save(client: FlaskClient, account: Account, alice_h: dict) -> None:
    versions = [saved(client, alice_h, home=str(n)).get_json()["home"]["version"] for n in range(3)]
    assert versions == [0, 1, 2]
    # Saving one timeline leaves the other alone.
    saved(client, alice_h, notifications="5")
    body = client.get(URL + BOTH, headers=alice_h).get_json()
    assert body["home"] == {"last_read_id": "2", "version": 2, "updated_at": body["home"]["updated_at"]}
    assert body["notifications"]["version"] == 0
    assert db.session.scalar(select(db.func.count()).select_from(Marker)) == 2


def test_saving_the_notifications_marker_marks_them_seen(
    client: FlaskClient, account: Account, bob: Account, alice_h: dict
) -> None:
    # SPEC 20.4 and Pleroma: the markers API flips `pleroma.is_seen` up to the marker, like
    # POST /api/v1/pleroma/notifications/read with max_id; megalodon shows the count left.
    made = notified(account, bob, 3)
    others = notified(bob, account, 1)
    body = saved(client, alice_h, notifications=made[1].id).get_json()
    assert body["notifications"]["pleroma"]["unread_count"] == 1
    db.session.expire_all()
    assert [n.is_seen for n in made] == [True, True, False]
    assert others[0].is_seen is False
    listed = client.get("/api/v1/notifications", headers=alice_h).get_json()
    assert [n["pleroma"]["is_seen"] for n in listed] == [False, True, True]
    assert saved(client, alice_h, home=made[2].id).get_json()["home"]["last_read_id"] == str(made[2].id)
    assert client.get(URL + BOTH, headers=alice_h).get_json()["notifications"]["pleroma"]["unread_count"] == 1


def test_unread_count_follows_notifications_read(
    client: FlaskClient, account: Account, bob: Account, alice_h: dict
) -> None:
    made = notified(account, bob, 3)
    notified(bob, account, 2)  # someone else's never count
    saved(client, alice_h, notifications="0")
    assert client.get(URL + BOTH, headers=alice_h).get_json()["notifications"]["pleroma"]["unread_count"] == 3
    client.post("/api/v1/pleroma/notifications/read", json={"max_id": made[1].id}, headers=alice_h)
    assert client.get(URL + BOTH, headers=alice_h).get_json()["notifications"]["pleroma"]["unread_count"] == 1


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"favourites": {"last_read_id": "1"}},
        {"home": {}},
        {"home": {"last_read_id": ""}},
        {"home": "1"},
    ],
)
def test_bad_input_changes_nothing(client: FlaskClient, account: Account, alice_h: dict, body: dict) -> None:
    response = client.post(URL, json=body, headers=alice_h)
    assert 400 <= response.status_code < 500
    assert response.get_json()["error"]
    assert db.session.scalar(select(db.func.count()).select_from(Marker)) == 0


def test_empty_form_is_refused(client: FlaskClient, account: Account, alice_h: dict) -> None:
    response = client.post(URL, data={}, headers=alice_h)
    assert response.status_code == 400
    assert response.get_json() == {
        "error": "Missing field: home[last_read_id] or notifications[last_read_id]."
    }


def test_over_long_id_is_refused(client: FlaskClient, account: Account, alice_h: dict) -> None:
    response = saved(client, alice_h, home="9" * 300)
    assert response.status_code == 422
    assert db.session.scalar(select(db.func.count()).select_from(Marker)) == 0


# ---------------------------------------------------------------------------------------------
# GET


def test_get_answers_only_existing_markers_asked_for(
    client: FlaskClient, account: Account, alice_h: dict
) -> None:
    assert client.get(URL + BOTH, headers=alice_h).get_json() == {}
    saved(client, alice_h, home="7")
    assert set(client.get(URL + BOTH, headers=alice_h).get_json()) == {"home"}
    saved(client, alice_h, notifications="8")
    assert set(client.get(URL + "?timeline[]=notifications", headers=alice_h).get_json()) == {"notifications"}
    assert set(client.get(URL + "?timeline=home", headers=alice_h).get_json()) == {"home"}


def test_get_without_timelines_is_empty(client: FlaskClient, account: Account, alice_h: dict) -> None:
    saved(client, alice_h, home="7", notifications="8")
    response = client.get(URL, headers=alice_h)
    assert response.status_code == 200
    assert response.get_json() == {}
    assert client.get(URL + "?timeline[]=public", headers=alice_h).get_json() == {}


def test_accounts_never_see_each_others_markers(
    client: FlaskClient, account: Account, bob: Account, alice_h: dict, bob_h: dict
) -> None:
    saved(client, alice_h, home="7", notifications="8")
    assert client.get(URL + BOTH, headers=bob_h).get_json() == {}
    body = saved(client, bob_h, home="99").get_json()
    assert body["home"]["version"] == 0
    assert client.get(URL + BOTH, headers=alice_h).get_json()["home"]["last_read_id"] == "7"


# ---------------------------------------------------------------------------------------------
# Auth and cost


def test_no_credentials(client: FlaskClient) -> None:
    # Pleroma answers 403 where Mastodon answers 401 (SPEC 1.1).
    for response in (client.get(URL + BOTH), client.post(URL, json={"home": {"last_read_id": "1"}})):
        assert response.status_code == 403
        assert response.get_json() == {"error": "Invalid credentials."}
    assert db.session.scalar(select(db.func.count()).select_from(Marker)) == 0


def test_scopes(client: FlaskClient, account: Account, auth_headers: Callable[..., dict]) -> None:
    reader = auth_headers(account, "read:statuses")
    writer = auth_headers(account, "write:statuses")
    assert saved(client, reader, home="1").status_code == 403
    assert client.get(URL + BOTH, headers=writer).status_code == 403
    assert saved(client, writer, home="1").status_code == 200
    assert set(client.get(URL + BOTH, headers=reader).get_json()) == {"home"}
    other = auth_headers(account, "read:notifications write:notifications")
    assert client.get(URL + BOTH, headers=other).get_json()["error"].startswith("Insufficient permissions")


def test_constant_queries(
    client: FlaskClient,
    account: Account,
    bob: Account,
    alice_h: dict,
    count_queries: Callable[[], Any],
) -> None:
    saved(client, alice_h, home="1", notifications="1")
    with count_queries() as few:
        client.get(URL + BOTH, headers=alice_h)
    notified(account, bob, 5)
    saved(client, alice_h, home="2", notifications="2")
    with count_queries() as many:
        client.get(URL + BOTH, headers=alice_h)
    assert few.count == many.count
    with count_queries() as save_one:
        saved(client, alice_h, home="3")
    with count_queries() as save_both:
        saved(client, alice_h, home="4", notifications="4")
    assert save_both.count <= save_one.count + 2
