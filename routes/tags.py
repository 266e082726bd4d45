"""Hashtags (SPEC 26): a tag with its week of use, following and unfollowing it, the followed
tags. Followed tags' public statuses join the home timeline (models.Status.home_timeline)."""

from __future__ import annotations

from apiflask import APIBlueprint
from sqlalchemy import select

import api_schemas
import serializers
from auth import current_account
from auth import me
from auth import require_auth
from models import TagFollow
from openapi import paged
from openapi import responds
from pagination import PageIn
from pagination import link_header
from pagination import page_params
from pagination import paginate
from services import tags as tag_service

bp = APIBlueprint("tags", __name__, url_prefix="/api/v1", tag="Tags")

Page = tuple[list[dict], int, dict[str, str]]
# Mastodon's page of followed tags: 100 by default, at most 200.
FOLLOWED_DEFAULT = 100
FOLLOWED_MAX = 200


@bp.get("/tags/<name>")
@require_auth("read", optional=True)
@responds(api_schemas.Tag, 404)
def get_tag(name: str) -> dict:
    """A hashtag with its last week of use; `following` for a signed-in caller."""
    return serializers.tag_json(tag_service.tag_name_or_404(name), current_account())


@bp.post("/tags/<name>/follow")
@require_auth("write:follows")
@responds(api_schemas.Tag, 404)
def follow_tag(name: str) -> dict:
    """Follow a hashtag: its public statuses join the caller's home timeline."""
    tag = tag_service.tag_name_or_404(name)
    tag_service.follow_tag(me(), tag)
    return serializers.tag_json(tag, me())


@bp.post("/tags/<name>/unfollow")
@require_auth("write:follows")
@responds(api_schemas.Tag, 404)
def unfollow_tag(name: str) -> dict:
    """Stop following a hashtag (not following it is no error)."""
    tag = tag_service.tag_name_or_404(name)
    tag_service.unfollow_tag(me(), tag)
    return serializers.tag_json(tag, me())


@bp.get("/followed_tags")
@require_auth("read:follows")
@bp.input(PageIn, location="query", arg_name="data")
@paged(api_schemas.Tag)
def followed_tags(data: dict) -> Page:
    """The hashtags the caller follows, most recently followed first."""
    params = page_params({**data, "limit": data["limit"] or FOLLOWED_DEFAULT}, max_limit=FOLLOWED_MAX)
    query = select(TagFollow.id, TagFollow.name).where(TagFollow.account_id == me().id)
    rows = paginate(query, TagFollow.id, params, scalars=False)
    body = serializers.tags_json([name for _, name in rows], me())
    return body, 200, link_header([row_id for row_id, _ in rows])
