"""GET /api/v1/bookmarks (SPEC 4): the caller's bookmarked statuses."""

from __future__ import annotations

from apiflask import APIBlueprint
from sqlalchemy import select

import api_schemas
import serializers
from auth import me
from auth import require_auth
from models import Bookmark
from models import Status
from openapi import paged
from pagination import PageIn
from pagination import link_header
from pagination import page_params
from pagination import paginate
from params import IdStr
from readcache import kept_until_change

bp = APIBlueprint("bookmarks", __name__, url_prefix="/api/v1/bookmarks", tag="Bookmarks")


class BookmarksIn(PageIn):
    folder_id = IdStr(load_default=None, allow_none=True)  # Pleroma bookmark folders (SPEC 18.5)


@bp.get("")
@require_auth("read:bookmarks")
@kept_until_change
@bp.input(BookmarksIn, location="query", arg_name="data")
@paged(api_schemas.Status)
def list_bookmarks(data: dict) -> tuple[list[dict], int, dict]:
    """The caller's bookmarks, newest bookmark first, paged by bookmark id."""
    query = (
        select(Bookmark.id, Status)
        .join(Status, Status.id == Bookmark.status_id)
        .where(Bookmark.account_id == me().id, Status.visibility_filter(me()))
    )
    if data["folder_id"]:
        # Only the caller's bookmarks are read, so a foreign folder id just finds nothing; the
        # folder ownership answer (403 "Access denied") belongs to the bookmark folders module.
        query = query.where(Bookmark.folder_id == data["folder_id"])
    rows = paginate(query, Bookmark.id, page_params(data), scalars=False)
    statuses = serializers.statuses_json([row[1] for row in rows], me())
    return statuses, 200, link_header([row[0] for row in rows])
