"""Timeline markers (SPEC 26): `GET/POST /api/v1/markers` for `home` and `notifications`."""

from __future__ import annotations

from apiflask import APIBlueprint
from apiflask.fields import List
from apiflask.fields import Nested
from apiflask.fields import String

import api_schemas
import serializers
from auth import me
from auth import require_auth
from errors import ApiError
from models import MARKER_TIMELINES
from models import Marker
from models import db
from openapi import responds
from params import IdStr
from params import Length
from params import Params
from services import markers

bp = APIBlueprint("markers", __name__, url_prefix="/api/v1/markers", tag="Markers")


class MarkersQuery(Params):
    # Unknown names are ignored, as Mastodon ignores them; none at all answers {}.
    timeline = List(String(validate=Length(max=40)), load_default=list)


class MarkerIn(Params):
    last_read_id = IdStr(required=True, validate=Length(min=1, max=255))


class MarkersIn(Params):
    home = Nested(MarkerIn, load_default=None)
    notifications = Nested(MarkerIn, load_default=None)


@bp.get("")
@require_auth("read:statuses")
@bp.input(MarkersQuery, location="query", arg_name="query")
@responds(api_schemas.Markers)
def get_markers(query: dict) -> dict:
    """The caller's saved markers of the timelines asked for (`timeline[]`)."""
    wanted = [name for name in MARKER_TIMELINES if name in query["timeline"]]
    if not wanted:
        return {}
    found = db.session.scalars(Marker.for_account(me(), wanted)).all()
    return serializers.markers_json(found, me())


@bp.post("")
@require_auth("write:statuses")
@bp.input(MarkersIn, location="json_or_form", arg_name="data")
@responds(api_schemas.Markers)
def save_markers(data: dict) -> dict:
    """Save `home[last_read_id]` and/or `notifications[last_read_id]`; answers the markers saved."""
    last_read_ids = {name: data[name]["last_read_id"] for name in MARKER_TIMELINES if data[name]}
    if not last_read_ids:
        raise ApiError(400, "Missing field: home[last_read_id] or notifications[last_read_id].")
    saved = markers.save_markers(me(), last_read_ids)
    return serializers.markers_json(saved, me())
