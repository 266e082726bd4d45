"""Mastodon timelines (SPEC 6): home, public, hashtag, direct; lists are not implemented."""

from __future__ import annotations

from apiflask import APIBlueprint
from apiflask.fields import List
from apiflask.fields import String
from apiflask.validators import OneOf
from sqlalchemy import Select

import serializers
from auth import current_account
from auth import me
from auth import require_auth
from errors import ApiError
from models import VISIBILITIES
from models import Status
from models import TimelineFilters
from pagination import PageIn
from pagination import link_header
from pagination import page_params
from pagination import paginate
from params import Bool

bp = APIBlueprint("timelines", __name__, url_prefix="/api/v1/timelines", tag="Timelines")

Page = tuple[list[dict], int, dict[str, str]]


class TimelineIn(PageIn):
    local = Bool(load_default=False)
    remote = Bool(load_default=False)
    only_media = Bool(load_default=False)
    with_muted = Bool(load_default=False)
    exclude_visibilities = List(String(validate=OneOf((*VISIBILITIES, "list"))), load_default=list)
    # Pleroma-FE sends nothing for "all"; other clients may spell it out.
    reply_visibility = String(
        load_default=None, allow_none=True, validate=OneOf(("all", "following", "self"))
    )
    instance = String(load_default=None, allow_none=True)


class TagTimelineIn(TimelineIn):
    any = List(String(), load_default=list)
    all = List(String(), load_default=list)
    none = List(String(), load_default=list)


def _filters(data: dict) -> TimelineFilters:
    return TimelineFilters(
        local=data["local"],
        remote=data["remote"],
        only_media=data["only_media"],
        with_muted=data["with_muted"],
        exclude_visibilities=tuple(data["exclude_visibilities"]),
        reply_visibility=data["reply_visibility"],
        instance=data["instance"],
    )


def _page(query: Select, data: dict) -> Page:
    """One page of statuses, newest first, with its Link header."""
    statuses = paginate(query, Status.id, page_params(data))
    viewer = current_account()
    return serializers.statuses_json(statuses, viewer), 200, link_header([s.id for s in statuses])


@bp.get("/home")
@require_auth("read:statuses")
@bp.input(TimelineIn, location="query", arg_name="data")
def home(data: dict) -> Page:
    """The caller's home timeline."""
    return _page(Status.home_timeline(me(), _filters(data)), data)


@bp.get("/public")
@require_auth("read:statuses", optional=True)
@bp.input(TimelineIn, location="query", arg_name="data")
def public(data: dict) -> Page:
    """Public statuses (local=true: this instance only)."""
    return _page(Status.public_timeline(current_account(), _filters(data)), data)


@bp.get("/tag/<hashtag>")
@require_auth("read:statuses", optional=True)
@bp.input(TagTimelineIn, location="query", arg_name="data")
def hashtag(hashtag: str, data: dict) -> Page:
    """Public statuses with a hashtag (or any of `any[]`), all of `all[]`, none of `none[]`."""
    any_of = sorted({t.lower().lstrip("#") for t in [hashtag, *data["any"]]})
    all_of = [t.lower().lstrip("#") for t in data["all"]]
    none_of = [t.lower().lstrip("#") for t in data["none"]]
    query = Status.tag_timeline(current_account(), _filters(data), any_of, all_of, none_of)
    return _page(query, data)


@bp.get("/direct")
@require_auth("read:statuses")
@bp.input(TimelineIn, location="query", arg_name="data")
def direct(data: dict) -> Page:
    """Direct statuses the caller wrote or received."""
    return _page(Status.direct_timeline(me(), _filters(data)), data)


@bp.get("/list/<list_id>")
@require_auth("read:lists")
def list_timeline(list_id: str) -> dict:
    """Lists are not implemented in Kenoma, so no list exists (SPEC 6: optional)."""
    raise ApiError(404, "Record not found")
