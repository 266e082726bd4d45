"""Carrying committed event batches to every server process.

The embedded default needs no service: each process that holds streaming connections binds a
unix datagram socket in a folder of the instance (`<pid>.sock`), and a process that commits
sends its batch to every socket there, its own included. A datagram is one whole batch (a few
hundred bytes of ids), delivery on loopback takes tens of microseconds, and nothing polls: the
hub's loop waits on the socket in its selector (bind()), or a thread sleeps in recv() (start()). A socket whose process died refuses the datagram and is
removed by the sender. Any process of the instance can send, `flask jobs` and the CLI too.

With KENOMA_REDIS_URL set, Redis pub/sub on one channel carries the batches instead, so the
processes may be on several machines (SPEC 28)."""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

Deliver = Callable[[bytes], None]
# AF_UNIX paths are at most 107 bytes; a deeper instance folder uses one under the temp dir.
MAX_SOCKET_PATH = 100
RECEIVE_BUFFER = 4 * 1024 * 1024
MAX_DATAGRAM = 65536 * 4
SEND_TIMEOUT = 0.05  # a full receiver costs the writer this much at most, then loses the batch
CHANNEL = "kenoma:streaming"
RECONNECT_FIRST = 0.1  # seconds before subscribing again after Redis went away, doubling...
RECONNECT_MAX = 5.0  # ...up to this, so a restarted Redis is heard from within seconds
LISTEN_TIMEOUT = 1.0
HEALTH_CHECK = 15  # seconds of silence before the subscription's connection is pinged


class Transport(Protocol):
    def send(self, batch: bytes) -> None: ...

    def start(self, deliver: Deliver) -> None:
        """Start receiving in this process: `deliver` is called, from a thread, per batch."""

    def stop(self) -> None: ...


def socket_folder(instance: Path) -> Path:
    folder = instance / "streaming"
    if len(str(folder / "4194304.sock")) > MAX_SOCKET_PATH:
        digest = hashlib.sha256(str(instance).encode()).hexdigest()[:16]
        folder = Path(tempfile.gettempdir()) / f"kenoma-streaming-{digest}"
    return folder


class LocalTransport:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._sender: socket.socket | None = None
        self._sender_pid = 0
        self._receiver: socket.socket | None = None
        self._path: Path | None = None
        self._bound_pid = 0

    def _send_socket(self) -> socket.socket:
        # One unbound socket per process (made again after a fork).
        if self._sender is None or self._sender_pid != os.getpid():
            sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            sender.settimeout(SEND_TIMEOUT)
            self._sender, self._sender_pid = sender, os.getpid()
        return self._sender

    def send(self, batch: bytes) -> None:
        try:
            entries = list(os.scandir(self.folder))
        except FileNotFoundError:
            return  # nobody streams yet
        sender = self._send_socket()
        for entry in entries:
            if not entry.name.endswith(".sock"):
                continue
            try:
                sender.sendto(batch, entry.path)
            except (ConnectionRefusedError, FileNotFoundError):
                _unlink(entry.path)  # its process is gone
            except (TimeoutError, BlockingIOError):
                log.warning("streaming: %s is not reading, batch dropped", entry.name)

    def bind(self) -> socket.socket:
        """This process' receiving socket, non-blocking, for a caller's own selector: the hub
        reads it in its loop, so a batch costs no thread hand-over (streaming.hub)."""
        path = self.folder / f"{os.getpid()}.sock"
        receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        receiver.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
        for attempt in range(3):
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            _unlink(str(path))  # left by a dead process that had our pid
            try:
                receiver.bind(str(path))
                break
            except FileNotFoundError:  # the last process to stop removed the folder meanwhile
                if attempt == 2:
                    raise
        receiver.setblocking(False)
        self._receiver, self._path, self._bound_pid = receiver, path, os.getpid()
        return receiver

    def start(self, deliver: Deliver) -> None:
        receiver = self.bind()
        receiver.setblocking(True)
        threading.Thread(
            target=self._receive, args=(receiver, deliver), name="kenoma-stream-rx", daemon=True
        ).start()

    @staticmethod
    def _receive(receiver: socket.socket, deliver: Deliver) -> None:
        while True:
            try:
                batch = receiver.recv(MAX_DATAGRAM)
            except OSError:
                return  # closed by stop()
            deliver(batch)

    def stop(self) -> None:
        if self._bound_pid != os.getpid():
            return  # a forked child holds its parent's socket: not its to remove
        if self._receiver is not None:
            self._receiver.close()
            self._receiver = None
        if self._path is not None:
            _unlink(str(self._path))
            self._path = None
            # The last process to stop takes the folder with it: when it is the fallback under
            # the system's temporary folder, nothing of the instance stays behind there.
            try:
                self.folder.rmdir()
            except OSError:  # another process still listens (or the folder is already gone)
                pass


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


class RedisTransport:
    """Pub/sub on one channel; every process subscribes once it holds connections. The listener
    outlives Redis restarts: a lost subscription is made again after a pause that doubles from
    RECONNECT_FIRST up to RECONNECT_MAX, for as long as the process runs. Batches published
    while it was away are lost, as pub/sub loses them; clients catch up over the REST API."""

    def __init__(self, url: str, channel: str = CHANNEL) -> None:
        import redis  # lazy: only servers configured with Redis load it

        # The health check pings an idle subscription, so a silently dropped one is noticed.
        self.client = redis.Redis.from_url(url, health_check_interval=HEALTH_CHECK)
        # Pub/sub ignores the database number: two instances on one Redis server, each in a
        # database of its own, would hear each other's batches on a shared channel name.
        self.channel = f"{channel}:{self.client.connection_pool.connection_kwargs.get('db', 0)}"
        self._stopped = threading.Event()
        self.subscribed = False

    def send(self, batch: bytes) -> None:
        self.client.publish(self.channel, batch)

    def start(self, deliver: Deliver) -> None:
        self._stopped.clear()
        threading.Thread(target=self._receive, args=(deliver,), name="kenoma-stream-rx", daemon=True).start()

    def _receive(self, deliver: Deliver) -> None:
        pause = RECONNECT_FIRST
        while not self._stopped.is_set():
            try:
                self._listen(deliver)
                return  # stopped
            except Exception as error:  # the server went away or refused us: try again later
                if self._stopped.is_set():
                    return  # stopped while Redis went away (a test session's end): nothing lost
                if self.subscribed:  # it had worked: the pauses start over
                    pause = RECONNECT_FIRST
                self.subscribed = False
                log.warning("streaming: redis subscription lost (%s); again in %.1fs", error, pause)
            if self._stopped.wait(pause):
                return
            pause = min(pause * 2, RECONNECT_MAX)

    def _listen(self, deliver: Deliver) -> None:
        pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.subscribe(self.channel)
            self.subscribed = True
            while not self._stopped.is_set():
                # A bounded wait: stop() is noticed, and the health check gets its turn.
                message = pubsub.get_message(timeout=LISTEN_TIMEOUT)
                if message is not None and message.get("type") == "message":
                    deliver(message["data"])
        finally:
            pubsub.close()

    def stop(self) -> None:
        self._stopped.set()


def make_transport(instance: Path, redis_url: str | None) -> Transport:
    return RedisTransport(redis_url) if redis_url else LocalTransport(socket_folder(instance))
