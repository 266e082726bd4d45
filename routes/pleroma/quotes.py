"""Statuses quoting a status (SPEC 18.6)."""

from __future__ import annotations

from apiflask import APIBlueprint

import api_schemas
import serializers
from auth import current_account
from auth import require_auth
from models import Status
from openapi import paged
from pagination import PageIn
from pagination import link_header
from pagination import page_params
from pagination import paginate
from services import pleroma_misc

bp = APIBlueprint("quotes", __name__, tag="Pleroma")


@bp.get("/statuses/<status_id>/quotes")
@require_auth("read:statuses", optional=True)
@bp.input(PageIn, location="query", arg_name="data")
@paged(api_schemas.Status)
def list_quotes(status_id: str, data: dict) -> tuple[list[dict], int, dict]:
    """Visible statuses that quote this one, newest first."""
    viewer = current_account()
    status = pleroma_misc.visible_status_or_404(status_id, viewer)
    page = paginate(pleroma_misc.quotes_of(status, viewer), Status.id, page_params(data))
    return serializers.statuses_json(page, viewer), 200, link_header([s.id for s in page])
