"""One streaming connection: a websocket (wsproto framing) or a server-sent-events response.
Both are driven by the hub's loop thread only: non-blocking reads and writes, an output buffer
for what the socket did not take yet."""

from __future__ import annotations

import base64
import hashlib
import socket
from abc import ABC
from abc import abstractmethod
from typing import Any

import orjson
from wsproto.connection import Connection
from wsproto.connection import ConnectionState
from wsproto.connection import ConnectionType
from wsproto.events import CloseConnection
from wsproto.events import Message
from wsproto.events import Ping
from wsproto.events import TextMessage
from wsproto.utilities import LocalProtocolError

from streaming.streams import Subscription

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
# A reader this far behind is dropped rather than buffered for without end.
MAX_BUFFERED = 4 * 1024 * 1024
MAX_MESSAGE = 64 * 1024  # client messages are small JSON objects


def websocket_accept(key: str) -> str:
    digest = hashlib.sha1(key.encode() + WS_GUID).digest()  # noqa: S324 - RFC 6455 says SHA-1
    return base64.b64encode(digest).decode()


class StreamConnection(ABC):
    """What both kinds share: the reader, its subscriptions, the output buffer."""

    kind = "base"

    def __init__(
        self,
        sock: socket.socket,
        account_id: str | None,
        scopes: frozenset[str] | None,
        token_id: int | None = None,
    ) -> None:
        self.sock = sock
        self.account_id = account_id
        self.scopes = scopes
        self.token_id = token_id  # re-checked when tokens are revoked (streaming.hub)
        self.subscriptions: set[Subscription] = set()
        self.out = bytearray()
        self.closed = False
        self.closing = False  # close once the buffer is out
        self.events = 0  # the selector events the hub watches it for

    def fileno(self) -> int:
        return self.sock.fileno()

    def queue(self, data: bytes) -> None:
        if self.closed:
            return
        self.out += data
        if len(self.out) > MAX_BUFFERED:
            self.closed = True

    def flush(self) -> None:
        """Write what the socket takes now; the hub waits for writability for the rest."""
        while self.out and not self.closed:
            try:
                sent = self.sock.send(self.out)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self.closed = True
                return
            del self.out[:sent]
        if self.closing and not self.out:
            self.closed = True

    def close(self) -> None:
        self.closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def frame(self, sub: Subscription, event: str, payload: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {"stream": sub.names, "event": event}
        if payload is not None:
            body["payload"] = payload
        return body

    @abstractmethod
    def send_event(self, sub: Subscription, event: str, payload: str | None) -> None:
        """Each kind of connection writes its own frames."""

    @abstractmethod
    def heartbeat(self) -> None:
        """Each kind of connection writes its own frames."""

    @abstractmethod
    def end(self) -> None:
        """Say goodbye as the protocol does, then close once that is written (token revoked)."""

    @abstractmethod
    def readable(self) -> list[dict]:
        """Read what arrived; returns the client's messages (websocket only)."""


class WebSocketConnection(StreamConnection):
    kind = "websocket"

    def __init__(
        self,
        sock: socket.socket,
        account_id: str | None,
        scopes: frozenset[str] | None,
        token_id: int | None = None,
    ) -> None:
        super().__init__(sock, account_id, scopes, token_id)
        self.ws = Connection(ConnectionType.SERVER)

    def send_event(self, sub: Subscription, event: str, payload: str | None) -> None:
        self.send_json(self.frame(sub, event, payload))

    def send_json(self, body: dict) -> None:
        if self.ws.state is ConnectionState.OPEN:
            self.queue(self.ws.send(Message(data=orjson.dumps(body).decode())))

    def heartbeat(self) -> None:
        if self.ws.state is ConnectionState.OPEN:
            self.queue(self.ws.send(Ping()))

    def end(self) -> None:
        if self.ws.state is ConnectionState.OPEN:
            self.queue(self.ws.send(CloseConnection(code=1000, reason="access token revoked")))
        self.closing = True

    def readable(self) -> list[dict]:
        try:
            data = self.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return []
        except OSError:
            data = b""
        if not data:
            self.closed = True
            return []
        try:
            self.ws.receive_data(data)
            return self._events()
        except LocalProtocolError:
            self.closed = True
            return []

    def _events(self) -> list[dict]:
        messages: list[dict] = []
        for event in self.ws.events():
            if isinstance(event, Ping):
                self.queue(self.ws.send(event.response()))
            elif isinstance(event, CloseConnection):
                if self.ws.state is ConnectionState.REMOTE_CLOSING:
                    self.queue(self.ws.send(event.response()))
                self.closing = True
            elif isinstance(event, TextMessage) and event.message_finished:
                messages.append(_client_message(event.data))
        return [m for m in messages if m]


def _client_message(text: str) -> dict:
    if len(text) > MAX_MESSAGE:
        return {}
    try:
        body = orjson.loads(text)
    except orjson.JSONDecodeError:
        return {}
    return body if isinstance(body, dict) else {}


class SseConnection(StreamConnection):
    """A chunked text/event-stream response: `event: name` and `data: payload` lines."""

    kind = "sse"

    def send_event(self, sub: Subscription, event: str, payload: str | None) -> None:
        if event == "delete" and payload is not None:
            # Mastodon.py decodes every data line as JSON: a flake id is sent as a JSON string.
            payload = orjson.dumps(payload).decode()
        lines = f"event: {event}\n"
        # A payload is one JSON document: it holds no raw newline, so one data line carries it.
        lines += f"data: {payload if payload is not None else 'undefined'}\n\n"
        self.chunk(lines.encode())

    def chunk(self, data: bytes) -> None:
        self.queue(b"%x\r\n%s\r\n" % (len(data), data))

    def heartbeat(self) -> None:
        self.chunk(b":thump\n\n")

    def end(self) -> None:
        self.queue(b"0\r\n\r\n")  # the chunked body's last chunk: the response is complete
        self.closing = True

    def readable(self) -> list[dict]:
        try:
            data = self.sock.recv(4096)
        except (BlockingIOError, InterruptedError):
            return []
        except OSError:
            data = b""
        if not data:  # the client went away; anything it sends on this response is ignored
            self.closed = True
        return []
