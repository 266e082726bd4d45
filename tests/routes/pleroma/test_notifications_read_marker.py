"""POST /api/v1/pleroma/notifications/read moves the caller's `notifications` marker (SPEC 14),
as Pleroma's Marker.multi_set_last_read_id does."""

from __future__ import annotations

from flask.testing import FlaskClient

from models import Account
from tests.routes.test_markers import BOTH
from tests.routes.test_markers import URL
from tests.routes.test_markers import notified
from tests.routes.test_markers import saved

READ = "/api/v1/pleroma/notifications/read"


def _marker(client: FlaskClient, headers: dict) -> dict | None:
    return client.get(URL + BOTH, headers=headers).get_json().get("notifications")


def test_read_up_to_creates_then_moves_the_marker(
    client: FlaskClient, account: Account, bob: Account, alice_h: dict
) -> None:
    made = notified(account, bob, 3)
    assert _marker(client, alice_h) is None
    client.post(READ, json={"max_id": made[1].id}, headers=alice_h)
    marker = _marker(client, alice_h)
    assert marker["last_read_id"] == str(made[1].id)
    assert marker["version"] == 0
    assert marker["pleroma"] == {"unread_count": 1}
    client.post(READ, json={"max_id": made[2].id}, headers=alice_h)
    marker = _marker(client, alice_h)
    assert (marker["last_read_id"], marker["version"]) == (str(made[2].id), 1)


def test_read_one_moves_a_saved_marker_to_the_newest_seen(
    client: FlaskClient, account: Account, bob: Account, alice_h: dict
) -> None:
    made = notified(account, bob, 3)
    saved(client, alice_h, notifications="0")
    client.post(READ, data={"id": made[2].id}, headers=alice_h)
    assert (_marker(client, alice_h)["last_read_id"], _marker(client, alice_h)["version"]) == (
        str(made[2].id),
        1,
    )
    # An older one read later leaves it at the newest seen.
    client.post(READ, data={"id": made[0].id}, headers=alice_h)
    assert (_marker(client, alice_h)["last_read_id"], _marker(client, alice_h)["version"]) == (
        str(made[2].id),
        1,
    )


def test_refused_read_leaves_the_marker(
    client: FlaskClient, account: Account, bob: Account, alice_h: dict, bob_h: dict
) -> None:
    theirs = notified(bob, account, 1)
    assert client.post(READ, data={"id": theirs[0].id}, headers=alice_h).status_code == 400
    assert client.post(READ, headers=alice_h).status_code == 400
    assert _marker(client, alice_h) is None
    assert _marker(client, bob_h) is None
