"""Mastodon.py's own `status_post(scheduled_at=...)`, `scheduled_statuses`, `scheduled_status`,
`scheduled_status_update` and `scheduled_status_delete` against a live Kenoma on loopback.

Mastodon.py sends `scheduled_at` as `YYYY-MM-DDTHH:MM:SS+00:00`. This module's server takes times
one minute ahead (SCHEDULED_STATUSES_MIN_SECONDS), as a client test suite would configure it;
publishing is the job run on a moved clock (the live server runs jobs inline, so the job queued
for later never fires by itself).
"""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from mastodon import Mastodon
from mastodon import MastodonAPIError

import models
from services import scheduled_statuses
from tests.clients.conftest import mastodon_users
from tests.routes.test_media import png_bytes

if TYPE_CHECKING:
    from tests.clients.conftest import LiveServer


@pytest.fixture(scope="module")
def server(live_server: LiveServer) -> LiveServer:
    live_server.app.config["SCHEDULED_STATUSES_MIN_SECONDS"] = 60
    return live_server


@pytest.fixture(scope="module")
def apis(server: LiveServer) -> dict[str, Mastodon]:
    return mastodon_users(server, "Kenoma scheduled test", ("alice", "bob"), version_check_mode="created")


def _in(seconds: int) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


def test_schedule_list_update_delete(apis: dict[str, Mastodon]) -> None:
    alice, bob = apis["alice"], apis["bob"]
    when = _in(120).replace(microsecond=0)  # under Mastodon's 5 minutes: the shortened minimum
    scheduled = alice.status_post("see you later", scheduled_at=when, visibility="unlisted")
    assert scheduled.scheduled_at == when
    assert scheduled.params.text == "see you later"
    assert scheduled.params.visibility == "unlisted"
    assert scheduled.media_attachments == []

    assert [s.id for s in alice.scheduled_statuses()] == [scheduled.id]
    assert alice.scheduled_status(scheduled.id).params.text == "see you later"
    assert alice.account_statuses(alice.me()) == []
    assert bob.scheduled_statuses() == []
    with pytest.raises(MastodonAPIError):
        bob.scheduled_status(scheduled.id)

    moved = _in(3600).replace(microsecond=0)
    assert alice.scheduled_status_update(scheduled.id, moved).scheduled_at == moved
    with pytest.raises(MastodonAPIError) as refused:
        alice.scheduled_status_update(scheduled.id, _in(10))
    assert refused.value.args[1] == 422
    assert alice.scheduled_status(scheduled.id).scheduled_at == moved

    alice.scheduled_status_delete(scheduled.id)
    assert alice.scheduled_statuses() == []


def test_scheduled_status_is_posted_at_its_time(
    server: LiveServer, apis: dict[str, Mastodon], monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = apis["alice"]
    media = alice.media_post(png_bytes(), mime_type="image/png")
    scheduled = alice.status_post("posted by the job", media_ids=[media], scheduled_at=_in(120))
    # Mastodon.py leaves the ScheduledStatus's attachments as plain dicts.
    assert [m["id"] for m in scheduled.media_attachments] == [media.id]

    moment = models.utcnow() + timedelta(seconds=121)
    monkeypatch.setattr(models, "utcnow", lambda: moment)
    monkeypatch.setattr(scheduled_statuses, "utcnow", lambda: moment)
    with server.app.app_context():
        scheduled_statuses.publish_due_scheduled_statuses()

    assert alice.scheduled_statuses() == []
    posted = alice.account_statuses(alice.me())
    assert [s.content for s in posted] == ["posted by the job"]
    assert [m.id for m in posted[0].media_attachments] == [media.id]
