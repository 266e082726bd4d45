"""The bare-WSGI floor: no framework at all, only gunicorn answering a fixed JSON body."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from typing import Any

BODY = b'{"id":"1","name":"floor","ok":true}'
HEADERS = [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))]


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", HEADERS)
    return [BODY]
