"""Mastodon filters (SPEC 26): v2 filters with their keywords and statuses, and v1 filters (one
keyword of a v2 filter each, with the keyword's id, as Mastodon maps them). Matching statuses
carry `filtered` wherever they are shown (serializers/statuses.py)."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from apiflask.fields import Integer
from apiflask.fields import List
from apiflask.fields import Nested
from apiflask.fields import String
from apiflask.validators import OneOf
from apiflask.validators import Range
from marshmallow import ValidationError
from marshmallow import pre_load
from sqlalchemy.orm import selectinload

import api_schemas
import serializers
from auth import me
from auth import require_auth
from models import FILTER_ACTIONS
from models import FILTER_CONTEXTS
from models import Filter
from models import db
from openapi import responds
from params import INT_MAX
from params import Bool
from params import IdStr
from params import Length
from params import Params
from services import filters
from services.filters import KeywordChange

bp = APIBlueprint("filters", __name__, url_prefix="/api", tag="Filters")

_TITLE = Length(max=256)
_KEYWORD = Length(max=512)
_SECONDS = Range(min=1, max=INT_MAX)


def _blank_is_none(data: Any, *names: str) -> Any:
    """A form sends `expires_in=` for "never": that is null, not a bad number."""
    if isinstance(data, dict):
        data = dict(data)
        for name in names:
            if data.get(name) == "":
                data[name] = None
    return data


def _keyword_rows(value: Any) -> Any:
    """keywords_attributes as a list of objects, however it came: a JSON list, Rails' indexed
    form keys (`[0][keyword]`), or `[][keyword]` keys (each field a column of values)."""
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict):
        only = value[0]
        if only and (set(only) == {""} or all(key.isdigit() for key in only)):
            value = only  # params.py wrapped the nested form keys as one item
    if not isinstance(value, dict):
        return value
    if set(value) == {""} and isinstance(value[""], dict):
        columns = {k: v if isinstance(v, list) else [v] for k, v in value[""].items()}
        lengths = {len(v) for v in columns.values()}
        if len(lengths) > 1:
            raise ValidationError("every keyword needs the same fields", "keywords_attributes")
        return [{k: v[i] for k, v in columns.items()} for i in range(lengths.pop() if lengths else 0)]
    if value and all(key.isdigit() for key in value):
        return [value[key] for key in sorted(value, key=int)]
    return [value]


class KeywordAttributeIn(Params):
    id = IdStr(load_default=None)
    keyword = String(load_default=None, allow_none=True, validate=_KEYWORD)
    whole_word = Bool(load_default=None, allow_none=True)
    destroy = Bool(load_default=False, data_key="_destroy")


class FilterUpdateIn(Params):
    title = String(load_default=None, allow_none=True, validate=_TITLE)
    context = List(String(validate=OneOf(FILTER_CONTEXTS)), load_default=None, allow_none=True)
    filter_action = String(load_default=None, allow_none=True, validate=OneOf(FILTER_ACTIONS))
    # No default: absent leaves the end date alone, null or "" removes it.
    expires_in = Integer(allow_none=True, validate=_SECONDS)
    keywords_attributes = List(Nested(KeywordAttributeIn), load_default=list)

    @pre_load
    def _normalise(self, data: Any, **kwargs: Any) -> Any:
        data = _blank_is_none(data, "expires_in")
        if isinstance(data, dict) and "keywords_attributes" in data:
            data["keywords_attributes"] = _keyword_rows(data["keywords_attributes"])
        return data


class FilterIn(FilterUpdateIn):
    context = List(String(validate=OneOf(FILTER_CONTEXTS)), load_default=list)
    filter_action = String(load_default="warn", validate=OneOf(FILTER_ACTIONS))


class KeywordIn(Params):
    keyword = String(load_default=None, allow_none=True, validate=_KEYWORD)
    whole_word = Bool(load_default=None, allow_none=True)


class FilterStatusIn(Params):
    status_id = IdStr(required=True, validate=Length(max=18))


class V1FilterUpdateIn(Params):
    phrase = String(load_default=None, allow_none=True, validate=_KEYWORD)
    context = List(String(validate=OneOf(FILTER_CONTEXTS)), load_default=None, allow_none=True)
    irreversible = Bool(load_default=None, allow_none=True)
    whole_word = Bool(load_default=None, allow_none=True)
    expires_in = Integer(allow_none=True, validate=_SECONDS)

    @pre_load
    def _normalise(self, data: Any, **kwargs: Any) -> Any:
        return _blank_is_none(data, "expires_in")


class V1FilterIn(V1FilterUpdateIn):
    context = List(String(validate=OneOf(FILTER_CONTEXTS)), load_default=list)
    irreversible = Bool(load_default=False)
    whole_word = Bool(load_default=True)


def _changes(data: dict) -> list[KeywordChange]:
    return [
        KeywordChange(
            id=row["id"], keyword=row["keyword"], whole_word=row["whole_word"], destroy=row["destroy"]
        )
        for row in data["keywords_attributes"]
    ]


# ---------------------------------------------------------------------------------------------
# v2 filters


@bp.get("/v2/filters")
@require_auth("read:filters")
@responds(api_schemas.Filter, many=True)
def get_filters() -> list[dict]:
    """The caller's filters, oldest first."""
    query = Filter.owned_by(me().id).options(selectinload(Filter.keywords), selectinload(Filter.statuses))
    return [serializers.filter_json(f) for f in db.session.scalars(query)]


@bp.post("/v2/filters")
@require_auth("write:filters")
@bp.input(FilterIn, location="json_or_form", arg_name="data")
@responds(api_schemas.Filter, 400, 404, 422)
def create_filter(data: dict) -> dict:
    """Create a filter, with its first keywords (`keywords_attributes[]`)."""
    user_filter = filters.create_filter(
        me(), data["title"], data["context"], data["filter_action"], data.get("expires_in"), _changes(data)
    )
    return serializers.filter_json(user_filter)


@bp.get("/v2/filters/<filter_id>")
@require_auth("read:filters")
@responds(api_schemas.Filter)
def get_filter(filter_id: str) -> dict:
    """One of the caller's filters."""
    return serializers.filter_json(filters.own_filter(me(), filter_id))


@bp.put("/v2/filters/<filter_id>")
@require_auth("write:filters")
@bp.input(FilterUpdateIn, location="json_or_form", arg_name="data")
@responds(api_schemas.Filter, 400, 422)
def update_filter(filter_id: str, data: dict) -> dict:
    """Change a filter; `keywords_attributes[]` adds, changes (`id`) or removes (`_destroy`)."""
    user_filter = filters.own_filter(me(), filter_id)
    filters.update_filter(
        user_filter,
        data["title"],
        data["context"],
        data["filter_action"],
        data.get("expires_in"),
        _changes(data),
        expires_given="expires_in" in data,
    )
    return serializers.filter_json(user_filter)


@bp.delete("/v2/filters/<filter_id>")
@require_auth("write:filters")
@responds(api_schemas.EMPTY)
def delete_filter(filter_id: str) -> dict:
    """Delete a filter with its keywords and statuses."""
    filters.delete_filter(filters.own_filter(me(), filter_id))
    return {}


# ---- keywords


@bp.get("/v2/filters/<filter_id>/keywords")
@require_auth("read:filters")
@responds(api_schemas.FilterKeyword, many=True)
def get_filter_keywords(filter_id: str) -> list[dict]:
    """The keywords of one of the caller's filters."""
    return [serializers.filter_keyword_json(k) for k in filters.own_filter(me(), filter_id).keywords]


@bp.post("/v2/filters/<filter_id>/keywords")
@require_auth("write:filters")
@bp.input(KeywordIn, location="json_or_form", arg_name="data")
@responds(api_schemas.FilterKeyword, 400, 422)
def add_filter_keyword(filter_id: str, data: dict) -> dict:
    """Add a keyword to a filter."""
    user_filter = filters.own_filter(me(), filter_id)
    return serializers.filter_keyword_json(
        filters.add_keyword(user_filter, data["keyword"], data["whole_word"])
    )


@bp.get("/v2/filters/keywords/<keyword_id>")
@require_auth("read:filters")
@responds(api_schemas.FilterKeyword)
def get_filter_keyword(keyword_id: str) -> dict:
    """One keyword of the caller's filters."""
    return serializers.filter_keyword_json(filters.own_keyword(me(), keyword_id))


@bp.put("/v2/filters/keywords/<keyword_id>")
@require_auth("write:filters")
@bp.input(KeywordIn, location="json_or_form", arg_name="data")
@responds(api_schemas.FilterKeyword, 400, 422)
def update_filter_keyword(keyword_id: str, data: dict) -> dict:
    """Change a keyword's text or whole_word."""
    keyword = filters.own_keyword(me(), keyword_id)
    return serializers.filter_keyword_json(
        filters.update_keyword(keyword, data["keyword"], data["whole_word"])
    )


@bp.delete("/v2/filters/keywords/<keyword_id>")
@require_auth("write:filters")
@responds(api_schemas.EMPTY)
def delete_filter_keyword(keyword_id: str) -> dict:
    """Remove a keyword from its filter."""
    filters.delete_keyword(filters.own_keyword(me(), keyword_id))
    return {}


# ---- statuses


@bp.get("/v2/filters/<filter_id>/statuses")
@require_auth("read:filters")
@responds(api_schemas.FilterStatus, many=True)
def get_filter_statuses(filter_id: str) -> list[dict]:
    """The statuses one of the caller's filters names."""
    return [serializers.filter_status_json(s) for s in filters.own_filter(me(), filter_id).statuses]


@bp.post("/v2/filters/<filter_id>/statuses")
@require_auth("write:filters")
@bp.input(FilterStatusIn, location="json_or_form", arg_name="data")
@responds(api_schemas.FilterStatus, 400, 422)
def add_filter_status(filter_id: str, data: dict) -> dict:
    """Filter one status (one the caller may see)."""
    user_filter = filters.own_filter(me(), filter_id)
    return serializers.filter_status_json(filters.add_status(me(), user_filter, data["status_id"]))


@bp.get("/v2/filters/statuses/<filter_status_id>")
@require_auth("read:filters")
@responds(api_schemas.FilterStatus)
def get_filter_status(filter_status_id: str) -> dict:
    """One filtered status of the caller's filters."""
    return serializers.filter_status_json(filters.own_filter_status(me(), filter_status_id))


@bp.delete("/v2/filters/statuses/<filter_status_id>")
@require_auth("write:filters")
@responds(api_schemas.EMPTY)
def delete_filter_status(filter_status_id: str) -> dict:
    """Stop filtering a status."""
    filters.delete_filter_status(filters.own_filter_status(me(), filter_status_id))
    return {}


# ---------------------------------------------------------------------------------------------
# v1 filters


@bp.get("/v1/filters")
@require_auth("read:filters")
@responds(api_schemas.V1Filter, many=True)
def get_v1_filters() -> list[dict]:
    """The caller's filter keywords as v1 filters."""
    return [serializers.v1_filter_json(k) for k in filters.own_keywords(me())]


@bp.post("/v1/filters")
@require_auth("write:filters")
@bp.input(V1FilterIn, location="json_or_form", arg_name="data")
@responds(api_schemas.V1Filter, 400, 422)
def create_v1_filter(data: dict) -> dict:
    """Create a v1 filter: a filter titled after its one keyword (`irreversible`: hide)."""
    keyword = filters.create_v1(
        me(),
        data["phrase"],
        data["context"],
        data["irreversible"],
        data["whole_word"],
        data.get("expires_in"),
    )
    return serializers.v1_filter_json(keyword)


@bp.get("/v1/filters/<keyword_id>")
@require_auth("read:filters")
@responds(api_schemas.V1Filter)
def get_v1_filter(keyword_id: str) -> dict:
    """One v1 filter."""
    return serializers.v1_filter_json(filters.own_keyword(me(), keyword_id))


@bp.put("/v1/filters/<keyword_id>")
@require_auth("write:filters")
@bp.input(V1FilterUpdateIn, location="json_or_form", arg_name="data")
@responds(api_schemas.V1Filter, 400, 422)
def update_v1_filter(keyword_id: str, data: dict) -> dict:
    """Change a v1 filter (its keyword and the filter holding it)."""
    keyword = filters.own_keyword(me(), keyword_id)
    filters.update_v1(
        keyword,
        data["phrase"],
        data["context"],
        data["irreversible"],
        data["whole_word"],
        data.get("expires_in"),
        expires_given="expires_in" in data,
    )
    return serializers.v1_filter_json(keyword)


@bp.delete("/v1/filters/<keyword_id>")
@require_auth("write:filters")
@responds(api_schemas.EMPTY)
def delete_v1_filter(keyword_id: str) -> dict:
    """Delete a v1 filter (and its filter, when nothing else is left in it)."""
    filters.delete_v1(filters.own_keyword(me(), keyword_id))
    return {}
