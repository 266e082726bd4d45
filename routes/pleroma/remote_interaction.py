"""POST /remote_interaction (SPEC 10): where a visitor from another server acts on our content."""

from __future__ import annotations

from apiflask import APIBlueprint
from apiflask.fields import String

import api_schemas
from openapi import responds
from params import Params
from services import remote

bp = APIBlueprint("remote_interaction", __name__, tag="Pleroma")


class RemoteInteractionIn(Params):
    ap_id = String(required=True)
    profile = String(required=True)


@bp.post("/remote_interaction")
@bp.input(RemoteInteractionIn, location="json_or_form", arg_name="data")
@responds(api_schemas.RemoteInteraction)
def remote_interaction(data: dict) -> dict:
    """The visitor's own server's interaction URL for `ap_id` (from WebFinger of `profile`)."""
    template = remote.subscribe_template(data["profile"])
    if not template:
        # Pleroma answers every failed lookup with 200 and this body (SPEC 21.12).
        return {"error": "Couldn't find user"}
    return {"url": template.replace("{uri}", data["ap_id"])}
