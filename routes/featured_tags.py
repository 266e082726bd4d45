"""Featured tags (SPEC 26): the hashtags an account shows on its profile."""

from __future__ import annotations

from apiflask import APIBlueprint
from apiflask.fields import String

import api_schemas
import serializers
from auth import me
from auth import require_auth
from errors import ApiError
from models import Account
from models import FeaturedTag
from models import db
from openapi import responds
from params import Length
from params import Params
from services import tags as tag_service

bp = APIBlueprint("featured_tags", __name__, url_prefix="/api/v1", tag="Featured tags")


class FeaturedTagIn(Params):
    # Not `required`: a missing name is the same 422 as an invalid one, as Mastodon gives it.
    name = String(load_default="", validate=Length(max=300))


@bp.get("/featured_tags")
@require_auth("read:accounts")
@responds(api_schemas.FeaturedTag, many=True)
def get_featured_tags() -> list[dict]:
    """The caller's featured tags, in the order they were added."""
    featured = list(db.session.scalars(FeaturedTag.of_account(me().id)))
    return serializers.featured_tags_json(featured, me())


@bp.post("/featured_tags")
@require_auth("write:accounts")
@bp.input(FeaturedTagIn, location="json_or_form", arg_name="data")
@responds(api_schemas.FeaturedTag, 422)
def create_featured_tag(data: dict) -> dict:
    """Feature a hashtag on the caller's profile (at most 10)."""
    featured = tag_service.feature_tag(me(), data["name"])
    return serializers.featured_tag_json(featured, me())


@bp.delete("/featured_tags/<featured_id>")
@require_auth("write:accounts")
@responds(api_schemas.EMPTY, 404)
def delete_featured_tag(featured_id: str) -> dict:
    """Stop featuring a hashtag."""
    tag_service.unfeature_tag(tag_service.own_featured_tag(me(), featured_id))
    return {}


@bp.get("/featured_tags/suggestions")
@require_auth("read:accounts")
@responds(api_schemas.Tag, many=True)
def featured_tag_suggestions() -> list[dict]:
    """The caller's most used hashtags not featured yet."""
    return serializers.tags_json(tag_service.featured_tag_suggestions(me()), me())


@bp.get("/accounts/<account_id>/featured_tags")
@responds(api_schemas.FeaturedTag, 404, many=True)
def account_featured_tags(account_id: str) -> list[dict]:
    """The hashtags an account features (public)."""
    account = db.session.get(Account, account_id)
    if account is None or not account.is_active:
        raise ApiError(404, "Record not found")
    featured = list(db.session.scalars(FeaturedTag.of_account(account.id)))
    return serializers.featured_tags_json(featured, account)
