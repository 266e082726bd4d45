"""The streaming API on a real gunicorn with two workers (SPEC 25.1): websocket and SSE readers
get update, notification, status.update, delete and conversation events of writes handled by
either worker within a second, and never a status they may not see."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from streaming.transport import socket_folder
from tests.reliability.conftest import Server
from tests.streaming.clients import SseClient
from tests.streaming.clients import StreamClient
from tests.streaming.clients import WsClient

WITHIN = 1.0  # seconds from the write's answer to the frame


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp("streaming"))
    server.migrate()
    server.start(workers=2)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def accounts(server: Server) -> dict[str, tuple[str, str]]:
    accounts = server.register_accounts(["alice", "bob", "carol", "dave", "eve"])
    bob = accounts["bob"][1]
    for name in ("alice", "dave", "eve"):
        _post(server, bob, f"/api/v1/accounts/{accounts[name][0]}/follow")
    _post(server, bob, f"/api/v1/accounts/{accounts['dave'][0]}/mute")
    _post(server, accounts["eve"][1], f"/api/v1/accounts/{accounts['bob'][0]}/block")
    return accounts


def _post(server: Server, token: str, path: str, **data: str) -> dict:
    response = requests.post(
        f"{server.url}{path}", headers={"Authorization": f"Bearer {token}"}, data=data, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()


def _both_workers_stream(server: Server, open_one) -> list[StreamClient]:  # noqa: ANN001
    """Open connections until each worker holds one (each binds its socket on the first):
    then every write, whichever worker handles it, has to cross to the other."""
    folder = socket_folder(Path(server.instance).resolve())
    clients = [open_one()]
    for _ in range(30):
        if len(list(folder.glob("*.sock"))) >= 2:
            return clients
        clients.append(open_one())
        time.sleep(0.05)
    raise AssertionError("the connections all went to one worker")


def _frame_for(client: StreamClient, event: str, wanted: str, started: float) -> dict:
    frame = client.wait_for(event, timeout=3, where=lambda f: _mentions(f, wanted))
    assert time.monotonic() - started < WITHIN
    return frame


def _mentions(frame: dict, wanted: str) -> bool:
    decoded = frame.get("decoded")
    if isinstance(decoded, dict):
        return wanted in (decoded.get("id"), (decoded.get("status") or {}).get("id"), _last(decoded))
    return decoded == wanted or frame.get("payload") == wanted


def _last(decoded: dict) -> str | None:
    return (decoded.get("last_status") or {}).get("id")


def test_events_cross_workers_within_a_second(server: Server, accounts: dict) -> None:
    (alice_id, alice), bob = accounts["alice"], accounts["bob"][1]
    sockets = _both_workers_stream(server, lambda: WsClient(server.url, {"stream": "user"}, protocol=bob))
    sse = _both_workers_stream(server, lambda: SseClient(server.url, "user", token=bob))
    for ws in sockets:
        assert ws.accepted is not None and ws.accepted.subprotocol == bob  # echoed, as masto needs
        ws.send({"type": "subscribe", "stream": "direct"})
        assert ws.wait_for("pleroma:respond")["decoded"] == {"type": "subscribe", "result": "success"}
    direct_sse = SseClient(server.url, "direct", token=bob)
    readers: list[StreamClient] = [*sockets, *sse]

    started = time.monotonic()
    status = _post(server, alice, "/api/v1/statuses", status="hello @bob")
    for reader in readers:
        frame = _frame_for(reader, "update", status["id"], started)
        assert frame["decoded"]["content"] == status["content"]
        notification = _frame_for(reader, "notification", status["id"], started)
        assert notification["decoded"]["type"] == "mention"

    started = time.monotonic()
    response = requests.put(
        f"{server.url}/api/v1/statuses/{status['id']}",
        headers={"Authorization": f"Bearer {alice}"},
        data={"status": "hello again @bob"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    for reader in readers:
        frame = _frame_for(reader, "status.update", status["id"], started)
        assert "hello again" in frame["decoded"]["content"]

    started = time.monotonic()
    gone = requests.delete(
        f"{server.url}/api/v1/statuses/{status['id']}",
        headers={"Authorization": f"Bearer {alice}"},
        timeout=10,
    )
    assert gone.status_code == 200
    for reader in readers:
        _frame_for(reader, "delete", status["id"], started)

    started = time.monotonic()
    direct = _post(server, alice, "/api/v1/statuses", status="psst @bob", visibility="direct")
    for reader in [*sockets, direct_sse]:
        frame = _frame_for(reader, "conversation", direct["id"], started)
        assert frame["decoded"]["last_status"]["id"] == direct["id"]
        assert [a["id"] for a in frame["decoded"]["accounts"]] == [alice_id]
    for ws in sockets:
        assert [f["stream"] for f in ws.frames if f.get("event") == "conversation"] == [["direct"]]
    # The user stream names itself in every frame (masto drops one that does not).
    assert {tuple(f["stream"]) for f in sockets[0].frames if f.get("event") == "update"} == {("user",)}


def test_readers_never_get_what_they_may_not_see(server: Server, accounts: dict) -> None:
    bob = accounts["bob"][1]
    user = _both_workers_stream(server, lambda: WsClient(server.url, {"stream": "user"}, protocol=bob))
    public = _both_workers_stream(server, lambda: SseClient(server.url, "public", token=bob))
    _post(
        server,
        bob,
        "/api/v2/filters",
        title="no spoilers",
        filter_action="hide",
        **{"context[]": ["home", "public"], "keywords_attributes[][keyword]": "spoilerword"},
    )
    hidden = [
        # alice is followed, but bob's `hide` filter matches (home and public contexts).
        _post(server, accounts["alice"][1], "/api/v1/statuses", status="the spoilerword is out"),
        _post(
            server, accounts["carol"][1], "/api/v1/statuses", status="followers only", visibility="private"
        ),
        _post(server, accounts["dave"][1], "/api/v1/statuses", status="a muted voice"),
        _post(server, accounts["eve"][1], "/api/v1/statuses", status="a blocker speaks"),
    ]
    # A status everyone may see, written last: once it arrives, the others would have too.
    seen = _post(server, accounts["alice"][1], "/api/v1/statuses", status="open to all")
    hidden_ids = {s["id"] for s in hidden}
    for reader in [*user, *public]:
        reader.wait_for("update", where=lambda f: _mentions(f, seen["id"]))
        assert not [f for f in reader.frames if any(_mentions(f, i) for i in hidden_ids)]


def test_health_and_handshake_errors(server: Server, accounts: dict) -> None:
    assert requests.get(f"{server.url}/api/v1/streaming/health", timeout=5).text == "OK"
    refused = SseClient(server.url, "user")
    assert refused.status == 401
    assert refused.response.json() == {"error": "Missing access token"}
    assert WsClient(server.url, {"stream": "user", "access_token": "nope"}).rejected == 401
    # Public streams need no token, as on Pleroma.
    anonymous = WsClient(server.url, {"stream": "public:local"})
    assert anonymous.accepted is not None
    status = _post(server, accounts["alice"][1], "/api/v1/statuses", status="for the town square")
    frame = anonymous.wait_for("update", timeout=3)
    assert frame["stream"] == ["public:local"] and frame["decoded"]["id"] == status["id"]


def test_user_stream_hears_filters_follows_and_chats(server: Server, accounts: dict) -> None:
    (carol_id, carol), (bob_id, bob) = accounts["carol"], accounts["bob"]
    readers = _both_workers_stream(server, lambda: WsClient(server.url, {"stream": "user"}, protocol=bob))
    _post(
        server,
        bob,
        "/api/v2/filters",
        title="spoilers",
        **{"context[]": "home", "keywords_attributes[][keyword]": "x"},
    )
    for reader in readers:
        frame = reader.wait_for("filters_changed")
        assert frame["stream"] == ["user"] and "payload" not in frame
    _post(server, bob, f"/api/v1/accounts/{carol_id}/follow")
    for reader in readers:
        frame = reader.wait_for("pleroma:follow_relationships_update")
        assert frame["decoded"]["state"] == "follow_accept"
        # alice, dave and carol: eve's block ended that follow.
        assert frame["decoded"]["follower"] == {"id": bob_id, "follower_count": 0, "following_count": 3}
        assert frame["decoded"]["following"]["id"] == carol_id
    chat = _post(server, carol, f"/api/v1/pleroma/chats/by-account-id/{bob_id}")
    _post(server, carol, f"/api/v1/pleroma/chats/{chat['id']}/messages", content="hi bob")
    for reader in readers:
        frame = reader.wait_for("pleroma:chat_update")
        assert frame["decoded"]["account"]["id"] == carol_id
        assert frame["decoded"]["last_message"]["content"] == "hi bob"
        note = reader.wait_for("notification", where=lambda f: f["decoded"]["type"] == "pleroma:chat_mention")
        assert note["decoded"]["chat_message"]["content"] == "hi bob"


def test_authenticate_after_connecting(server: Server, accounts: dict) -> None:
    """Pleroma's unified socket: no token at first, `pleroma:authenticate`, then a user stream."""
    bob = accounts["bob"][1]
    ws = WsClient(server.url)
    ws.send({"type": "subscribe", "stream": "user"})
    refused = ws.wait_for("pleroma:respond")["decoded"]
    assert refused == {"type": "subscribe", "result": "error", "error": "unauthorized"}
    ws.send({"type": "pleroma:authenticate", "token": "wrong"})
    assert ws.wait_for("pleroma:respond")["decoded"]["error"] == "unauthorized"
    ws.send({"type": "pleroma:authenticate", "token": bob})
    assert ws.wait_for("pleroma:respond")["decoded"] == {"type": "pleroma:authenticate", "result": "success"}
    ws.send({"type": "subscribe", "stream": "user"})
    assert ws.wait_for("pleroma:respond")["decoded"] == {"type": "subscribe", "result": "success"}
    status = _post(server, accounts["alice"][1], "/api/v1/statuses", status="welcome aboard")
    assert ws.wait_for("update", where=lambda f: _mentions(f, status["id"]))["stream"] == ["user"]


def _login(server: Server, nickname: str) -> tuple[dict, str]:
    """A new app and a password-grant token of it (revoking needs the app's credentials)."""
    app = server.register_app()
    response = requests.post(
        f"{server.url}/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "username": nickname,
            "password": "secret-pw",
            "scope": "read write",
        },
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return app, response.json()["access_token"]


def _streams_of(server: Server, token: str) -> list[StreamClient]:
    """A websocket and an SSE stream on each worker, all with `token`."""
    return [
        *_both_workers_stream(server, lambda: WsClient(server.url, {"stream": "user"}, protocol=token)),
        *_both_workers_stream(server, lambda: SseClient(server.url, "user", token=token)),
    ]


def _closed_within_a_second(streams: list[StreamClient]) -> None:
    started = time.monotonic()
    for stream in streams:
        stream.wait_for("_closed", timeout=3)
    assert time.monotonic() - started < WITHIN


def test_streams_close_when_their_token_stops_working(server: Server) -> None:
    """Revoked (POST /oauth/revoke, DELETE /api/oauth_tokens/:id), ended by a password change,
    its account disabled or deleted: every worker closes the streams holding the token, and only
    those."""
    (_, gone_token) = server.register_accounts(["frank", "grace"])["grace"]
    leaving = _streams_of(server, gone_token)
    app, revoked = _login(server, "frank")
    _, deleted = _login(server, "frank")
    _, kept = _login(server, "frank")
    _, other = _login(server, "frank")
    streams = {token: _streams_of(server, token) for token in (revoked, deleted, kept, other)}

    answer = requests.post(
        f"{server.url}/oauth/revoke",
        data={"client_id": app["client_id"], "client_secret": app["client_secret"], "token": revoked},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    _closed_within_a_second(streams[revoked])

    auth = {"Authorization": f"Bearer {kept}"}
    [(gone,)] = server.sql("SELECT id FROM oauth_token WHERE access_token = ?", deleted)
    assert (
        requests.delete(f"{server.url}/api/oauth_tokens/{gone}", headers=auth, timeout=10).status_code == 200
    )
    _closed_within_a_second(streams[deleted])

    changed = requests.post(
        f"{server.url}/api/pleroma/change_password",
        headers=auth,
        data={
            "password": "secret-pw",
            "new_password": "secret-pw-2",
            "new_password_confirmation": "secret-pw-2",
        },
        timeout=10,
    )
    assert changed.status_code == 200, changed.text
    _closed_within_a_second(streams[other])  # every token but the one that changed it
    assert not [f for s in streams[kept] for f in s.frames if f["event"] == "_closed"]

    disabled = requests.post(
        f"{server.url}/api/pleroma/disable_account",
        headers=auth,
        data={"password": "secret-pw-2"},
        timeout=10,
    )
    assert disabled.status_code == 200, disabled.text
    _closed_within_a_second(streams[kept])

    deleted_account = requests.post(
        f"{server.url}/api/pleroma/delete_account",
        headers={"Authorization": f"Bearer {gone_token}"},
        data={"password": "secret-pw"},
        timeout=10,
    )
    assert deleted_account.status_code == 200, deleted_account.text
    _closed_within_a_second(leaving)
