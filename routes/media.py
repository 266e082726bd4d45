"""Media uploads (SPEC 5) and the uploaded files themselves (`/media/<flake>/<name>`)."""

from __future__ import annotations

from apiflask import APIBlueprint
from apiflask.fields import File
from apiflask.fields import String
from flask import Response
from flask import current_app
from flask import send_from_directory
from marshmallow import ValidationError

import api_schemas
import serializers
from auth import me
from auth import require_auth
from openapi import responds
from params import Length
from params import Params
from services import media as media_service

bp = APIBlueprint("media", __name__, tag="Media")

# Uploads are served from this origin: a sandbox keeps an uploaded HTML or SVG file from running
# scripts with the site's cookies, and nosniff keeps browsers from guessing a riskier type.
_UPLOAD_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; media-src 'self'; sandbox",
    "X-Content-Type-Options": "nosniff",
}


def _valid_focus(value: str | None) -> None:
    if not value:  # "" clears the focal point
        return
    try:
        media_service.parse_focus(value)
    except ValueError as error:
        raise ValidationError("Invalid value, expected x,y between -1 and 1.") from error


class UploadIn(Params):
    file = File(required=True)
    description = String(
        load_default=None, allow_none=True, validate=Length(max=media_service.DESCRIPTION_LIMIT)
    )
    focus = String(load_default=None, allow_none=True, validate=_valid_focus)


class MediaUpdateIn(Params):
    description = String(
        load_default=None, allow_none=True, validate=Length(max=media_service.DESCRIPTION_LIMIT)
    )
    focus = String(load_default=None, allow_none=True, validate=_valid_focus)


def _focus(value: str | None) -> str | None:
    return media_service.parse_focus(value) if value else value


@bp.post("/api/v1/media")
@bp.post("/api/v2/media")
@require_auth("write:media")
@bp.input(UploadIn, location="json_or_form", arg_name="data")
@responds(api_schemas.Attachment, 415)
def upload_media(data: dict) -> dict:
    """Upload a file; Kenoma processes it at once, so v2 answers 200 with the final url too."""
    media = media_service.save_upload(
        me(), data["file"], current_app.config["UPLOAD_LIMIT"], data["description"], _focus(data["focus"])
    )
    return serializers.attachment_json(media)


@bp.get("/api/v1/media/<media_id>")
@require_auth("read:media", "write:media")
@responds(api_schemas.Attachment)
def get_media(media_id: str) -> dict:
    """One of the caller's uploads (masto.js polls it after a v2 upload)."""
    return serializers.attachment_json(media_service.find_own(me(), media_id))


@bp.put("/api/v1/media/<media_id>")
@require_auth("write:media")
@bp.input(MediaUpdateIn, location="json_or_form", arg_name="data")
@responds(api_schemas.Attachment)
def update_media(media_id: str, data: dict) -> dict:
    """Change an upload's description or focal point."""
    media = media_service.find_own(me(), media_id)
    media_service.update_media(media, data["description"], _focus(data["focus"]))
    return serializers.attachment_json(media)


@bp.get("/media/<path:path>")
@responds(api_schemas.FILE, content_type="*/*")
def media_file(path: str) -> Response:
    """An uploaded file, with ETag and conditional GET (send_from_directory joins the path safely)."""
    response = send_from_directory(media_service.media_root(), path, max_age=86400)
    # The type the bytes say, not the one the name suggests: a `.png` holding HTML or SVG goes
    # out as opaque data, never as image/png or text/html.
    response.mimetype = media_service.served_type(path)
    response.headers.update(_UPLOAD_HEADERS)
    return response
