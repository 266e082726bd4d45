"""The streaming API (SPEC 25.1): the websocket at /api/v1/streaming, one server-sent-events
endpoint per stream, and the health check. The request is checked here (token, scopes, stream),
then its socket is handed to this process' connection loop (streaming.hub) and the request
thread is free again; everything after the handshake happens there."""

from __future__ import annotations

from apiflask import APIBlueprint
from apiflask.fields import String
from flask import Response
from flask import current_app
from flask import request

from auth import Identity
from auth import token_identity
from auth import usable_token_ids
from errors import ApiError
from openapi import responds
from params import Params
from streaming import dispatch
from streaming.connections import SseConnection
from streaming.connections import WebSocketConnection
from streaming.connections import websocket_accept
from streaming.hub import TakeOverError
from streaming.hub import hub_of
from streaming.hub import take_over
from streaming.streams import SSE_PATHS
from streaming.streams import StreamError
from streaming.streams import Subscription
from streaming.streams import check_access
from streaming.streams import parse

bp = APIBlueprint("streaming", __name__, url_prefix="/api/v1/streaming", tag="Streaming")

STREAM_ERRORS = (400, 401, 403, 404)
SSE_HEADERS = (
    b"HTTP/1.1 200 OK\r\n"
    b"Content-Type: text/event-stream; charset=utf-8\r\n"
    b"Cache-Control: no-store\r\n"
    b"Transfer-Encoding: chunked\r\n"
    b"X-Accel-Buffering: no\r\n"  # nginx: pass each event on at once
    b"Access-Control-Allow-Origin: *\r\n"
    b"\r\n"
)


class StreamIn(Params):
    stream = String(load_default=None)
    tag = String(load_default=None)
    list = String(load_default=None)
    access_token = String(load_default=None)


def _protocol_token() -> str | None:
    """masto and browsers send the token as the websocket subprotocol (the first one offered)."""
    offered = request.headers.get("Sec-WebSocket-Protocol", "")
    return offered.split(",")[0].strip() or None


def _identity(token: str | None) -> Identity | None:
    header = request.headers.get("Authorization", "")
    if not token and header[:7].lower() == "bearer ":
        token = header[7:]
    if not token:
        return None
    identity = token_identity(token)
    if identity is None:
        raise ApiError(401, "Invalid access token")
    return identity


def _subscription(
    stream: str | None, tag: str | None, list_id: str | None, who: Identity | None
) -> Subscription:
    try:
        sub = parse(stream, tag, list_id)
        check_access(sub, who.account_id if who else None, who.scopes if who else None)
        if sub.stream == "list":
            dispatch.check_list(sub, who.account_id if who else None)
    except StreamError as error:
        raise ApiError(error.status, error.message) from error
    return sub


def _hand_over(conn_class: type, who: Identity | None, first: bytes, subs: list[Subscription]) -> None:
    try:
        sock = take_over(request.environ)
    except TakeOverError as error:
        raise ApiError(400, str(error)) from error
    conn = conn_class(
        sock, who.account_id if who else None, who.scopes if who else None, who.token_id if who else None
    )
    hub = hub_of(current_app)
    hub.resolve_token = _resolve_token
    hub.usable_tokens = usable_token_ids
    hub.adopt(conn, first, subs)


def _resolve_token(token: str) -> tuple[str, frozenset[str] | None, int] | None:
    """For the hub's `pleroma:authenticate`: the caller a token names, as the handshake finds it."""
    identity = token_identity(token)
    if identity is None or identity.account_id is None or identity.token_id is None:
        return None
    return identity.account_id, identity.scopes, identity.token_id


@bp.get("/health")
@responds({"type": "string"}, description="`OK`: the streaming API answers", content_type="text/plain")
def health() -> Response:
    """Whether the streaming API is up (Mastodon's streaming health check)."""
    return Response("OK", mimetype="text/plain")


# websocket=True: werkzeug's router matches an upgrade request only to such a rule.
@bp.get("", websocket=True)
@bp.get("/", websocket=True)
@bp.input(StreamIn, location="query", arg_name="data")
@responds(None, *STREAM_ERRORS, status=101, description="Switching Protocols: a websocket")
def websocket(data: dict) -> Response:
    """The websocket: `stream` (+ `tag`, `list`) opens a first subscription, and messages
    `{"type": "subscribe"|"unsubscribe", "stream": ...}` add and remove more; the token comes
    as `access_token` or as the subprotocol (echoed back, as masto requires)."""
    key = request.headers.get("Sec-WebSocket-Key")
    if not key:
        raise ApiError(400, "Missing Sec-WebSocket-Key")
    protocol = _protocol_token()
    who = _identity(data["access_token"] or protocol)
    subs = [_subscription(data["stream"], data["tag"], data["list"], who)] if data["stream"] else []
    handshake = (
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Accept: {websocket_accept(key)}\r\n"
        + (f"Sec-WebSocket-Protocol: {protocol}\r\n" if protocol else "")
        + "\r\n"
    )
    _hand_over(WebSocketConnection, who, handshake.encode(), subs)
    return Response(status=101)


@bp.get("/<path:path>")
@bp.input(StreamIn, location="query", arg_name="data")
@responds(
    {"type": "string"},
    *STREAM_ERRORS,
    content_type="text/event-stream",
    description="Server-sent events: `event: <name>` and `data: <payload>`, a `:thump` every 25 s",
)
def events(path: str, data: dict) -> Response:
    """One stream as server-sent events: user, user/notification, public, public/local,
    public/remote, hashtag (+ `tag`), hashtag/local, list (+ `list`), direct."""
    stream = SSE_PATHS.get(path.strip("/"))
    if stream is None:
        raise ApiError(404, "Unknown stream type")
    who = _identity(data["access_token"])
    sub = _subscription(stream, data["tag"], data["list"], who)
    # The headers and a first comment go out at once: Mastodon.py waits for them.
    first = SSE_HEADERS + b"4\r\n:)\n\n\r\n"
    _hand_over(SseConnection, who, first, [sub])
    return Response(status=200)
