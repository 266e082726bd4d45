"""Hostile inbound traffic (SPEC 24.3, 24.4, 24.6): each forged, misattributed, oversized, stale or
blocked delivery is refused with a clear 4xx or dropped silently, and nothing it carried is
stored or delivered. Effects are read through the client API; row counts back it up."""

from __future__ import annotations

import json
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
import requests
from sqlalchemy import func
from sqlalchemy import select

from app import create_app
from federation import signatures
from federation.fetch import is_blocked_host
from keys import new_account_keys
from models import Follow
from models import Notification
from models import Status
from models import db
from tests.federation.peers import Peer
from tests.federation.remote import AS_PUBLIC
from tests.federation.remote import RemoteServer


@pytest.fixture
def remote():
    servers: list[RemoteServer] = []

    def start(host: str = "127.0.0.1") -> RemoteServer:
        servers.append(RemoteServer(host))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def kenoma(live_server):
    return Peer(live_server(), "alice")


def _counts(kenoma: Peer) -> dict[str, int]:
    with kenoma.server.app.app_context():
        counts = {
            model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Status, Follow, Notification)
        }
        db.session.remove()
    return counts


def _nothing_shown(kenoma: Peer) -> None:
    assert kenoma.get("/api/v1/timelines/public", params={"remote": "true"}) == []
    assert kenoma.get("/api/v1/notifications", "alice") == []
    alice = kenoma.get("/api/v1/accounts/verify_credentials", "alice")
    assert alice["followers_count"] == 0


def _alice(kenoma: Peer) -> str:
    return f"{kenoma.url}/users/alice"


def _follow(actor, kenoma: Peer) -> dict:
    return actor.activity("Follow", _alice(kenoma))


# ---- signatures


def test_a_signature_by_a_key_that_is_not_the_actor_s_is_refused(kenoma, remote):
    moo = remote().actor("moo")
    forged_private, _ = new_account_keys()
    before = _counts(kenoma)
    answer = moo.send(f"{kenoma.url}/inbox", _follow(moo, kenoma), private_pem=forged_private)
    assert answer.status_code == 401 and answer.json() == {"error": "Invalid signature"}
    assert _counts(kenoma) == before
    _nothing_shown(kenoma)


def test_an_activity_signed_by_another_actor_is_refused(kenoma, remote):
    server = remote()
    moo, mallory = server.actor("moo"), server.actor("mallory")
    answer = mallory.send(f"{kenoma.url}/inbox", _follow(moo, kenoma))
    assert answer.status_code == 403 and "error" in answer.json()
    _nothing_shown(kenoma)


def test_a_stale_date_is_refused(kenoma, remote, monkeypatch):
    moo = remote().actor("moo")
    url = f"{kenoma.url}/inbox"
    body = json.dumps(_follow(moo, kenoma)).encode()
    stale = datetime.now(UTC) - timedelta(hours=13)
    with monkeypatch.context() as patched:
        patched.setattr(signatures, "http_date", lambda moment=None: signatures.format_datetime(stale, True))
        headers = moo.signed_headers(url, body)
    answer = requests.post(url, data=body, headers=headers, timeout=15)
    assert answer.status_code == 401
    _nothing_shown(kenoma)


def test_an_oversized_body_is_refused_before_anything_else(kenoma, remote):
    moo = remote().actor("moo")
    note = moo.note("x" * (1024 * 1024))
    answer = moo.send(f"{kenoma.url}/inbox", moo.create(note))
    assert answer.status_code == 413 and answer.json() == {"error": "Payload too large"}
    # Streamed without a Content-Length, it is cut at the limit all the same.
    body = json.dumps(moo.create(note)).encode()
    chunks = (body[i : i + 65536] for i in range(0, len(body), 65536))
    answer = requests.post(
        f"{kenoma.url}/inbox",
        data=chunks,
        headers=moo.signed_headers(f"{kenoma.url}/inbox", body),
        timeout=15,
    )
    assert answer.status_code == 413
    _nothing_shown(kenoma)


# ---- containment


def test_a_note_on_another_host_than_its_actor_is_dropped(kenoma, remote):
    moo, elsewhere = remote().actor("moo"), remote()
    note = moo.note("not mine to post")
    note["id"] = f"{elsewhere.url}/objects/1"
    assert moo.send(f"{kenoma.url}/inbox", moo.create(note)).status_code in (202, 403)
    _nothing_shown(kenoma)
    assert _counts(kenoma)["Status"] == 0


def test_an_activity_id_on_another_host_than_its_actor_is_refused(kenoma, remote):
    moo, elsewhere = remote().actor("moo"), remote()
    create = moo.create(moo.note("hello"))
    create["id"] = f"{elsewhere.url}/activities/1"
    answer = moo.send(f"{kenoma.url}/inbox", create)
    assert answer.status_code == 403 and "error" in answer.json()
    _nothing_shown(kenoma)


def test_a_note_attributed_to_another_actor_is_dropped(kenoma, remote):
    server = remote()
    moo, victim = server.actor("moo"), server.actor("victim")
    note = moo.note("words put in another's mouth", attributedTo=victim.ap_id)
    assert moo.send(f"{kenoma.url}/inbox", moo.create(note)).status_code == 202
    _nothing_shown(kenoma)
    assert _counts(kenoma)["Status"] == 0


def test_a_delete_of_another_actor_s_note_changes_nothing(kenoma, remote):
    server = remote()
    moo, mallory = server.actor("moo"), server.actor("mallory")
    note = moo.note("still here")
    assert moo.send(f"{kenoma.url}/inbox", moo.create(note)).status_code == 202
    assert mallory.send(f"{kenoma.url}/inbox", mallory.activity("Delete", note["id"])).status_code == 202
    public = kenoma.get("/api/v1/timelines/public", params={"remote": "true"})
    assert [s["uri"] for s in public] == [note["id"]]


# ---- private objects


@pytest.mark.parametrize("kind", ["Like", "Announce", "EmojiReact", "reply"])
def test_an_activity_about_a_private_status_from_a_non_recipient_is_dropped(kenoma, remote, kind):
    moo = remote().actor("moo")
    private = kenoma.post_status("alice", "for my followers only", visibility="private")
    if kind == "reply":
        activity = moo.create(moo.note("I should not see that", inReplyTo=private["uri"]))
    else:
        activity = moo.activity(kind, private["uri"], **({"content": "🔥"} if kind == "EmojiReact" else {}))
    before = _counts(kenoma)
    assert moo.send(f"{kenoma.url}/inbox", activity).status_code == 202
    shown = kenoma.get(f"/api/v1/statuses/{private['id']}", "alice")
    assert shown["favourites_count"] == 0 and shown["reblogs_count"] == 0 and shown["replies_count"] == 0
    assert shown.get("pleroma", {}).get("emoji_reactions", []) == []
    assert kenoma.get("/api/v1/notifications", "alice") == []
    assert kenoma.get(f"/api/v1/statuses/{private['id']}/context", "alice")["descendants"] == []
    assert _counts(kenoma) == before


# ---- blocked instances and federation off


def test_a_blocked_instance_is_refused_and_gets_nothing(live_server, remote):
    blocked_server, allowed_server = remote("localhost"), remote()
    kenoma = Peer(live_server(), "alice")
    blocked, allowed = blocked_server.actor("moo"), allowed_server.actor("moo")
    for actor in (blocked, allowed):
        assert actor.send(f"{kenoma.url}/users/alice/inbox", _follow(actor, kenoma)).status_code == 202
    # Blocked once both follow: `*.localhost` covers localhost itself (SPEC 24.6 wildcard form).
    kenoma.server.app.config["BLOCKED_INSTANCES"] = ["*.localhost"]
    before = _counts(kenoma)
    answer = blocked.send(f"{kenoma.url}/inbox", blocked.create(blocked.note("let me in")))
    assert answer.status_code == 403 and answer.json() == {"error": "Instance blocked"}
    assert _counts(kenoma) == before
    blocked_server.received.clear()
    posted = kenoma.post_status("alice", "not for the blocked")
    assert blocked_server.inbox_posts() == []
    assert [
        r.json()["object"]["id"] for r in allowed_server.inbox_posts() if r.json()["type"] == "Create"
    ] == [posted["uri"]]


def test_the_wildcard_block_form_covers_subdomains_only_by_their_dots(app):
    app.config["BLOCKED_INSTANCES"] = ["*.example", "bad.test"]
    assert is_blocked_host("example") and is_blocked_host("a.b.example:8443")
    assert is_blocked_host("BAD.test") and not is_blocked_host("notexample")
    assert not is_blocked_host("sub.bad.test") and not is_blocked_host("example.org")


def test_with_federation_off_inboxes_are_gone_and_nothing_is_delivered(live_server, remote):
    server = remote()
    kenoma = Peer(live_server(), "alice")
    moo = server.actor("moo")
    assert moo.send(f"{kenoma.url}/users/alice/inbox", _follow(moo, kenoma)).status_code == 202
    kenoma.server.app.config["FEDERATING"] = False
    server.received.clear()
    for path in ("/inbox", "/users/alice/inbox"):
        answer = moo.send(f"{kenoma.url}{path}", moo.create(moo.note("anyone there?")))
        assert answer.status_code == 404
    kenoma.post_status("alice", "kept at home")
    assert server.inbox_posts() == []
    assert kenoma.get("/api/v1/timelines/public", params={"remote": "true"}) == []


def test_an_unsigned_post_is_refused_whatever_it_claims(kenoma, remote):
    moo = remote().actor("moo")
    answer = requests.post(f"{kenoma.url}/inbox", json=moo.create(moo.note("hi", to=[AS_PUBLIC])), timeout=15)
    assert answer.status_code == 401
    _nothing_shown(kenoma)


def test_blocked_instances_come_from_the_environment_as_a_comma_separated_list(tmp_path, monkeypatch):
    monkeypatch.setenv("KENOMA_BLOCKED_INSTANCES", "*.example, Bad.TEST ,")
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance")})
    assert app.config["BLOCKED_INSTANCES"] == ["*.example", "bad.test"]
    with app.app_context():
        assert is_blocked_host("social.example:443") and is_blocked_host("bad.test")
        assert not is_blocked_host("good.test")
