"""POST /api/v1/pleroma/notifications/read (SPEC 14)."""

from __future__ import annotations

from apiflask import APIBlueprint
from sqlalchemy import select
from sqlalchemy import update

import api_schemas
import serializers
from auth import me
from auth import require_auth
from errors import ApiError
from models import Notification
from models import db
from openapi import responds
from params import IdStr
from params import Params
from services import markers

bp = APIBlueprint("pleroma_notifications", __name__, tag="Pleroma")

MAX_MARKED_RETURNED = 80


class ReadIn(Params):
    id = IdStr(load_default=None)
    max_id = IdStr(load_default=None)


@bp.post("/notifications/read")
@require_auth("write:notifications")
@bp.input(ReadIn, location="json_or_form", arg_name="data")
@responds(api_schemas.NOTIFICATION_OR_LIST)
def read_notifications(data: dict) -> dict | list:
    """Mark one notification (`id`) or all up to `max_id` as seen."""
    if data["id"]:
        return _read_one(data["id"])
    if data["max_id"]:
        return _read_up_to(data["max_id"])
    raise ApiError(400, "Missing field: id or max_id.")


def _read_one(notification_id: str) -> dict:
    number = Notification.parse_id(notification_id)
    notification = db.session.get(Notification, number) if number is not None else None
    if notification is None or notification.account_id != me().id:
        # Unlike GET /api/v1/notifications/:id (403), Pleroma answers 400 here (SPEC 21.5).
        raise ApiError(400, "Cannot get notification")
    notification.is_seen = True
    db.session.flush()
    markers.follow_read_notifications(me())
    db.session.commit()
    return serializers.notification_json(notification, me())


def _read_up_to(max_id: str) -> list:
    # Compared as numbers (SPEC 1.6): Pleroma-FE sends the largest id it holds.
    number = Notification.parse_id(max_id)
    if number is None:
        raise ApiError(400, "max_id - Not a valid id.")
    mine_unseen = (
        Notification.account_id == me().id,
        Notification.is_seen.is_(False),
        Notification.id <= number,
    )
    changed = db.session.scalars(
        select(Notification).where(*mine_unseen).order_by(Notification.id.desc()).limit(MAX_MARKED_RETURNED)
    ).all()
    db.session.execute(update(Notification).where(*mine_unseen).values(is_seen=True))
    markers.follow_read_notifications(me())
    db.session.commit()
    return serializers.notifications_json(changed, me())
