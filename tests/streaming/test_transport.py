"""The embedded fan-out (streaming/transport.py): unix datagram sockets in the instance folder."""

from __future__ import annotations

import queue
import socket
from pathlib import Path

from streaming.transport import LocalTransport
from streaming.transport import socket_folder


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
