"""GET /api/v1/favourites (SPEC 4): the caller's favourited statuses."""

from __future__ import annotations

from apiflask import APIBlueprint
from sqlalchemy import select

import api_schemas
import serializers
from auth import me
from auth import require_auth
from models import Favourite
from models import Status
from openapi import paged
from pagination import PageIn
from pagination import link_header
from pagination import page_params
from pagination import paginate
from readcache import kept_until_change

bp = APIBlueprint("favourites", __name__, url_prefix="/api/v1/favourites", tag="Favourites")


@bp.get("")
@require_auth("read:favourites")
@kept_until_change
@bp.input(PageIn, location="query", arg_name="data")
@paged(api_schemas.Status)
def list_favourites(data: dict) -> tuple[list[dict], int, dict]:
    """The caller's favourites, newest favourite first, paged by favourite id."""
    query = (
        select(Favourite.id, Status)
        .join(Status, Status.id == Favourite.status_id)
        .where(Favourite.account_id == me().id, Status.visibility_filter(me()))
    )
    rows = paginate(query, Favourite.id, page_params(data), scalars=False)
    statuses = serializers.statuses_json([row[1] for row in rows], me())
    return statuses, 200, link_header([row[0] for row in rows])
