"""`POST /api/kenoma/testing/reset` (SPEC 27, 29): a client's test suite empties the instance
between runs. Only with KENOMA_TESTING=true, and only for a caller on this machine: otherwise the
path does not exist (404), so nothing tells a stranger it could."""

from __future__ import annotations

import ipaddress

from apiflask import APIBlueprint
from flask import current_app
from flask import request

import api_schemas
from errors import ApiError
from openapi import responds
from ratelimits import client_ip
from services.reset import empty_instance

bp = APIBlueprint("testing", __name__, url_prefix="/api/kenoma/testing", tag="Kenoma")

# Headers a reverse proxy adds: a request that came through one is not from this machine, even
# though its connection is (nginx on the same host).
PROXY_HEADERS = ("X-Forwarded-For", "X-Real-IP", "Forwarded")


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _allowed() -> bool:
    if not current_app.config["TESTING_API"]:
        return False
    if any(header in request.headers for header in PROXY_HEADERS):
        return False
    return _loopback(request.remote_addr or "") and _loopback(client_ip())


@bp.post("/reset")
@responds(api_schemas.EMPTY, 404)
def reset() -> dict:
    """Delete every account, status and upload (KENOMA_TESTING=true, loopback callers only)."""
    if not _allowed():
        raise ApiError(404, "Not found")
    empty_instance()
    return {}
