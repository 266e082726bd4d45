"""POST /inbox and /users/<nickname>/inbox (SPEC 24.3): ActivityPub deliveries from other
servers. The request only checks size, JSON shape and the HTTP signature, then answers 202; the
activity is applied by a job (federation.inbox)."""

from __future__ import annotations

import json

from apiflask import APIBlueprint
from flask import Response
from flask import current_app
from flask import request

import federation.features  # noqa: F401 - registers every activity family's handlers and jobs
from errors import ApiError
from federation import inbox as inbound
from models import Account
from openapi import responds

bp = APIBlueprint("inboxes", __name__, tag="ActivityPub")


def _request_target() -> str:
    query = request.query_string.decode("latin-1")
    return request.path + (f"?{query}" if query else "")


def _body() -> bytes:
    declared = request.content_length
    if declared is not None and declared > inbound.MAX_BODY:
        raise ApiError(413, "Payload too large")
    body = request.stream.read(inbound.MAX_BODY + 1)
    if len(body) > inbound.MAX_BODY:
        raise ApiError(413, "Payload too large")
    return body


def _receive() -> Response:
    if not current_app.config["FEDERATING"]:
        raise ApiError(404, "Not found")
    body = _body()
    try:
        activity = json.loads(body)
    except ValueError as exc:
        raise ApiError(400, "The body is not JSON") from exc
    inbound.accept(request.method, _request_target(), request.headers, body, activity)
    return Response(status=202)


@bp.post("/inbox")
@responds(None, 400, 401, 403, 404, 413, status=202)
def shared_inbox() -> Response:
    """The shared inbox: one delivery per server whatever the number of local recipients."""
    return _receive()


@bp.post("/users/<nickname>/inbox")
@responds(None, 400, 401, 403, 404, 413, status=202)
def user_inbox(nickname: str) -> Response:
    """An account's inbox."""
    account = Account.find_local(nickname)
    if account is None or account.is_deleted:
        raise ApiError(404, "Not found")
    return _receive()


@bp.post("/internal/fetch/inbox")
@responds(None, 400, 401, 403, 404, 413, status=202)
def instance_actor_inbox() -> Response:
    """The instance actor's inbox (the relay-style deliveries some servers address to it)."""
    return _receive()
