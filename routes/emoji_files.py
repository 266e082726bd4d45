"""The emoji image files, `GET /emoji/<pack>/<file>`, served from KENOMA_EMOJI_DIR (SPEC 17).

In production nginx may serve the folder directly; this route keeps a bare install complete.
"""

from __future__ import annotations

from apiflask import APIBlueprint
from flask import Response
from flask import send_file

import api_schemas
import emoji_packs
from errors import ApiError
from openapi import responds

bp = APIBlueprint("emoji_files", __name__, tag="Emoji packs")

MAX_AGE = 3600


@bp.get("/emoji/<pack>/<path:file>")
@responds(api_schemas.FILE, content_type="image/*")
def emoji_file(pack: str, file: str) -> Response:
    """One file of a pack, with ETag / Last-Modified and 304 answers."""
    path = emoji_packs.emoji_file(pack, file)
    if path is None:
        raise ApiError(404, "Not found")
    response = send_file(path, conditional=True, etag=True, max_age=MAX_AGE)
    # The folder may hold operator-supplied files (an SVG, a stray HTML page): never let a
    # browser run them on our origin.
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    return response
