"""Minimal streaming clients for the tests: a websocket one (wsproto over a plain socket) and an
SSE one (requests), each reading in a thread into a queue of decoded events."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from urllib.parse import urlencode
from urllib.parse import urlparse

import requests
from wsproto import ConnectionType
from wsproto import WSConnection
from wsproto.events import AcceptConnection
from wsproto.events import CloseConnection
from wsproto.events import Message
from wsproto.events import Ping
from wsproto.events import RejectConnection
from wsproto.events import Request
from wsproto.events import TextMessage


class StreamClient:
    """Every frame received is kept in `frames`; wait_for() takes the first unconsumed match."""

    def __init__(self) -> None:
        self.frames: list[dict] = []
        self._taken: set[int] = set()
        self._arrived = threading.Condition()

    def put(self, frame: dict) -> None:
        with self._arrived:
            self.frames.append(frame)
            self._arrived.notify_all()

    def wait_for(self, event: str, timeout: float = 3.0, where: Callable[[dict], bool] | None = None) -> dict:
        """The first frame named `event` (and satisfying `where`) not taken yet."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                for index, frame in enumerate(self.frames):
                    if index in self._taken or frame.get("event") != event:
                        continue
                    if where is None or where(frame):
                        self._taken.add(index)
                        return frame
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {event} event within {timeout}s: {self.names()}")
                self._arrived.wait(left)

    def names(self) -> list[str]:
        return [f.get("event", "?") for f in self.frames]


def _decoded(frame: dict) -> dict:
    payload = frame.get("payload")
    if isinstance(payload, str):
        try:
            frame["decoded"] = json.loads(payload)
        except ValueError:
            frame["decoded"] = payload
    return frame


class WsClient(StreamClient):
    """A websocket to /api/v1/streaming; `protocol` sends the token as the subprotocol."""

    def __init__(self, base_url: str, params: dict | None = None, protocol: str | None = None) -> None:
        super().__init__()
        url = urlparse(base_url)
        self.sock = socket.create_connection((url.hostname, url.port), timeout=5)
        self.ws = WSConnection(ConnectionType.CLIENT)
        target = "/api/v1/streaming" + (f"?{urlencode(params)}" if params else "")
        subprotocols = [protocol] if protocol else []
        self.sock.sendall(self.ws.send(Request(host=url.netloc, target=target, subprotocols=subprotocols)))
        self.accepted: AcceptConnection | None = None
        self.rejected: int | None = None
        self._handshake()
        self.sock.settimeout(None)
        threading.Thread(target=self._read, daemon=True).start()

    def _handshake(self) -> None:
        while self.accepted is None and self.rejected is None:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("closed during the handshake")
            self.ws.receive_data(data)
            for event in self.ws.events():
                if isinstance(event, AcceptConnection):
                    self.accepted = event
                elif isinstance(event, RejectConnection):
                    self.rejected = event.status_code
                elif isinstance(event, TextMessage):
                    self.put(_decoded(json.loads(event.data)))

    def _read(self) -> None:
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                self.put({"event": "_closed"})
                return
            self.ws.receive_data(data)
            for event in self.ws.events():
                if isinstance(event, TextMessage):
                    self.put(_decoded(json.loads(event.data)))
                elif isinstance(event, Ping):
                    self.sock.sendall(self.ws.send(event.response()))
                elif isinstance(event, CloseConnection):
                    self.put({"event": "_closed"})
                    return

    def send(self, body: dict) -> None:
        self.sock.sendall(self.ws.send(Message(data=json.dumps(body))))

    def close(self) -> None:
        try:
            self.sock.sendall(self.ws.send(CloseConnection(code=1000)))
        except Exception:
            pass
        self.sock.close()


class SseClient(StreamClient):
    """GET /api/v1/streaming/<path> as server-sent events."""

    def __init__(
        self, base_url: str, path: str, token: str | None = None, params: dict | None = None
    ) -> None:
        super().__init__()
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.response = requests.get(
            f"{base_url}/api/v1/streaming/{path}",
            headers=headers,
            params=params,
            stream=True,
            timeout=(5, 60),
        )
        self.status = self.response.status_code
        if self.status == 200:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        event: dict = {}
        try:
            for line in self.response.iter_lines(chunk_size=1, decode_unicode=True):
                if line.startswith(":"):
                    self.put({"event": "_comment", "text": line})
                elif line.startswith("event: "):
                    event["event"] = line[7:]
                elif line.startswith("data: "):
                    event["payload"] = line[6:]
                elif line == "" and event:
                    self.put(_decoded(event))
                    event = {}
        except Exception:
            pass
        self.put({"event": "_closed"})

    def close(self) -> None:
        self.response.close()
