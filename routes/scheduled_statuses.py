"""Scheduled statuses (SPEC 26): the caller's statuses waiting for their time, `GET`, `PUT`
(a new time) and `DELETE /api/v1/scheduled_statuses[/:id]`. They are made by POST
/api/v1/statuses with `scheduled_at` (routes/statuses.py)."""

from __future__ import annotations

from apiflask import APIBlueprint
from apiflask.fields import String

import api_schemas
import serializers
from auth import me
from auth import require_auth
from models import ScheduledStatus
from openapi import paged
from openapi import responds
from pagination import PageIn
from pagination import link_header
from pagination import page_params
from pagination import paginate
from params import Length
from params import Params
from services import scheduled_statuses

bp = APIBlueprint("scheduled_statuses", __name__, url_prefix="/api/v1/scheduled_statuses", tag="Statuses")

Page = tuple[list[dict], int, dict[str, str]]


class ScheduledStatusUpdateIn(Params):
    # Checked like a new one (services/scheduled_statuses.py): 422 when too soon or not a date.
    scheduled_at = String(load_default=None, allow_none=True, validate=Length(max=64))


@bp.get("")
@require_auth("read:statuses")
@bp.input(PageIn, location="query", arg_name="data")
@paged(api_schemas.ScheduledStatus)
def get_scheduled_statuses(data: dict) -> Page:
    """The caller's scheduled statuses, newest first."""
    rows = paginate(ScheduledStatus.owned_by(me().id), ScheduledStatus.id, page_params(data))
    return serializers.scheduled_statuses_json(rows), 200, link_header([row.id for row in rows])


@bp.get("/<scheduled_status_id>")
@require_auth("read:statuses")
@responds(api_schemas.ScheduledStatus, 404)
def get_scheduled_status(scheduled_status_id: str) -> dict:
    """One of the caller's scheduled statuses."""
    row = scheduled_statuses.own_scheduled_status(me(), scheduled_status_id)
    return serializers.scheduled_status_json(row)


@bp.put("/<scheduled_status_id>")
@require_auth("write:statuses")
@bp.input(ScheduledStatusUpdateIn, location="json_or_form", arg_name="data")
@responds(api_schemas.ScheduledStatus, 404, 422)
def update_scheduled_status(scheduled_status_id: str, data: dict) -> dict:
    """Move a scheduled status to another time (at least the minimum ahead)."""
    row = scheduled_statuses.own_scheduled_status(me(), scheduled_status_id)
    if data["scheduled_at"]:
        row = scheduled_statuses.reschedule(row, data["scheduled_at"])
    return serializers.scheduled_status_json(row)


@bp.delete("/<scheduled_status_id>")
@require_auth("write:statuses")
@responds(api_schemas.EMPTY, 404)
def cancel_scheduled_status(scheduled_status_id: str) -> dict:
    """Cancel a scheduled status; its media are free again."""
    scheduled_statuses.cancel(scheduled_statuses.own_scheduled_status(me(), scheduled_status_id))
    return {}
