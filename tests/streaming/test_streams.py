"""The list and hashtag:local streams (SPEC 25.1) on a live in-process server: a list member's
post reaches its owner's list stream and a non-member's does not; a remote status carrying the
tag reaches `hashtag` but never `hashtag:local`."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests

from models import Account
from models import db
from services.accounts import create_local_account
from services.statuses import NewStatus
from services.statuses import post_status
from tests.conftest import LiveServer
from tests.conftest import password_token
from tests.streaming.clients import SseClient
from tests.streaming.clients import StreamClient
from tests.streaming.clients import WsClient


@pytest.fixture
def server(live_server: Callable[..., LiveServer]) -> LiveServer:
    return live_server()


def _tokens(server: LiveServer, names: tuple[str, ...]) -> dict[str, str]:
    client = server.app.test_client()
    registered = client.post(
        "/api/v1/apps",
        data={
            "client_name": "streams",
            "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
            "scopes": "read write follow",
        },
    ).get_json()
    with server.app.app_context():
        for name in names:
            create_local_account(name, "secret-pw", email=f"{name}@example.org")
        db.session.commit()
    return {name: password_token(client, registered, name, "read write follow") for name in names}


def _call(server: LiveServer, method: str, token: str, path: str, **data: object) -> dict:
    response = requests.request(
        method, f"{server.url}{path}", data=data, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()


def _ids(stream: StreamClient) -> list[str]:
    return [f["decoded"]["id"] for f in stream.frames if f.get("event") == "update"]


def test_a_list_members_post_reaches_the_list_stream(server: LiveServer) -> None:
    tokens = _tokens(server, ("alice", "bob", "carol"))
    bob_id = _call(server, "GET", tokens["bob"], "/api/v1/accounts/verify_credentials")["id"]
    _call(server, "POST", tokens["alice"], f"/api/v1/accounts/{bob_id}/follow")
    listed = _call(server, "POST", tokens["alice"], "/api/v1/lists", title="friends")
    _call(
        server, "POST", tokens["alice"], f"/api/v1/lists/{listed['id']}/accounts", **{"account_ids[]": bob_id}
    )
    sse = SseClient(server.url, "list", token=tokens["alice"], params={"list": listed["id"]})
    ws = WsClient(server.url, {"stream": "list", "list": listed["id"]}, protocol=tokens["alice"])
    assert sse.status == 200 and ws.accepted is not None

    outsider = _call(server, "POST", tokens["carol"], "/api/v1/statuses", status="not on the list")
    member = _call(server, "POST", tokens["bob"], "/api/v1/statuses", status="listed and heard")
    for stream in (sse, ws):
        frame = stream.wait_for("update", where=lambda f: f["decoded"]["id"] == member["id"])
        assert frame["decoded"]["content"] == member["content"]
        assert outsider["id"] not in _ids(stream)  # written first: it would have come first
    # masto drops a frame whose `stream` does not name its subscription.
    assert ws.frames[-1]["stream"] == ["list", listed["id"]]


def test_a_remote_tagged_post_never_reaches_hashtag_local(server: LiveServer) -> None:
    tokens = _tokens(server, ("alice", "bob"))
    local = SseClient(server.url, "hashtag/local", token=tokens["alice"], params={"tag": "Cofe"})
    everywhere = SseClient(server.url, "hashtag", params={"tag": "cofe"})  # no token: a public stream
    ws = WsClient(server.url, {"stream": "hashtag:local", "tag": "cofe"})
    assert local.status == everywhere.status == 200 and ws.accepted is not None

    with server.app.app_context():
        remy = Account(nickname="remy", domain="remote.example", ap_id="https://remote.example/users/remy")
        db.session.add(remy)
        db.session.commit()
        remote_id = post_status(remy, NewStatus(text="from afar #cofe")).id
    heard = everywhere.wait_for("update", where=lambda f: f["decoded"]["id"] == remote_id)
    assert heard["decoded"]["account"]["acct"] == "remy@remote.example"

    status = _call(server, "POST", tokens["bob"], "/api/v1/statuses", status="at home #cofe")
    for stream in (local, ws, everywhere):
        stream.wait_for("update", where=lambda f: f["decoded"]["id"] == status["id"])
    for stream in (local, ws):
        assert remote_id not in _ids(stream)  # written first: it would have come first
    assert ws.frames[-1]["stream"] == ["hashtag:local", "cofe"]


def test_a_token_ended_behind_the_apps_back_closes_at_the_next_heartbeat(
    live_server: Callable[..., LiveServer],
) -> None:
    """No event announces a change made outside the app (a sqlite3 shell, expiry): the heartbeat's
    re-check of the readers' tokens finds it."""
    server = live_server(STREAMING_HEARTBEAT=0.3)
    tokens = _tokens(server, ("alice",))
    sse = SseClient(server.url, "user", token=tokens["alice"])
    ws = WsClient(server.url, {"stream": "user"}, protocol=tokens["alice"])
    assert sse.status == 200 and ws.accepted is not None
    with server.app.app_context():
        with db.engine.begin() as connection:  # Core, as a shell would: no ORM event
            connection.exec_driver_sql("UPDATE oauth_token SET expires_in = 1, issued_at = 1")
    for stream in (sse, ws):
        stream.wait_for("_closed", timeout=3)
