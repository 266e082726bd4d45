"""Announcements (SPEC 26): `GET /api/v1/announcements`, `POST .../:id/dismiss`,
`PUT/DELETE .../:id/reactions/:name`. Admins make them with `flask announcement create`."""

from __future__ import annotations

from apiflask import APIBlueprint

import api_schemas
import serializers
from auth import me
from auth import require_auth
from openapi import responds
from params import Bool
from params import Params
from services import announcements

bp = APIBlueprint("announcements", __name__, url_prefix="/api/v1/announcements", tag="Announcements")


class AnnouncementsQuery(Params):
    # Pleroma lists the dismissed ones too (with `read: true`); false leaves them out.
    with_dismissed = Bool(load_default=True)


@bp.get("")
@require_auth("read")
@bp.input(AnnouncementsQuery, location="query", arg_name="query")
@responds(api_schemas.Announcement, many=True)
def list_announcements(query: dict) -> list:
    """The active announcements, with `read` and the reactions as the caller sees them."""
    found = announcements.active()
    shown = serializers.announcements_json(found, me())
    if not query["with_dismissed"]:
        shown = [announcement for announcement in shown if not announcement["read"]]
    return shown


@bp.post("/<announcement_id>/dismiss")
@require_auth("write:accounts")
@responds(api_schemas.EMPTY, 404)
def dismiss_announcement(announcement_id: str) -> dict:
    """Mark an announcement read for the caller."""
    announcements.dismiss(me(), announcement_id)
    return {}


@bp.put("/<announcement_id>/reactions/<name>")
@require_auth("write:favourites")
@responds(api_schemas.EMPTY, 404, 422)
def put_announcement_reaction(announcement_id: str, name: str) -> dict:
    """React to an announcement with a unicode emoji or a local custom emoji's shortcode."""
    announcements.react(me(), announcement_id, name)
    return {}


@bp.delete("/<announcement_id>/reactions/<name>")
@require_auth("write:favourites")
@responds(api_schemas.EMPTY, 404, 422)
def delete_announcement_reaction(announcement_id: str, name: str) -> dict:
    """Take the caller's reaction back."""
    announcements.unreact(me(), announcement_id, name)
    return {}
