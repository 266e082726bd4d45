"""Follow, block and mute imports (SPEC 11): answer at once, work in a job."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from apiflask.fields import Field
from flask import Response
from flask import jsonify
from marshmallow import ValidationError
from werkzeug.datastructures import FileStorage

import api_schemas
from auth import me
from auth import require_auth
from openapi import responds
from params import Params
from services import imports

bp = APIBlueprint("imports", __name__, tag="Pleroma")


class ImportList(Field):
    """The list as a form or JSON string, an uploaded file (Pleroma-FE sends a file), or a JSON
    array of names."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, FileStorage):
            return value.read().decode("utf-8", errors="replace")
        if isinstance(value, str):
            return value
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return "\n".join(value)
        raise ValidationError("Invalid value.")


class ImportIn(Params):
    list_ = ImportList(required=True, data_key="list", metadata={"description": "text or file"})


def _started(kind: str, text: str) -> Response:
    imports.start(kind, me(), text)
    # Pleroma answers with a bare JSON string, whatever the job later finds (SPEC 21.9).
    return jsonify("job started")


@bp.post("/follow_import")
@require_auth("follow", "write:follows")
@bp.input(ImportIn, location="json_or_form", arg_name="data")
@responds(api_schemas.JSON_STRING)
def follow_import(data: dict) -> Response:
    """Follow every account of a list (names, or Mastodon's CSV export)."""
    return _started("follows", data["list_"])


@bp.post("/blocks_import")
@require_auth("follow", "write:blocks")
@bp.input(ImportIn, location="json_or_form", arg_name="data")
@responds(api_schemas.JSON_STRING)
def blocks_import(data: dict) -> Response:
    """Block every account of a list."""
    return _started("blocks", data["list_"])


@bp.post("/mutes_import")
@require_auth("follow", "write:mutes")
@bp.input(ImportIn, location="json_or_form", arg_name="data")
@responds(api_schemas.JSON_STRING)
def mutes_import(data: dict) -> Response:
    """Mute every account of a list."""
    return _started("mutes", data["list_"])
