"""The Pleroma-FE mascot (SPEC 18.1): an uploaded image, or Kenoma's own default."""

from __future__ import annotations

from apiflask import APIBlueprint
from apiflask.fields import File

import api_schemas
import serializers
from auth import me
from auth import require_auth
from openapi import responds
from params import Params
from services import pleroma_misc

bp = APIBlueprint("mascot", __name__, url_prefix="/mascot", tag="Pleroma")


class MascotIn(Params):
    file = File(required=True)


@bp.get("")
@require_auth("read:accounts")
@responds(api_schemas.Mascot)
def get_mascot() -> dict:
    """The caller's mascot, or the default one."""
    return serializers.mascot_json(pleroma_misc.mascot_of(me()))


@bp.put("")
@require_auth("write:accounts")
@bp.input(MascotIn, location="json_or_form", arg_name="data")
@responds(api_schemas.Mascot, 415)
def set_mascot(data: dict) -> dict:
    """Upload an image and make it the mascot (415 for anything that is not an image)."""
    return serializers.mascot_json(pleroma_misc.set_mascot(me(), data["file"]))
