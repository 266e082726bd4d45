"""Mastodon timelines (SPEC 6): home, public, hashtag, direct; a list's timeline is in routes/lists.py."""

from __future__ import annotations

from collections.abc import Callable

from apiflask import APIBlueprint
from apiflask.fields import List
from apiflask.fields import String
from apiflask.validators import OneOf
from sqlalchemy import Select

import api_schemas
import serializers
from auth import current_account
from auth import require_auth
from models import BOUND_VIEWER
from models import VISIBILITIES
from models import Status
from models import TimelineFilters
from models import cached_statement
from openapi import paged
from pagination import PageIn
from pagination import link_header
from pagination import page_params
from pagination import paginate
from params import Bool
from readcache import kept_until_change

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


def _page(query: Select, data: dict, bind: dict | None = None, context: str | None = None) -> Page:
    """One page of statuses, newest first, with its Link header. With `bind`, `query` is a cached
    statement (models.cached_statement) and `bind` its values. The reader's `hide` filters of
    `context` leave statuses out of the answer, but the Link is the page as fetched, so the next
    page starts after them (a page may come out short, as on Mastodon)."""
    statuses = paginate(query, Status.id, page_params(data), bind=bind)
    viewer = current_account()
    body = serializers.statuses_json(statuses, viewer, context)
    return body, 200, link_header([s.id for s in statuses])


def _cached(builder: Callable[..., Select], data: dict) -> tuple[Select, dict]:
    """The timeline's statement, built once per filter combination; the viewer is bound per call."""
    viewer = current_account()
    query = cached_statement(builder, BOUND_VIEWER if viewer is not None else None, _filters(data))
    return query, {"viewer_id": viewer.id} if viewer is not None else {}


@bp.get("/home")
@require_auth("read:statuses")
@kept_until_change
@bp.input(TimelineIn, location="query", arg_name="data")
@paged(api_schemas.Status)
def home(data: dict) -> Page:
    """The caller's home timeline."""
    query, bind = _cached(Status.home_timeline, data)
    return _page(query, data, bind, "home")


@bp.get("/public")
@require_auth("read:statuses", optional=True)
@kept_until_change
@bp.input(TimelineIn, location="query", arg_name="data")
@paged(api_schemas.Status)
def public(data: dict) -> Page:
    """Public statuses (local=true: this instance only)."""
    query, bind = _cached(Status.public_timeline, data)
    return _page(query, data, bind, "public")


@bp.get("/tag/<hashtag>")
@require_auth("read:statuses", optional=True)
@kept_until_change
@bp.input(TagTimelineIn, location="query", arg_name="data")
@paged(api_schemas.Status)
def hashtag(hashtag: str, data: dict) -> Page:
    """Public statuses with a hashtag (or any of `any[]`), all of `all[]`, none of `none[]`."""
    any_of = sorted({t.lower().lstrip("#") for t in [hashtag, *data["any"]]})
    all_of = [t.lower().lstrip("#") for t in data["all"]]
    none_of = [t.lower().lstrip("#") for t in data["none"]]
    query = Status.tag_timeline(current_account(), _filters(data), any_of, all_of, none_of)
    return _page(query, data, context="public")


@bp.get("/direct")
@require_auth("read:statuses")
@kept_until_change
@bp.input(TimelineIn, location="query", arg_name="data")
@paged(api_schemas.Status)
def direct(data: dict) -> Page:
    """Direct statuses the caller wrote or received."""
    query, bind = _cached(Status.direct_timeline, data)
    return _page(query, data, bind)
