"""Mastodon notifications (SPEC 7, push subscriptions excepted)."""

from __future__ import annotations

from apiflask import APIBlueprint
from apiflask.fields import List
from apiflask.fields import String
from apiflask.validators import OneOf
from sqlalchemy import Select
from sqlalchemy import String as SqlString
from sqlalchemy import bindparam
from sqlalchemy import delete

import api_schemas
import serializers
from auth import me
from auth import require_auth
from errors import ApiError
from models import BOUND_VIEWER
from models import VISIBILITIES
from models import Account
from models import Notification
from models import cached_statement
from models import db
from openapi import paged
from openapi import responds
from pagination import PageIn
from pagination import link_header
from pagination import numeric_cursors
from pagination import page_params
from pagination import paginate
from params import Bool
from params import IdStr
from params import Params
from readcache import kept_until_change

bp = APIBlueprint("notifications", __name__, url_prefix="/api/v1/notifications", tag="Notifications")


class NotificationsIn(PageIn):
    # Unknown type names are ignored rather than refused: clients send Mastodon's newer types
    # (`status`, `admin.sign_up`) in exclude_types.
    types = List(String(), load_default=None)
    include_types = List(String(), load_default=None)
    exclude_types = List(String(), load_default=list)
    account_id = IdStr(load_default=None)
    exclude_visibilities = List(String(validate=OneOf((*VISIBILITIES, "list"))), load_default=list)
    with_muted = Bool(load_default=False)


class DismissIn(Params):
    id = IdStr(required=True)


class DestroyMultipleIn(Params):
    ids = List(IdStr(), required=True)


def _own(notification_id: str, message: str) -> Notification:
    """The caller's notification, or 403 with `message` (Pleroma answers 403, not 404)."""
    number = Notification.parse_id(notification_id)
    notification = db.session.get(Notification, number) if number is not None else None
    if notification is None or notification.account_id != me().id:
        raise ApiError(403, message)
    return notification


# The account filter of a list built once (models.cached_statement): its value is bound per call.
FROM_ACCOUNT = bindparam("from_account_id", type_=SqlString(18))


@bp.get("")
@require_auth("read:notifications")
@kept_until_change
@bp.input(NotificationsIn, location="query", arg_name="data")
@paged(api_schemas.Notification, 404)
def list_notifications(data: dict) -> tuple[list[dict], int, dict[str, str]]:
    """The caller's notifications, newest first."""
    if data["account_id"] is not None and db.session.get(Account, data["account_id"]) is None:
        raise ApiError(404, "Account is not found")
    query, bind = _notifications_query(data)
    cursors = numeric_cursors(page_params(data), Notification.parse_id)
    page = paginate(query, Notification.id, cursors, bind=bind)
    # Hidden by a filter or not, the Link is the page as fetched.
    body = serializers.notifications_json(page, me(), "notifications")
    return body, 200, link_header([str(n.id) for n in page])


def _notifications_query(data: dict) -> tuple[Select, dict]:
    """The list's statement, built once per filter combination (building it cost more than
    running it); the caller and the account filter are bind parameters."""
    types = None
    if data["types"] is not None or data["include_types"] is not None:
        types = tuple(sorted({*(data["types"] or []), *(data["include_types"] or [])}))
    from_account = data["account_id"] is not None
    query = cached_statement(
        Notification.for_account,
        BOUND_VIEWER,
        types,
        tuple(sorted(set(data["exclude_types"]))),
        FROM_ACCOUNT if from_account else None,
        tuple(sorted(set(data["exclude_visibilities"]))),
        data["with_muted"],
    )
    bind = {"viewer_id": me().id}
    if from_account:
        bind["from_account_id"] = data["account_id"]
    return query, bind


@bp.get("/<notification_id>")
@require_auth("read:notifications")
@responds(api_schemas.Notification)
def get_notification(notification_id: str) -> dict:
    """One of the caller's notifications."""
    return serializers.notification_json(_own(notification_id, "Cannot get notification"), me())


@bp.post("/clear")
@require_auth("write:notifications")
@responds(api_schemas.EMPTY)
def clear() -> dict:
    """Delete all of the caller's notifications."""
    db.session.execute(delete(Notification).where(Notification.account_id == me().id))
    db.session.commit()
    return {}


@bp.post("/<notification_id>/dismiss")
@require_auth("write:notifications")
@responds(api_schemas.EMPTY)
def dismiss(notification_id: str) -> dict:
    """Delete one of the caller's notifications."""
    return _dismiss(notification_id)


@bp.post("/dismiss")
@require_auth("write:notifications")
@bp.input(DismissIn, location="json_or_form", arg_name="data")
@responds(api_schemas.EMPTY)
def dismiss_via_body(data: dict) -> dict:
    """Legacy form of dismiss, the id in the body."""
    return _dismiss(data["id"])


def _dismiss(notification_id: str) -> dict:
    db.session.delete(_own(notification_id, "Cannot dismiss notification"))
    db.session.commit()
    return {}


@bp.delete("/destroy_multiple")
@require_auth("write:notifications")
@bp.input(DestroyMultipleIn, location="json_or_form", arg_name="data")
@responds(api_schemas.EMPTY)
def destroy_multiple(data: dict) -> dict:
    """Delete those of the given notifications that belong to the caller."""
    ids = [number for number in map(Notification.parse_id, data["ids"]) if number is not None]
    db.session.execute(
        delete(Notification).where(Notification.account_id == me().id, Notification.id.in_(ids))
    )
    db.session.commit()
    return {}
