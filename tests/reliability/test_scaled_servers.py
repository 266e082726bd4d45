"""Two app servers on one PostgreSQL and one Redis (SPEC 28): two gunicorn processes on their own
ports sharing the instance folder, as two machines behind nginx would share it. They must behave
as one server: a rate limit counts across both, a scheduled job runs once, a read on either sees a
write made on the other at once (kept answers included), and a post made on one streams to a
client of the other within a second (Redis pub/sub carries the event batch).

Runs in the scaled run (`make test-postgres`, tests/scaled.py), which brings the engines."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
import requests

from tests import scaled
from tests.reliability.conftest import Server
from tests.streaming.clients import SseClient
from tests.streaming.clients import WsClient

pytestmark = pytest.mark.skipif(not scaled.SCALED, reason="needs the scaled engines (make test-postgres)")


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server]]:
    """Started once for the module (each test flushes Redis, so rate limits start afresh)."""
    tmp_path = tmp_path_factory.mktemp("scaled")
    shared = tmp_path / "both"
    engines = scaled.instance_env(shared / "instance", empty=True)
    env = {
        **engines,
        "KENOMA_INSTANCE_PATH": str(shared / "instance"),
        "KENOMA_EMOJI_DIR": str(shared / "emoji"),
        "KENOMA_BASE_URL": "http://kenoma.test",  # the one name nginx would serve both under
        "KENOMA_RATELIMIT_ENABLED": "true",
        "KENOMA_RATELIMIT_AUTHENTICATION": "4 per minute",
        "KENOMA_SCHEDULED_STATUSES_MIN_SECONDS": "1",
    }
    (shared / "emoji").mkdir(parents=True)
    first, second = Server(tmp_path / "a", **env), Server(tmp_path / "b", **env)
    first.migrate()
    try:
        first.start(workers=1)
        second.start(workers=1)
        yield first, second
    finally:
        first.stop()
        second.stop()


def _get(server: Server, path: str, token: str) -> requests.Response:
    return requests.get(f"{server.url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=30)


def _post(server: Server, path: str, token: str, **data: str) -> requests.Response:
    return requests.post(
        f"{server.url}{path}", data=data, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def test_a_rate_limit_counts_across_both_servers(servers: tuple[Server, Server]) -> None:
    first, second = servers
    app = first.register_app()
    answers = []
    for attempt in range(6):  # wrong passwords, alternating between the servers
        server = (first, second)[attempt % 2]
        answers.append(
            requests.post(
                f"{server.url}/oauth/token",
                data={
                    "grant_type": "password",
                    "client_id": app["client_id"],
                    "client_secret": app["client_secret"],
                    "username": "nobody",
                    "password": "wrong",
                },
                timeout=30,
            ).status_code
        )
    # Four per minute for the address, whichever server answered: two each, then refused.
    assert answers[:4] == [400, 400, 400, 400]
    assert answers[4:] == [429, 429]


def test_reads_on_either_server_see_writes_on_the_other(servers: tuple[Server, Server]) -> None:
    first, second = servers
    accounts = first.register_accounts(["alice"])
    token = accounts["alice"][1]
    assert _get(second, "/api/v1/timelines/home", token).json() == []
    assert _get(second, "/api/v1/timelines/home", token).json() == []  # now a kept answer
    posted = _post(first, "/api/v1/statuses", token, status="made on the first").json()
    home = _get(second, "/api/v1/timelines/home", token).json()
    assert [s["id"] for s in home] == [posted["id"]]
    assert _get(first, f"/api/v1/statuses/{posted['id']}", token).status_code == 200
    deleted = requests.delete(
        f"{second.url}/api/v1/statuses/{posted['id']}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert deleted.status_code == 200
    assert _get(first, f"/api/v1/statuses/{posted['id']}", token).status_code == 404
    assert _get(first, "/api/v1/timelines/home", token).json() == []


def test_a_scheduled_status_is_posted_once(servers: tuple[Server, Server]) -> None:
    first, second = servers
    token = first.register_accounts(["carol"])["carol"][1]
    account_id = _get(second, "/api/v1/accounts/verify_credentials", token).json()["id"]
    _get(second, "/api/v1/timelines/home", token)  # each server's job consumer is running now
    moment = (datetime.now(UTC) + timedelta(seconds=3)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    scheduled = _post(first, "/api/v1/statuses", token, status="once only", scheduled_at=moment)
    assert scheduled.status_code == 200, scheduled.text
    deadline = time.monotonic() + 60  # generous: the suite runs on two busy cores
    statuses: list = []
    while time.monotonic() < deadline and not statuses:
        time.sleep(0.5)
        statuses = _get(second, f"/api/v1/accounts/{account_id}/statuses", token).json()
    assert [s["content"] for s in statuses] == ["once only"]
    time.sleep(2)  # a second run, had there been one, would have posted by now
    assert len(_get(first, f"/api/v1/accounts/{account_id}/statuses", token).json()) == 1
    assert _get(first, "/api/v1/scheduled_statuses", token).json() == []


def test_a_post_on_one_server_streams_to_clients_of_the_other(servers: tuple[Server, Server]) -> None:
    first, second = servers
    accounts = first.register_accounts(["dora", "ezra"])
    (dora_id, dora), ezra = accounts["dora"], accounts["ezra"][1]
    assert _post(first, f"/api/v1/accounts/{dora_id}/follow", ezra).status_code == 200
    # Both readers hold their connection on the second server only: nothing on the first
    # server's side can reach them but the Redis channel.
    home = WsClient(second.url, {"stream": "user"}, protocol=ezra)
    assert home.accepted is not None
    town = SseClient(second.url, "public/local")
    assert town.status == 200
    try:
        started = time.monotonic()
        posted = _post(first, "/api/v1/statuses", dora, status="from the first server")
        assert posted.status_code == 200, posted.text
        status_id = posted.json()["id"]
        for reader in (home, town):
            frame = reader.wait_for("update", timeout=5, where=lambda f: _is_status(f, status_id))
            assert time.monotonic() - started < 1.0, reader.names()
            assert frame["decoded"]["content"] == posted.json()["content"]
    finally:
        home.close()
        town.close()


def _is_status(frame: dict, status_id: str) -> bool:
    decoded = frame.get("decoded")
    return isinstance(decoded, dict) and decoded.get("id") == status_id
