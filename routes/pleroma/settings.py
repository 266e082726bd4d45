"""The front-end settings store (SPEC 18.4): one JSON object per front-end, deep-merged on PATCH."""

from __future__ import annotations

from apiflask import APIBlueprint
from flask import request
from marshmallow import INCLUDE

import api_schemas
from auth import me
from auth import require_auth
from errors import ApiError
from openapi import responds
from params import Params
from services import pleroma_misc

bp = APIBlueprint("settings", __name__, url_prefix="/settings", tag="Pleroma")
APP_NAME_LIMIT = 255  # a front-end's name; the key its settings are kept under


class SettingsIn(Params):
    """Any JSON object: the keys belong to the front-end, not to Kenoma."""

    class Meta:
        unknown = INCLUDE


@bp.get("/<app_name>")
@require_auth("read:accounts")
@responds(api_schemas.ANY_OBJECT)
def get_settings(app_name: str) -> dict:
    """The stored settings of one front-end (`{}` when none)."""
    return pleroma_misc.settings_for(me(), app_name)


@bp.patch("/<app_name>")
@require_auth("write:accounts")
@bp.input(SettingsIn, location="json_or_form", arg_name="data")
@responds(api_schemas.ANY_OBJECT)
def update_settings(app_name: str, data: dict) -> dict:
    """Deep-merge the body into the stored settings: objects merge, null removes a key."""
    if len(app_name) > APP_NAME_LIMIT:
        raise ApiError(422, f"app_name is too long (at most {APP_NAME_LIMIT} characters)")
    # The params loader ignores a JSON body that is not an object; refuse it here instead.
    if request.is_json and not isinstance(request.get_json(silent=True), dict):
        raise ApiError(400, "Body must be a JSON object")
    return pleroma_misc.merge_settings(me(), app_name, data)
