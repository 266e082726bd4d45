"""Someone else's private thing answers exactly like a thing that does not exist: same status,
same body, and nothing changes. Otherwise ids could be probed for existence."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from models import Backup
from models import db
from models import new_flake_id
from tests.security.conftest import World

MISSING = "missing"


def _answer(response: Any) -> tuple[int, Any]:
    return response.status_code, response.get_json(silent=True)


# (method, path template, body); {id} is bob's (or admin's) thing, then a missing id.
STATUS_ROUTES = [
    ("GET", "/api/v1/statuses/{id}", None),
    ("GET", "/api/v1/statuses/{id}/context", None),
    ("GET", "/api/v1/statuses/{id}/favourited_by", None),
    ("GET", "/api/v1/statuses/{id}/reblogged_by", None),
    ("GET", "/api/v1/statuses/{id}/source", None),
    ("DELETE", "/api/v1/statuses/{id}", None),
    ("POST", "/api/v1/statuses/{id}/favourite", None),
    ("POST", "/api/v1/statuses/{id}/unfavourite", None),
    ("POST", "/api/v1/statuses/{id}/reblog", None),
    ("POST", "/api/v1/statuses/{id}/unreblog", None),
    ("POST", "/api/v1/statuses/{id}/bookmark", None),
    ("POST", "/api/v1/statuses/{id}/unbookmark", None),
    ("POST", "/api/v1/statuses/{id}/pin", None),
    ("POST", "/api/v1/statuses/{id}/unpin", None),
    ("POST", "/api/v1/statuses/{id}/mute", None),
    ("POST", "/api/v1/statuses/{id}/unmute", None),
    ("PUT", "/api/v1/statuses/{id}/emoji_reactions/%F0%9F%91%8D", None),
    ("DELETE", "/api/v1/statuses/{id}/emoji_reactions/%F0%9F%91%8D", None),
    ("PUT", "/api/v1/pleroma/statuses/{id}/reactions/%F0%9F%91%8D", None),
    ("GET", "/api/v1/pleroma/statuses/{id}/reactions", None),
    ("GET", "/api/v1/pleroma/statuses/{id}/reactions/%F0%9F%91%8D", None),
    ("GET", "/api/v1/pleroma/statuses/{id}/quotes", None),
    ("POST", "/api/v1/statuses", {"status": "reply", "in_reply_to_id": "{id}"}),
    ("POST", "/api/v1/statuses", {"status": "quote", "quote_id": "{id}"}),
    ("GET", "/api/v1/statuses?id[]={id}", None),
]


def _compare(
    client: FlaskClient, headers: dict, routes: list, foreign: str, world: World, missing: str = ""
) -> list[str]:
    """Call each route with the foreign id and with a missing one; list every difference."""
    missing = missing or new_flake_id()
    differences = []
    for method, template, body in routes:
        answers = []
        for value in (foreign, missing):
            path = template.replace("{id}", value)
            data = None
            if body is not None:
                data = {
                    k: (
                        [x.replace("{id}", value) for x in v]
                        if isinstance(v, list)
                        else v.replace("{id}", value)
                    )
                    for k, v in body.items()
                }
                data = {
                    k: (v.replace("{bob}", world.bob.id) if isinstance(v, str) else v)
                    for k, v in data.items()
                }
            response = client.open(path, method=method, json=data, headers=headers)
            assert response.status_code < 500, (method, path, response.get_data(as_text=True)[:200])
            answer = _answer(response)
            answers.append(answer)
        if answers[0] != answers[1]:
            differences.append(f"{method} {template}: foreign {answers[0]} != missing {answers[1]}")
    return differences


@pytest.mark.parametrize("which", ["bob_private", "bob_direct"])
def test_someone_elses_private_status_is_like_a_missing_one(
    client: FlaskClient, world: World, unchanged: Callable[..., Any], which: str
) -> None:
    with unchanged():
        differences = _compare(client, world.alice_h, STATUS_ROUTES, world.ids[which], world)
    assert not differences, "\n".join(differences)


def test_someone_elses_private_status_on_public_pages(
    client: FlaskClient, world: World, unchanged: Callable[..., Any]
) -> None:
    routes = [("GET", "/notice/{id}", None), ("GET", "/api/v1/statuses/{id}", None)]
    with unchanged():
        assert not _compare(client, {}, routes, world.ids["bob_private"], world)


def test_someone_elses_notification_is_like_a_missing_one(
    client: FlaskClient, world: World, unchanged: Callable[..., Any]
) -> None:
    routes = [
        ("GET", "/api/v1/notifications/{id}", None),
        ("POST", "/api/v1/notifications/{id}/dismiss", None),
        ("POST", "/api/v1/notifications/dismiss", {"id": "{id}"}),
        ("POST", "/api/v1/pleroma/notifications/read", {"id": "{id}"}),
        ("DELETE", "/api/v1/notifications/destroy_multiple?ids[]={id}", None),
    ]
    with unchanged():
        differences = _compare(client, world.alice_h, routes, world.ids["admin_notification"], world)
    assert not differences, "\n".join(differences)


def test_someone_elses_conversation_is_like_a_missing_one(
    client: FlaskClient, world: World, unchanged: Callable[..., Any]
) -> None:
    routes = [
        ("GET", "/api/v1/pleroma/conversations/{id}", None),
        ("GET", "/api/v1/pleroma/conversations/{id}/statuses", None),
        ("PATCH", "/api/v1/pleroma/conversations/{id}", {"recipients": ["{bob}"]}),
        ("POST", "/api/v1/conversations/{id}/read", None),
        ("DELETE", "/api/v1/conversations/{id}", None),
        ("POST", "/api/v1/pleroma/conversations/read", {"id": "{id}"}),
    ]
    with unchanged():
        differences = _compare(client, world.alice_h, routes, world.ids["bob_conversation"], world)
    assert not differences, "\n".join(differences)


def test_someone_elses_media_is_like_a_missing_one(
    client: FlaskClient, world: World, unchanged: Callable[..., Any]
) -> None:
    routes = [
        ("GET", "/api/v1/media/{id}", None),
        ("PUT", "/api/v1/media/{id}", {"description": "mine now"}),
    ]
    with unchanged():
        differences = _compare(client, world.alice_h, routes, world.ids["bob_media"], world)
    assert not differences, "\n".join(differences)
    # A status naming bob's media is posted without it, exactly as with an unknown media id.
    for media_id in (world.ids["bob_media"], new_flake_id()):
        body = {"status": "look", "media_ids": [media_id]}
        response = client.post("/api/v1/statuses", json=body, headers=world.alice_h)
        assert response.status_code == 200 and response.get_json()["media_attachments"] == []


def test_someone_elses_bookmark_folder_is_like_a_missing_one(
    client: FlaskClient, world: World, unchanged: Callable[..., Any]
) -> None:
    routes = [
        ("PATCH", "/api/v1/pleroma/bookmark_folders/{id}", {"name": "taken"}),
        ("DELETE", "/api/v1/pleroma/bookmark_folders/{id}", None),
        ("POST", f"/api/v1/statuses/{world.ids['public_status']}/bookmark", {"folder_id": "{id}"}),
        ("GET", "/api/v1/bookmarks?folder_id={id}", None),
    ]
    with unchanged():
        differences = _compare(client, world.alice_h, routes, world.ids["bob_folder"], world)
    assert not differences, "\n".join(differences)


def test_someone_elses_token_is_like_a_missing_one(
    client: FlaskClient, world: World, unchanged: Callable[..., Any]
) -> None:
    routes = [("DELETE", "/api/oauth_tokens/{id}", None)]
    with unchanged():
        differences = _compare(client, world.alice_h, routes, world.ids["bob_token"], world, missing="999999")
    assert not differences, "\n".join(differences)
    assert client.get("/api/v1/accounts/verify_credentials", headers=world.bob_h).status_code == 200


def test_someone_elses_backup_is_like_a_missing_one(
    client: FlaskClient, world: World, unchanged: Callable[..., Any]
) -> None:
    backup = db.session.scalar(db.select(Backup).where(Backup.account_id == world.bob.id))
    assert backup is not None and backup.is_processed
    real = f"/media/backups/{backup.file_name}"
    assert client.get(real).status_code == 200  # the unguessable URL itself is the key (Pleroma)
    stem = backup.file_name.rsplit("-", 1)[0]
    guesses = [
        f"/media/backups/{stem}-{'A' * 22}.zip",  # right account and time, wrong secret part
        f"/media/backups/{stem}.zip",
        "/media/backups/",
        "/media/backups",
        f"/media/backups/.{backup.file_name}.part",
    ]
    with unchanged():
        answers = [_answer(client.get(path, headers=world.alice_h)) for path in guesses]
        assert answers == [(404, {"error": "Not found"})] * len(guesses), answers
        # Alice's list shows only hers (none), never bob's.
        assert client.get("/api/v1/pleroma/backups", headers=world.alice_h).get_json() == []


def test_someone_elses_push_subscription_is_like_a_missing_one(
    client: FlaskClient, world: World, unchanged: Callable[..., Any]
) -> None:
    subscription = {
        "subscription": {
            "endpoint": "https://push.example/bob",
            "keys": {"p256dh": "BCbobkey", "auth": "bobauth"},
        }
    }
    assert client.post("/api/v1/push/subscription", json=subscription, headers=world.bob_h).status_code == 200
    with unchanged():
        missing = _answer(client.get("/api/v1/push/subscription", headers=world.alice_h))
        assert missing[0] == 404
        # Alice's update or delete never reaches bob's.
        assert (
            _answer(
                client.put(
                    "/api/v1/push/subscription",
                    json={"data": {"alerts": {"follow": False}}},
                    headers=world.alice_h,
                )
            )
            == missing
        )
        client.delete("/api/v1/push/subscription", headers=world.alice_h)
    shown = client.get("/api/v1/push/subscription", headers=world.bob_h).get_json()
    assert shown["endpoint"] == "https://push.example/bob"
