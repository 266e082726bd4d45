"""Status edits (SPEC 26): `PUT /api/v1/statuses/:id` and `GET /api/v1/statuses/:id/history`.
The source of a status (`GET .../source`) is served with the statuses (routes/statuses.py)."""

from __future__ import annotations

from apiflask import APIBlueprint
from apiflask.fields import List
from apiflask.fields import Nested
from apiflask.fields import String

import api_schemas
import serializers
from auth import current_account
from auth import me
from auth import require_auth
from openapi import responds
from params import Bool
from params import IdStr
from params import Params
from routes.statuses import PollIn
from routes.statuses import new_poll
from services import interactions
from services import status_edits
from services.status_edits import MediaChange
from services.status_edits import StatusChange
from services.statuses import NewStatus

bp = APIBlueprint("status_edits", __name__, url_prefix="/api/v1/statuses", tag="Statuses")


class MediaAttributeIn(Params):
    id = IdStr(required=True)
    description = String(load_default=None, allow_none=True)
    focus = String(load_default=None, allow_none=True)


class StatusEditIn(Params):
    status = String(load_default="", allow_none=True)
    spoiler_text = String(load_default="", allow_none=True)
    sensitive = Bool(load_default=False, allow_none=True)
    media_ids = List(IdStr(), load_default=list, allow_none=True)
    media_attributes = List(Nested(MediaAttributeIn), load_default=list, allow_none=True)
    poll = Nested(PollIn, load_default=None, allow_none=True)
    # Pleroma: the markup of the new text; the status keeps its own when none is given.
    content_type = String(load_default=None, allow_none=True)
    language = String(load_default=None, allow_none=True)


@bp.put("/<status_id>")
@require_auth("write:statuses")
@bp.input(StatusEditIn, location="json_or_form", arg_name="data")
@responds(api_schemas.Status, 404, 422)
def edit_status(status_id: str, data: dict) -> dict:
    """Edit one's own status: text, warning, sensitivity, media and poll, as when posting."""
    status = status_edits.own_status(me(), status_id)
    status_edits.edit_status(me(), status, _change(data, status.content_type, status.language))
    return serializers.status_json(status, me())


def _change(data: dict, content_type: str, language: str | None) -> StatusChange:
    new = NewStatus(
        text=data["status"] or "",
        content_type=data["content_type"] or content_type,
        spoiler_text=data["spoiler_text"] or "",
        sensitive=bool(data["sensitive"]),
        language=data["language"] or language,  # Mastodon keeps the language when none is given
        media_ids=list(data["media_ids"] or []),
        poll=new_poll(data["poll"]),
    )
    changes = [MediaChange(a["id"], a["description"], a["focus"]) for a in data["media_attributes"] or []]
    return StatusChange(new, changes)


@bp.get("/<status_id>/history")
@require_auth("read:statuses", optional=True)
@responds(api_schemas.StatusEdit, 404, many=True)
def status_history(status_id: str) -> list[dict]:
    """The versions of a status, oldest (the original) first."""
    viewer = current_account()
    status = interactions.get_visible(status_id, viewer)
    return serializers.status_edits_json(status, status_edits.history(status), viewer)
