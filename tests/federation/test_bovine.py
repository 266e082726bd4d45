"""Interop with an independent ActivityPub implementation (SPEC 24.3): bovine, from PyPI, signs
activities that a live Kenoma accepts, and verifies the deliveries Kenoma makes, fetching Kenoma's
key itself. bovine runs in its own environment (.venv-peer, made by `make test`) as a
subprocess: tests/federation/peer/bovine_peer.py. Every effect is read through the client API."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import requests
from sqlalchemy import func
from sqlalchemy import select

from models import Activity
from models import Status
from models import db
from tests.federation.peers import Peer
from tests.federation.remote import AS_PUBLIC
from tests.federation.remote import RemoteServer

ROOT = Path(__file__).resolve().parents[2]
PEER_PYTHON = ROOT / ".venv-peer" / "bin" / "python"
PEER_SCRIPT = Path(__file__).parent / "peer" / "bovine_peer.py"


def bovine(*actions: dict) -> list[dict]:
    """Run actions through bovine (see bovine_peer.py) and return their results."""
    if not PEER_PYTHON.exists():
        pytest.fail("bovine's environment is missing: run `make .venv-peer/.installed` (make test does)")
    done = subprocess.run(
        [PEER_PYTHON, PEER_SCRIPT],
        input=json.dumps(list(actions)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def kenoma(live_server):
    return Peer(live_server(), "alice")


@pytest.fixture
def remote():
    server = RemoteServer()
    yield server
    server.stop()


def _post(actor, url: str, activity: dict) -> dict:
    action = {
        "action": "post",
        "url": url,
        "key_id": actor.key_id,
        "private_pem": actor.private_pem,
        "body": json.dumps(activity),
    }
    return bovine(action)[0]


def _verify(remote: RemoteServer, received) -> str | None:
    action = {
        "action": "verify",
        "method": "POST",
        "url": remote.url + received.path,
        "headers": received.headers,
        "body": received.body.decode(),
    }
    return bovine(action)[0]["owner"]


def _stored(kenoma: Peer) -> tuple[int, int]:
    """(activities, statuses) in Kenoma's database."""
    with kenoma.server.app.app_context():
        counts = (
            db.session.scalar(select(func.count()).select_from(Activity)),
            db.session.scalar(select(func.count()).select_from(Status)),
        )
        db.session.remove()
    return counts


def _alice_ap_id(kenoma: Peer) -> str:
    return f"{kenoma.url}/users/alice"


def test_a_follow_signed_by_bovine_is_accepted_and_the_accept_verifies_with_bovine(kenoma, remote):
    moo = remote.actor("moo")
    answer = _post(moo, f"{kenoma.url}/users/alice/inbox", moo.activity("Follow", _alice_ap_id(kenoma)))
    assert answer["status"] == 202, answer
    alice = kenoma.get("/api/v1/accounts/verify_credentials", "alice")
    followers = kenoma.get(f"/api/v1/accounts/{alice['id']}/followers", "alice")
    assert [a["acct"] for a in followers] == [f"moo@{remote.url.split('//')[1]}"]
    assert kenoma.get("/api/v1/notifications", "alice")[0]["type"] == "follow"
    # Kenoma's Accept went to the peer's shared inbox, signed by alice: bovine agrees.
    (accept,) = remote.inbox_posts()
    assert accept.json()["type"] == "Accept" and accept.json()["actor"] == _alice_ap_id(kenoma)
    assert _verify(remote, accept) == _alice_ap_id(kenoma)


def test_a_create_signed_by_bovine_shows_on_the_timeline_and_notifies(kenoma, remote):
    moo = remote.actor("moo")
    alice_id = _alice_ap_id(kenoma)
    note = moo.note(
        f'<p>hi <a href="{alice_id}">@alice</a></p>',
        to=[AS_PUBLIC, alice_id],
        tag=[{"type": "Mention", "href": alice_id, "name": f"@alice@{kenoma.host}"}],
    )
    create = moo.create(note)
    answer = _post(moo, f"{kenoma.url}/inbox", create)
    assert answer["status"] == 202, answer
    public = kenoma.get("/api/v1/timelines/public", params={"remote": "true"})
    assert [s["uri"] for s in public] == [note["id"]]
    notification = kenoma.get("/api/v1/notifications", "alice")[0]
    assert notification["type"] == "mention" and notification["status"]["uri"] == note["id"]
    # The same delivery again (freshly signed, as a retrying server sends it) changes nothing.
    assert _post(moo, f"{kenoma.url}/users/alice/inbox", create)["status"] == 202
    assert len(kenoma.get("/api/v1/timelines/public", params={"remote": "true"})) == 1
    assert len(kenoma.get("/api/v1/notifications", "alice")) == 1
    assert _stored(kenoma)[1] == 1


def test_kenoma_s_deliveries_verify_with_bovine_and_a_tampered_one_does_not(kenoma, remote):
    moo = remote.actor("moo")
    assert (
        _post(moo, f"{kenoma.url}/users/alice/inbox", moo.activity("Follow", _alice_ap_id(kenoma)))["status"]
        == 202
    )
    posted = kenoma.post_status("alice", "hello fediverse")
    create = next(r for r in remote.inbox_posts() if r.json()["type"] == "Create")
    assert create.json()["object"]["id"] == posted["uri"]
    assert _verify(remote, create) == _alice_ap_id(kenoma)
    create.body = create.body.replace(b"hello", b"howdy")
    assert _verify(remote, create) is None


def _bovine_headers(actor, url: str, body: bytes) -> dict:
    action = {
        "action": "sign",
        "url": url,
        "key_id": actor.key_id,
        "private_pem": actor.private_pem,
        "body": body.decode(),
    }
    return bovine(action)[0]["headers"]


@pytest.mark.parametrize("tamper", ["body", "digest", "unsigned", "signature"])
def test_a_tampered_or_unsigned_delivery_is_refused_with_nothing_stored(kenoma, remote, tamper):
    moo = remote.actor("moo")
    url = f"{kenoma.url}/inbox"
    body = json.dumps(moo.create(moo.note("original"))).encode()
    headers = _bovine_headers(moo, url, body)
    before = _stored(kenoma)
    if tamper == "body":
        body = body.replace(b"original", b"tampered")
    elif tamper == "digest":
        headers["digest"] = "SHA-256=" + "A" * 43 + "="
    elif tamper == "unsigned":
        headers.pop("signature")
    else:
        headers["signature"] = headers["signature"].replace('signature="', 'signature="AAAA')
    answer = requests.post(url, data=body, headers=headers, timeout=15)
    assert answer.status_code == 401 and answer.json() == {"error": "Invalid signature"}
    assert _stored(kenoma) == before
    assert kenoma.get("/api/v1/timelines/public", params={"remote": "true"}) == []
    # The same bytes as bovine signed them are accepted: the refusal was the tampering's.
    if tamper == "body":
        body = body.replace(b"tampered", b"original")
        assert (
            requests.post(url, data=body, headers=_bovine_headers(moo, url, body), timeout=15).status_code
            == 202
        )


def _gets(*pairs) -> list[dict]:
    """bovine's signed GETs, one (actor, url) pair each, in one run."""
    actions = [
        {"action": "get", "url": url, "key_id": actor.key_id, "private_pem": actor.private_pem}
        for actor, url in pairs
    ]
    return bovine(*actions)


def test_private_objects_are_served_only_to_a_bovine_signed_fetch_by_a_recipient(kenoma, remote):
    moo, mallory = remote.actor("moo"), remote.actor("mallory")
    follow = moo.activity("Follow", _alice_ap_id(kenoma))
    assert _post(moo, f"{kenoma.url}/users/alice/inbox", follow)["status"] == 202
    moo_acct = f"moo@{remote.url.split('//')[1]}"
    private = kenoma.post_status("alice", "followers only", visibility="private")
    direct = kenoma.post_status("alice", f"@{moo_acct} psst", visibility="direct")
    assert [m["acct"] for m in direct["mentions"]] == [moo_acct]
    # A follower may read followers-only posts, not a direct one addressed to someone else.
    other = kenoma.post_status("alice", "psst, nobody", visibility="direct")
    urls = [u for s in (private, direct) for u in (s["uri"], f"{s['uri']}/activity")]
    answers = _gets(*[(moo, url) for url in urls], *[(mallory, url) for url in urls], (moo, other["uri"]))
    for url, seen in zip(urls, answers[: len(urls)], strict=True):
        assert seen["status"] == 200, seen
        document = json.loads(seen["text"])
        assert url.removesuffix("/activity") in (document["id"], document.get("object", {}).get("id"))
    assert [a["status"] for a in answers[len(urls) :]] == [404] * (len(urls) + 1)
    for url in urls:
        unsigned = requests.get(url, headers={"Accept": "application/activity+json"}, timeout=15)
        assert unsigned.status_code == 404 and unsigned.json() == {"error": "Not found"}


def test_an_activity_addressed_to_one_actor_is_served_to_its_signed_fetch_only(kenoma, remote):
    moo, mallory = remote.actor("moo"), remote.actor("mallory")
    follow = moo.activity("Follow", _alice_ap_id(kenoma))
    assert _post(moo, f"{kenoma.url}/users/alice/inbox", follow)["status"] == 202
    (accept,) = [r.json() for r in remote.inbox_posts() if r.json()["type"] == "Accept"]
    assert accept["id"].startswith(f"{kenoma.url}/activities/") and accept["to"] == [moo.ap_id]
    mine, theirs = _gets((moo, accept["id"]), (mallory, accept["id"]))
    assert mine["status"] == 200 and json.loads(mine["text"]) == accept
    assert theirs["status"] == 404
    assert (
        requests.get(accept["id"], headers={"Accept": "application/activity+json"}, timeout=15).status_code
        == 404
    )
