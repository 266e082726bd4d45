"""The embedded fan-out (streaming/transport.py): unix datagram sockets in the instance folder."""

from __future__ import annotations

import queue
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from streaming.transport import LocalTransport
from streaming.transport import RedisTransport
from streaming.transport import socket_folder
from tests.conftest import free_port
from tests.reliability.conftest import Server
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


def test_a_dead_process_socket_is_removed(tmp_path: Path) -> None:
    folder = socket_folder(tmp_path / "instance")
    folder.mkdir(parents=True)
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    dead.bind(str(folder / "123456.sock"))
    dead.close()  # the file stays, nobody reads it: as after a SIGKILL
    LocalTransport(folder).send(b"{}")
    assert list(folder.glob("*.sock")) == []


def test_a_deep_instance_folder_gets_a_short_socket_folder(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 90) / "instance"
    folder = socket_folder(deep)
    assert folder != deep / "streaming"
    assert len(str(folder / "4194304.sock")) < 108
    assert socket_folder(deep) == folder  # the same for every process of the instance


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A throwaway redis-server on a free loopback port (skipped where none is installed)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_redis_carries_batches_between_processes(redis_url: str) -> None:
    receiving, sending = RedisTransport(redis_url), RedisTransport(redis_url)
    got: queue.Queue = queue.Queue()
    receiving.start(got.put)
    try:
        deadline = time.monotonic() + 5
        while got.empty() and time.monotonic() < deadline:  # until the subscription is live
            sending.send(b'{"events": [], "at": 0}')
            time.sleep(0.05)
        assert got.get(timeout=1) == b'{"events": [], "at": 0}'
    finally:
        receiving.stop()


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


def test_a_server_configured_with_redis_streams_through_it(redis_url: str, tmp_path: Path) -> None:
    server = Server(tmp_path / "redis", KENOMA_REDIS_URL=redis_url)
    server.migrate()
    server.start(workers=2)
    try:
        (_, alice), (_, bob) = server.register_accounts(["alice", "bob"]).values()
        readers = [WsClient(server.url, {"stream": "public"}, protocol=bob) for _ in range(4)]
        created = requests.post(
            f"{server.url}/api/v1/statuses",
            data={"status": "over redis"},
            headers={"Authorization": f"Bearer {alice}"},
            timeout=10,
        ).json()
        for reader in readers:
            assert reader.wait_for("update")["decoded"]["id"] == created["id"]
        # No datagram socket was bound: the batches went over Redis.
        assert not socket_folder(server.instance.resolve()).exists()
    finally:
        server.stop()
