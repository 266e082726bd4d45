"""megalodon (npm) streaming over Kenoma's websocket: its Pleroma backend opens
/api/v1/streaming?stream=...&access_token=... at the instance's `urls.streaming_api` and turns
each frame into its own entities (tests/clients/node/stream.cjs prints them)."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING
from typing import Any

import pytest
from mastodon import Mastodon

from tests.clients.conftest import mastodon_users
from tests.clients.test_megalodon import NODE_DIR
from tests.clients.test_megalodon import _node_ready

if TYPE_CHECKING:
    from tests.clients.conftest import LiveServer


class NodeStream:
    def __init__(self, server: LiveServer, token: str, method: str) -> None:
        env = {**os.environ, "KENOMA_URL": server.base_url, "KENOMA_TOKEN": token}
        self.process = subprocess.Popen(
            ["node", "stream.cjs", method],
            cwd=NODE_DIR,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.items: list[dict] = []
        self.arrived = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self.arrived:
                self.items.append(json.loads(line))
                self.arrived.notify_all()

    def next(self, event: str, timeout: float = 10) -> Any:
        """The first not yet taken event of that name (events may come in any order)."""
        with self.arrived:
            if not self.arrived.wait_for(lambda: any(i["event"] == event for i in self.items), timeout):
                raise AssertionError(f"megalodon gave no {event}: {[i['event'] for i in self.items]}")
            index = next(n for n, i in enumerate(self.items) if i["event"] == event)
            return self.items.pop(index)["data"]

    def stop(self) -> None:
        self.process.stdin.close()  # type: ignore[union-attr]
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture(scope="module")
def apis(server: LiveServer) -> dict[str, Mastodon]:
    _node_ready()
    server.app.config["STREAMING_HEARTBEAT"] = 1
    users = mastodon_users(server, "Kenoma megalodon streaming", ("alice", "bob"))
    users["bob"].account_follow(users["alice"].me())
    return users


@pytest.fixture
def user_stream(server: LiveServer, apis: dict[str, Mastodon]) -> Iterator[NodeStream]:
    stream = NodeStream(server, apis["bob"].access_token, "userStreaming")
    yield stream
    stream.stop()


def test_megalodon_user_streaming(apis: dict[str, Mastodon], user_stream: NodeStream) -> None:
    alice = apis["alice"]
    user_stream.next("connect")
    status = alice.status_post("hello @bob, from the websocket")
    update = user_stream.next("update")
    assert update["id"] == status.id
    assert update["account"]["acct"] == "alice"
    notification = user_stream.next("notification")
    assert notification["type"] == "mention" and notification["status"]["id"] == status.id
    alice.status_update(status, "edited for megalodon")
    assert "edited for megalodon" in user_stream.next("status_update")["content"]
    alice.status_delete(status)
    assert user_stream.next("delete") == status.id
