"""Mastodon keyset paging (SPEC 1.5): max_id / since_id / min_id / limit and the Link header."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from apiflask.fields import Integer
from flask import current_app
from flask import request
from sqlalchemy import ColumnElement
from sqlalchemy import Select
from sqlalchemy import bindparam

from errors import ApiError
from models import db
from params import IdStr
from params import Params

DEFAULT_LIMIT = 20
MAX_LIMIT = 40
_CURSORS = ("max_id", "since_id", "min_id")


class PageIn(Params):
    """The paging inputs; schemas of paged routes subclass it so /openapi.json documents them."""

    max_id = IdStr(load_default=None)
    since_id = IdStr(load_default=None)
    min_id = IdStr(load_default=None)
    limit = Integer(load_default=None, allow_none=True)


@dataclass(frozen=True)
class PageParams:
    max_id: str | None = None
    since_id: str | None = None
    min_id: str | None = None
    limit: int = DEFAULT_LIMIT


def page_params(data: dict | None = None, max_limit: int = MAX_LIMIT) -> PageParams:
    """Read the cursors from validated input (or the query string); limit clamps, never fails."""
    data = data if data is not None else request.args
    try:
        limit = int(data.get("limit") or DEFAULT_LIMIT)
    except (TypeError, ValueError):
        limit = DEFAULT_LIMIT
    return PageParams(
        max_id=_cursor(data.get("max_id")),
        since_id=_cursor(data.get("since_id")),
        min_id=_cursor(data.get("min_id")),
        limit=max(1, min(limit, max_limit)),
    )


def numeric_cursors(params: PageParams, parse: Callable[[str], int | None]) -> PageParams:
    """The cursors of a table numbered by an integer sequence (notifications, SPEC 1.6) as numbers,
    so "9" < "10"; a cursor that is not a number is refused."""
    numbers: dict[str, Any] = {}
    for name in _CURSORS:
        value = getattr(params, name)
        if value is None:
            continue
        numbers[name] = parse(value)
        if numbers[name] is None:
            raise ApiError(400, f"{name} - Not a valid id.")
    return replace(params, **numbers)


def _cursor(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def paged(query: Select, column: ColumnElement, params: PageParams) -> Select:
    """The page's query: newest first, or — for min_id — the rows just above the cursor."""
    if params.max_id is not None:
        query = query.where(column < params.max_id)
    if params.since_id is not None:
        query = query.where(column > params.since_id)
    if params.min_id is not None:
        # min_id asks for the items just above the cursor: fetch ascending, flip afterwards, so
        # the client still receives newest-first.
        return query.where(column > params.min_id).order_by(column.asc()).limit(params.limit)
    return query.order_by(column.desc()).limit(params.limit)


def paginate(
    query: Select, column: ColumnElement, params: PageParams, scalars: bool = True, bind: dict | None = None
) -> list:
    """One page of `query`. With `bind`, `query` is a statement built once (models.cached_statement)
    and `bind` its per-request values: the page's cursors and limit become bind parameters too,
    so nothing is rebuilt per request."""
    if bind is None:
        result = db.session.execute(paged(query, column, params))
    else:
        shape = (params.max_id is not None, params.since_id is not None, params.min_id is not None)
        values = {**bind, "page_limit": params.limit}
        values.update({k: getattr(params, k) for k, wanted in zip(_CURSORS, shape, strict=True) if wanted})
        result = db.session.execute(_bound_page(query, column, shape), values)
    rows = list(result.scalars() if scalars else result.all())
    if params.min_id:
        rows.reverse()
    return rows


@functools.lru_cache(maxsize=256)
def _bound_page(query: Select, column: ColumnElement, shape: tuple[bool, bool, bool]) -> Select:
    cursors = [bindparam(k) if wanted else None for k, wanted in zip(_CURSORS, shape, strict=True)]
    cursor_values = dict(zip(_CURSORS, cursors, strict=True))
    return paged(query, column, _BoundParams(**cursor_values))


@dataclass(frozen=True)
class _BoundParams:
    """PageParams whose cursors and limit are bind parameters (for _bound_page)."""

    max_id: Any = None
    since_id: Any = None
    min_id: Any = None
    limit: Any = bindparam("page_limit")


def link_header(ids: list[str]) -> dict[str, str]:
    """`Link` with next (older) and prev (newer) pages; none for an empty page."""
    if not ids:
        return {}
    kept = [(k, v) for k, v in request.args.items(multi=True) if k not in _CURSORS]
    base = current_app.config["BASE_URL"] + request.path

    def url(key: str, value: str) -> str:
        return f"{base}?{urlencode(kept + [(key, value)])}"

    return {"Link": f'<{url("max_id", ids[-1])}>; rel="next", <{url("min_id", ids[0])}>; rel="prev"'}
