"""The embedded fan-out (streaming/transport.py): unix datagram sockets in the instance folder."""

from __future__ import annotations

import os
import queue
import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from streaming.transport import LocalTransport
from streaming.transport import RedisTransport
from streaming.transport import socket_folder
from tests.reliability.conftest import Server
from tests.scaled import Redis
from tests.streaming.clients import WsClient


def test_a_batch_reaches_every_listening_process(tmp_path: Path) -> None:
    folder = socket_folder(tmp_path / "instance")
    receiving = LocalTransport(folder)
    got: queue.Queue = queue.Queue()
    receiving.start(got.put)
    try:
        # Another process's socket, as a worker would have bound it.
        other = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        other.bind(str(folder / "999999.sock"))
        LocalTransport(folder).send(b'{"events": []}')  # any process may send, even one not listening
        assert got.get(timeout=2) == b'{"events": []}'
        assert other.recv(1024) == b'{"events": []}'
        other.close()
    finally:
        receiving.stop()
    assert list(folder.glob("*.sock")) == [folder / "999999.sock"]
    shutil.rmtree(folder)  # it may be the fallback under /tmp (socket_folder)


def test_a_dead_process_socket_is_removed(tmp_path: Path) -> None:
    folder = socket_folder(tmp_path / "instance")
    folder.mkdir(parents=True)
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    dead.bind(str(folder / "123456.sock"))
    dead.close()  # the file stays, nobody reads it: as after a SIGKILL
    LocalTransport(folder).send(b"{}")
    assert list(folder.glob("*.sock")) == []
    folder.rmdir()


def test_a_deep_instance_folder_gets_a_short_socket_folder(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 90) / "instance"
    folder = socket_folder(deep)
    assert folder != deep / "streaming"
    assert len(str(folder / "4194304.sock")) < 108
    assert socket_folder(deep) == folder  # the same for every process of the instance


def test_the_last_listener_to_stop_removes_the_socket_folder(tmp_path: Path) -> None:
    folder = socket_folder(tmp_path / ("d" * 90) / "instance")  # the fallback under /tmp
    first, second = LocalTransport(folder), LocalTransport(folder)
    first.bind()
    second._path = folder / "999998.sock"  # a second process' socket, as bind() names it
    second._path.touch()
    second._bound_pid = os.getpid()
    first.stop()
    assert folder.is_dir()  # the other process still listens
    second.stop()
    assert not folder.exists()
    first.bind()  # a process starting afterwards makes it again
    assert (folder / f"{os.getpid()}.sock").exists()
    first.stop()
    assert not folder.exists()


def test_a_forked_child_leaves_its_parents_socket(tmp_path: Path) -> None:
    transport = LocalTransport(socket_folder(tmp_path / "instance"))
    transport.bind()
    path = transport._path
    pid = os.fork()
    if pid == 0:  # the child: as a gunicorn worker exiting with the master's atexit hooks
        transport.stop()
        os._exit(0)
    os.waitpid(pid, 0)
    assert path is not None and path.exists()
    transport.stop()
    assert not path.exists()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[Redis]:
    """A throwaway redis-server on a free loopback port (skipped where none is installed)."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = Redis(tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_server: Redis) -> str:
    return redis_server.url


def _until_heard(sending: RedisTransport, got: queue.Queue, batch: bytes, within: float) -> bytes:
    """Publish `batch` every 50 ms until the receiver has it (its subscription may not be live)."""
    deadline = time.monotonic() + within
    while got.empty() and time.monotonic() < deadline:
        try:
            sending.send(batch)
        except Exception:  # noqa: BLE001 - Redis is still coming back
            pass
        time.sleep(0.05)
    return got.get(timeout=1)


def test_redis_carries_batches_between_processes(redis_url: str) -> None:
    receiving, sending = RedisTransport(redis_url), RedisTransport(redis_url)
    got: queue.Queue = queue.Queue()
    receiving.start(got.put)
    try:
        assert _until_heard(sending, got, b'{"events": [], "at": 0}', 5) == b'{"events": [], "at": 0}'
    finally:
        receiving.stop()


def test_the_redis_listener_comes_back_after_a_restart(redis_server: Redis) -> None:
    receiving, sending = RedisTransport(redis_server.url), RedisTransport(redis_server.url)
    got: queue.Queue = queue.Queue()
    receiving.start(got.put)
    try:
        assert _until_heard(sending, got, b"before", 5) == b"before"
        redis_server.stop()
        deadline = time.monotonic() + 5
        while receiving.subscribed and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not receiving.subscribed  # it noticed
        time.sleep(1)  # a few failed attempts, so the pauses have grown
        redis_server.start()  # the same port
        while not got.empty():
            got.get()
        # The pauses are bounded (RECONNECT_MAX): subscribed again within seconds.
        assert _until_heard(sending, got, b"after", 10) == b"after"
        assert receiving.subscribed
    finally:
        receiving.stop()


def test_a_stopped_listener_says_nothing_when_redis_goes_away(
    redis_server: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    """A test session stops its apps' listeners before its Redis (tests/scaled.py): the one
    still waiting for its next message must not report a lost subscription."""
    receiving, sending = RedisTransport(redis_server.url), RedisTransport(redis_server.url)
    got: queue.Queue = queue.Queue()
    receiving.start(got.put)
    assert _until_heard(sending, got, b"live", 5) == b"live"
    receiving.stop()
    redis_server.stop()
    time.sleep(1.5)  # longer than the listener's wait for a message
    assert "subscription lost" not in caplog.text


def test_instances_in_two_redis_databases_do_not_hear_each_other(redis_url: str) -> None:
    """Pub/sub ignores the database number: the channel is named after it instead."""
    other_url = redis_url.rsplit("/", 1)[0] + "/1"
    ours, theirs = RedisTransport(redis_url), RedisTransport(other_url)
    heard_ours: queue.Queue = queue.Queue()
    heard_theirs: queue.Queue = queue.Queue()
    ours.start(heard_ours.put)
    theirs.start(heard_theirs.put)
    try:
        deadline = time.monotonic() + 5
        while heard_ours.empty() and time.monotonic() < deadline:
            RedisTransport(redis_url).send(b"ours")
            time.sleep(0.05)
        assert heard_ours.get(timeout=1) == b"ours"
        assert heard_theirs.empty()
    finally:
        ours.stop()
        theirs.stop()


def test_a_server_configured_with_redis_streams_through_it(redis_server: Redis, tmp_path: Path) -> None:
    server = Server(tmp_path / "redis", KENOMA_REDIS_URL=redis_server.url)
    server.migrate()
    server.start(workers=2)
    try:
        (_, alice), (_, bob) = server.register_accounts(["alice", "bob"]).values()
        readers = [WsClient(server.url, {"stream": "public"}, protocol=bob) for _ in range(4)]
        created = _post_status(server, alice, "over redis")
        for reader in readers:
            assert reader.wait_for("update")["decoded"]["id"] == created["id"]
        # No datagram socket was bound: the batches went over Redis.
        assert not socket_folder(server.instance.resolve()).exists()

        redis_server.stop()
        time.sleep(1)
        redis_server.start()
        # Each worker subscribes again within seconds (RECONNECT_MAX): soon a status reaches
        # every reader, whichever worker holds it.
        deadline = time.monotonic() + 15
        while not _heard_by_all(readers, _post_status(server, alice, "redis is back")["id"]):
            assert time.monotonic() < deadline, "a worker did not subscribe again"
    finally:
        server.stop()


def _post_status(server: Server, token: str, text: str) -> dict:
    answer = requests.post(
        f"{server.url}/api/v1/statuses",
        data={"status": text},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def _heard_by_all(readers: list[WsClient], status_id: str) -> bool:
    for reader in readers:
        try:
            reader.wait_for("update", timeout=0.5, where=lambda f: f["decoded"]["id"] == status_id)
        except AssertionError:
            return False
    return True
