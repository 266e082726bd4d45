"""Mastodon.py's `stream_user`, `stream_public` and `stream_hashtag` (server-sent events) against
a live Kenoma on loopback: each listener gets the events parsed into Mastodon.py's own types."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING
from typing import Any

import pytest
from mastodon import Mastodon
from mastodon import StreamListener

from tests.clients.conftest import mastodon_users

if TYPE_CHECKING:
    from tests.clients.conftest import LiveServer


class Collector(StreamListener):
    """Every parsed event as (name, payload), in order; next() takes the first of a name."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []
        self.arrived = threading.Condition()

    def _put(self, name: str, payload: Any) -> None:
        with self.arrived:
            self.events.append((name, payload))
            self.arrived.notify_all()

    def on_update(self, status: Any) -> None:
        self._put("update", status)

    def on_notification(self, notification: Any) -> None:
        self._put("notification", notification)

    def on_delete(self, status_id: Any) -> None:
        self._put("delete", status_id)

    def on_status_update(self, status: Any) -> None:
        self._put("status.update", status)

    def on_conversation(self, conversation: Any) -> None:
        self._put("conversation", conversation)

    def next(self, name: str, timeout: float = 5) -> Any:
        with self.arrived:
            found = self.arrived.wait_for(lambda: any(n == name for n, _ in self.events), timeout)
            if not found:
                raise TimeoutError(f"no {name} event: {[n for n, _ in self.events]}")
            index = next(i for i, (n, _) in enumerate(self.events) if n == name)
            return self.events.pop(index)[1]


@pytest.fixture(scope="module")
def apis(server: LiveServer) -> dict[str, Mastodon]:
    # A closed Mastodon.py stream lets go once its reader wakes: a heartbeat wakes it soon.
    server.app.config["STREAMING_HEARTBEAT"] = 0.5
    users = mastodon_users(server, "Kenoma streaming test", ("alice", "bob"))
    users["bob"].account_follow(users["alice"].me())
    return users


@pytest.fixture
def opened() -> Iterator[list]:
    handles: list = []
    yield handles
    for handle in handles:
        handle.close()


def _wait_until_connected(handle: Any) -> None:
    deadline = time.monotonic() + 5
    while not handle.is_receiving() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert handle.is_receiving()


def test_stream_user_gets_updates_notifications_edits_and_deletes(apis: dict, opened: list) -> None:
    alice, bob = apis["alice"], apis["bob"]
    listener = Collector()
    opened.append(bob.stream_user(listener, run_async=True))
    _wait_until_connected(opened[0])

    status = alice.status_post("hello @bob")
    update = listener.next("update")
    assert update.id == status.id
    assert update.account.acct == "alice"
    notification = listener.next("notification")
    assert notification.type == "mention" and notification.status.id == status.id

    alice.status_update(status, "hello again @bob")
    assert "hello again" in listener.next("status.update").content

    alice.status_delete(status)
    assert str(listener.next("delete")) == str(status.id)


def test_stream_public_and_hashtag(apis: dict, opened: list) -> None:
    alice, bob = apis["alice"], apis["bob"]
    public, tagged, local = Collector(), Collector(), Collector()
    opened.append(bob.stream_public(public, run_async=True))
    opened.append(bob.stream_hashtag("kenoma", tagged, run_async=True))
    opened.append(bob.stream_public(local, run_async=True, local=True))
    for handle in opened:
        _wait_until_connected(handle)

    plain = alice.status_post("nothing tagged")
    tagged_status = alice.status_post("all about #Kenoma")
    assert public.next("update").id == plain.id
    assert public.next("update").id == tagged_status.id
    assert local.next("update").id == plain.id
    got = tagged.next("update")
    assert got.id == tagged_status.id and [t.name for t in got.tags] == ["kenoma"]
    with pytest.raises(TimeoutError):  # the untagged status never reached the hashtag stream
        tagged.next("update", timeout=0.5)


def test_stream_direct_gets_conversations(apis: dict, opened: list) -> None:
    alice, bob = apis["alice"], apis["bob"]
    listener = Collector()
    opened.append(bob.stream_direct(listener, run_async=True))
    _wait_until_connected(opened[0])
    status = alice.status_post("@bob just between us", visibility="direct")
    conversation = listener.next("conversation")
    assert conversation.last_status.id == status.id
    assert [a.acct for a in conversation.accounts] == ["alice"]
