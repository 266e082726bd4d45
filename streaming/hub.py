"""The connection loop: one thread per server process holds every streaming connection.

A streaming request is accepted by an ordinary request thread (gunicorn's gthread pool, or the
werkzeug dev server's thread), which checks the token and the stream, then hands the socket to
this loop and is free again at once: a long-lived connection costs a selector registration and a
few kilobytes, never a request thread (README, "Streaming"). The loop reads client messages,
writes frames and heartbeats, and renders each event batch the transport delivers for the
connections it holds (streaming.dispatch), inside an app context of its own.

Taking the socket over: the request thread keeps a duplicate of the client socket's descriptor
and points the server's own descriptor at a dead socket pair, so whatever the server then writes
or closes lands there (it sees a broken pipe, as if the client had left) and the client
connection lives on in the loop, whichever WSGI server accepted it."""

from __future__ import annotations

import atexit
import logging
import os
import queue
import selectors
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from flask import Flask

from streaming import dispatch
from streaming import events
from streaming.connections import StreamConnection
from streaming.streams import StreamError
from streaming.streams import check_access
from streaming.streams import parse
from streaming.transport import MAX_DATAGRAM
from streaming.transport import LocalTransport
from streaming.transport import Transport
from streaming.transport import make_transport

log = logging.getLogger(__name__)

EXTENSION = "kenoma_streaming"
HEARTBEAT_SECONDS = 25.0  # SSE comment or websocket ping; SPEC 25.1 asks for at most 30
SERVER_SOCKET_KEYS = ("gunicorn.socket", "werkzeug.socket")
_TRANSPORT = "transport"  # the selector key of the local transport's socket


class TakeOverError(Exception):
    """The WSGI server gives no socket to take (or a TLS one): streaming needs a plain one."""


def take_over(environ: dict[str, Any]) -> socket.socket:
    """The client connection as a socket of our own; the server keeps a dead end (see above)."""
    server_sock = next((environ[k] for k in SERVER_SOCKET_KEYS if k in environ), None)
    if not isinstance(server_sock, socket.socket) or hasattr(server_sock, "getpeercert"):
        raise TakeOverError("streaming needs a plain socket (terminate TLS in the proxy)")
    ours = socket.socket(fileno=os.dup(server_sock.fileno()))
    dead, peer = socket.socketpair()
    os.dup2(dead.fileno(), server_sock.fileno())
    dead.close()
    peer.close()
    ours.setblocking(False)
    return ours


class Hub:
    """This process' loop. Started on the first connection, so a process that never streams (the
    master, the CLI, `flask jobs`) runs no thread and binds nothing, yet can publish."""

    def __init__(self, app: Flask, transport: Transport) -> None:
        self.app = app
        self.transport = transport
        self.connections: set[StreamConnection] = set()
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._pid = 0
        self._selector: selectors.BaseSelector | None = None
        self._wake_w: socket.socket | None = None
        self._next_beat = 0.0
        self.delivered: list[float] = []  # commit -> frame delays (bench, tests), bounded below
        # Given by the route (streaming never imports auth): token -> (account id, scopes, token
        # id) or None; and of some token ids, those that still work.
        self.resolve_token: Callable[[str], tuple[str, frozenset[str] | None, int] | None] | None = None
        self.usable_tokens: Callable[[set[int]], set[int]] | None = None

    # -- from other threads ------------------------------------------------------------------

    def adopt(self, conn: StreamConnection, first: bytes, subscriptions: list) -> None:
        self._ensure_started()
        self._inbox.put(("adopt", conn, first, subscriptions))
        self._wake()

    def deliver(self, batch: bytes) -> None:
        self._inbox.put(("batch", batch))
        self._wake()

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"\0")  # type: ignore[union-attr]
        except (BlockingIOError, OSError):
            pass  # already awake with bytes pending

    def _ensure_started(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            self._selector = selectors.DefaultSelector()
            wake_r, self._wake_w = socket.socketpair()
            wake_r.setblocking(False)
            self._wake_w.setblocking(False)
            self._selector.register(wake_r, selectors.EVENT_READ, None)
            self.connections = set()
            if isinstance(self.transport, LocalTransport):
                # Read in the loop itself: a batch wakes one thread, not a receiver and then us.
                self._selector.register(self.transport.bind(), selectors.EVENT_READ, _TRANSPORT)
                atexit.register(self.transport.stop)  # the socket goes with the process
            else:
                self.transport.start(self.deliver)
            threading.Thread(target=self._run, name="kenoma-streaming", daemon=True).start()
            self._pid = os.getpid()

    # -- the loop thread -----------------------------------------------------------------------

    def _run(self) -> None:
        beat = float(self.app.config.get("STREAMING_HEARTBEAT", HEARTBEAT_SECONDS))
        self._next_beat = time.monotonic() + beat
        while True:
            try:
                self._turn(beat)
            except Exception:  # whatever went wrong, the loop goes on for the other connections
                log.exception("streaming: loop turn failed")

    def _turn(self, beat: float) -> None:
        """One pass: read what is readable, take new connections and batches, beat, write."""
        touched: set[StreamConnection] = set()
        for key, mask in self._selector.select(timeout=min(beat, 5.0)):  # type: ignore[union-attr]
            if key.data is None:
                _drain(key.fileobj)  # type: ignore[arg-type]
                continue
            if key.data is _TRANSPORT:
                for batch in _datagrams(key.fileobj):  # type: ignore[arg-type]
                    self._inbox.put(("batch", batch))
                continue
            conn: StreamConnection = key.data
            touched.add(conn)
            if mask & selectors.EVENT_READ:
                self._read(conn)
        touched |= self._take_inbox()
        if time.monotonic() >= self._next_beat:
            self._next_beat = time.monotonic() + beat
            for conn in self.connections:
                conn.heartbeat()
            # Also catches what no event announced: expiry, a change made from a sqlite3 shell.
            self._end_revoked(self.connections)
            touched |= self.connections
        for conn in touched:
            self._settle(conn)

    def _read(self, conn: StreamConnection) -> None:
        try:
            for message in conn.readable():
                self._client_message(conn, message)
        except Exception:  # one connection's failure must not stop the loop of all
            log.exception("streaming: client message failed; connection closed")
            conn.closed = True

    def _take_inbox(self) -> set[StreamConnection]:
        touched: set[StreamConnection] = set()
        batches: list[bytes] = []
        while True:
            try:
                item = self._inbox.get_nowait()
            except queue.Empty:
                break
            if item[0] == "adopt":
                _, conn, first, subscriptions = item
                conn.queue(first)
                conn.subscriptions.update(subscriptions)
                try:
                    self._selector.register(conn.sock, selectors.EVENT_READ, conn)  # type: ignore[union-attr]
                    conn.events = selectors.EVENT_READ
                except (ValueError, OSError):  # the client left before the loop took it
                    conn.close()
                    continue
                self.connections.add(conn)
                touched.add(conn)
            else:
                batches.append(item[1])
        if batches and self.connections:
            revoked_for = self._dispatch(batches)
            if revoked_for:
                self._end_revoked({c for c in self.connections if c.account_id in revoked_for})
            # Only the readers that got a frame (or were dropped) need settling, not all of them.
            touched |= {c for c in self.connections if c.out or c.closed}
        return touched

    def _dispatch(self, batches: list[bytes]) -> set[str]:
        """Render and queue the batches' events; returns the accounts whose tokens changed."""
        revoked_for: set[str] = set()
        with self.app.app_context():
            for raw in batches:
                try:
                    batch = orjson.loads(raw)
                    dispatch.dispatch(batch["events"], self.connections)
                except Exception:  # one bad event must not stop the loop
                    log.exception("streaming: batch not dispatched")
                    continue
                revoked_for.update(e["account_id"] for e in batch["events"] if e.get("kind") == "access")
                self._note_delay(batch.get("at"))
        return revoked_for

    def _end_revoked(self, connections: set[StreamConnection]) -> None:
        """Close the connections whose token stopped working (revoked, expired, its account
        disabled or deleted), as Mastodon's streaming server does."""
        ids = {c.token_id for c in connections if c.token_id is not None and not c.closing}
        if not ids or self.usable_tokens is None:
            return
        try:
            with self.app.app_context():
                usable = self.usable_tokens(ids)
        except Exception:  # the database is busy or gone: the next heartbeat asks again
            log.exception("streaming: tokens not checked")
            return
        for conn in connections:
            if conn.token_id is not None and conn.token_id not in usable and not conn.closing:
                conn.end()

    def _note_delay(self, committed_at: float | None) -> None:
        if committed_at is not None:
            self.delivered.append(time.time() - committed_at)
            del self.delivered[:-10000]

    def _settle(self, conn: StreamConnection) -> None:
        conn.flush()
        if conn.closed:
            self._forget(conn)
            return
        mask = selectors.EVENT_READ | (selectors.EVENT_WRITE if conn.out else 0)
        if mask == conn.events:
            return  # a system call saved per connection and turn
        try:
            self._selector.modify(conn.sock, mask, conn)  # type: ignore[union-attr]
        except (KeyError, ValueError, OSError):  # its socket went away under it
            self._forget(conn)
            return
        conn.events = mask

    def _forget(self, conn: StreamConnection) -> None:
        if conn in self.connections:
            self.connections.discard(conn)
            try:
                self._selector.unregister(conn.sock)  # type: ignore[union-attr]
            except (KeyError, ValueError):
                pass
        conn.close()

    def _client_message(self, conn: StreamConnection, message: dict) -> None:
        """Mastodon's subscribe/unsubscribe, acknowledged as Pleroma does (pleroma:respond)."""
        kind = message.get("type")
        if kind == "pleroma:authenticate":
            self._authenticate(conn, message.get("token"))
            return
        if kind not in ("subscribe", "unsubscribe"):
            return
        try:
            sub = parse(message.get("stream"), message.get("tag"), message.get("list"))
            if kind == "subscribe":
                check_access(sub, conn.account_id, conn.scopes)
                if sub.stream == "list":
                    with self.app.app_context():
                        dispatch.check_list(sub, conn.account_id)
        except StreamError as error:
            _respond(conn, kind, "error", error.code)
            return
        if kind == "subscribe":
            result = "ignored" if sub in conn.subscriptions else "success"
            conn.subscriptions.add(sub)
        else:
            result = "success" if sub in conn.subscriptions else "ignored"
            conn.subscriptions.discard(sub)
        _respond(conn, kind, result)

    def _authenticate(self, conn: StreamConnection, token: Any) -> None:
        """Pleroma's `pleroma:authenticate`: a token given after the connection opened."""
        if conn.account_id is not None:
            _respond(conn, "pleroma:authenticate", "error", "already_authenticated")
            return
        found = None
        if isinstance(token, str) and token and self.resolve_token is not None:
            # The token check notes what it read on the request (readcache.py): give it one.
            with self.app.test_request_context("/api/v1/streaming"):
                found = self.resolve_token(token)
        if found is None:
            _respond(conn, "pleroma:authenticate", "error", "unauthorized")
            return
        conn.account_id, conn.scopes, conn.token_id = found
        _respond(conn, "pleroma:authenticate", "success")


def _respond(conn: StreamConnection, kind: str, result: str, error: str | None = None) -> None:
    body = {"type": kind, "result": result} | ({"error": error} if error else {})
    send_json = getattr(conn, "send_json", None)
    if send_json is not None:
        send_json({"event": "pleroma:respond", "payload": orjson.dumps(body).decode()})


def _datagrams(receiver: socket.socket) -> list[bytes]:
    """Every batch waiting on the transport's socket (one datagram each)."""
    batches: list[bytes] = []
    while True:
        try:
            batches.append(receiver.recv(MAX_DATAGRAM))
        except (BlockingIOError, InterruptedError):
            return batches
        except OSError:
            log.exception("streaming: transport socket failed")
            return batches


def _drain(wake: socket.socket) -> None:
    try:
        while wake.recv(4096):
            pass
    except (BlockingIOError, OSError):
        pass


def init_app(app: Flask) -> None:
    transport = make_transport(Path(app.instance_path), app.config.get("REDIS_URL"))
    app.extensions[EXTENSION] = Hub(app, transport)
    app.extensions[events.SENDER] = transport.send


def hub_of(app: Flask) -> Hub:
    return app.extensions[EXTENSION]
