"""Request parameters the way Mastodon and Pleroma clients send them (SPEC 1.3).

Clients send the same fields as a query string, a form, multipart or JSON, with Rails-style keys
(`ids[]=1`, `authorization[name]=x`). The loaders below are registered on APIFlask's webargs
parser, so every `@bp.input(Schema, location="json_or_form" | "query")` receives one merged,
nested dict, and the schema still documents the route in /openapi.json.
"""

from __future__ import annotations

import re
from typing import Any

from apiflask import Schema
from apiflask.schema_adapters.marshmallow import parser
from flask import Request
from marshmallow import EXCLUDE
from marshmallow import ValidationError
from marshmallow import fields
from marshmallow import validate
from werkzeug.datastructures import MultiDict

_KEY_PART = re.compile(r"\[([^\]]*)\]")

TRUTHY = {True, "true", "True", "TRUE", "1", "on", "yes"}
FALSY = {False, "false", "False", "FALSE", "0", "off", "no", ""}
# The largest count, offset or number of seconds a parameter may give: past it SQLite integers
# and datetime arithmetic overflow (a 500), so schemas bound their Integer fields with it.
INT_MAX = 2**31 - 1
# A search query, in characters: a URL to resolve fits; SQLite refuses LIKE patterns past 50,000
# bytes, and a longer query finds nothing a shorter one would not.
SEARCH_QUERY_LIMIT = 2048


class Params(Schema):
    """Base input schema: unknown keys are ignored, as Pleroma ignores them."""

    class Meta:
        unknown = EXCLUDE


TOO_LONG = "is too long"


class Length(validate.Length):
    """marshmallow's Length, except that a value over `max` says TOO_LONG, which errors.py
    answers with 422 (an over-long field; SPEC uses 422 for an over-long status)."""

    def __call__(self, value: Any) -> Any:
        if self.max is not None and len(value) > self.max:
            raise ValidationError(f"{TOO_LONG} (at most {self.max} characters).")
        return super().__call__(value)


class Bool(fields.Boolean):
    truthy = TRUTHY
    falsy = FALSY


class IdStr(fields.String):
    """An id given as a string or a JSON number (`{"id": 22222222222222}`)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        if isinstance(value, int):
            value = str(value)
        return super()._deserialize(value, attr, data, **kwargs)


def _set_nested(target: dict, key: str, values: list) -> None:
    base, _, rest = key.partition("[")
    parts = [base] + (_KEY_PART.findall("[" + rest) if rest else [])
    node = target
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    last = parts[-1]
    if last == "" and len(parts) > 1:  # `ids[]`: the parent holds the list
        parent, name = _parent_of(target, parts)
        parent[name] = list(values)
    elif len(values) > 1:
        node[last] = list(values)
    else:
        node[last] = values[0]


def _parent_of(target: dict, parts: list[str]) -> tuple[dict, str]:
    node = target
    for part in parts[:-2]:
        node = node[part]
    return node, parts[-2]


def nest(multi: MultiDict) -> dict:
    out: dict = {}
    for key in multi.keys():
        if isinstance(key, str):  # a multipart part with a malformed name has none (None)
            _set_nested(out, key, multi.getlist(key))
    return out


def _wrap_lists(data: dict, schema: Any) -> dict:
    """A single `ids=1` still means a list when the schema says List."""
    declared = getattr(schema, "fields", {})
    for name, field in declared.items():
        key = field.data_key or name
        # A JSON null stays null (megalodon sends `"media_ids": null`): the field decides on it.
        if isinstance(field, fields.List) and data.get(key) is not None and not isinstance(data[key], list):
            data[key] = [data[key]]
    return data


def merged_params(request: Request) -> dict:
    """Query < form/multipart (+ files) < JSON body: body wins over the query string."""
    data = nest(request.args)
    data.update(nest(request.form))
    for key in request.files:
        if not isinstance(key, str):
            continue
        files = request.files.getlist(key)
        data[key.removesuffix("[]")] = files if key.endswith("[]") else files[0]
    if request.is_json:
        body = request.get_json(silent=True)
        if isinstance(body, dict):
            data.update(body)
    return data


@parser.location_loader("json_or_form")
def load_params(request: Request, schema: Any) -> dict:
    return _wrap_lists(merged_params(request), schema)


@parser.location_loader("query")
def load_query(request: Request, schema: Any) -> dict:
    data = nest(request.args)
    # A GET's JSON body counts as its query (SPEC 1.3: every source, body over query):
    # Mastodon.py sends familiar_followers' ids that way.
    if request.method == "GET" and request.is_json:
        body = request.get_json(silent=True)
        if isinstance(body, dict):
            data.update(body)
    return _wrap_lists(data, schema)


def single_query_value(request: Request, key: str) -> str | None:
    """`key`'s value when the query string is that one parameter, given once, and no JSON body
    joins it: what load_query and a String field load from it. None for anything else, which
    the caller hands to parse_query (the schema's errors included). For hot views whose webargs
    parse costs more than the rest of them (the pack archive)."""
    args = request.args
    if len(args) != 1 or request.is_json:
        return None
    values = args.getlist(key)
    return values[0] if len(values) == 1 else None


def plain_strings(schema: type[Schema]) -> tuple[frozenset[str], dict]:
    """The fields of `schema` whose load is the string given (String, no validator, no
    data_key), and every field's load default: what plain_body needs, computed once a view."""
    declared = schema._declared_fields
    names = frozenset(
        name
        for name, field in declared.items()
        if type(field) is fields.String and not field.validators and field.data_key is None
    )
    defaults = {name: field.load_default for name, field in declared.items()}
    return names, defaults


def plain_body(request: Request, strings: tuple[frozenset[str], dict]) -> dict | None:
    """What @bp.input(schema, location="json_or_form") would load when every parameter given
    (query, form or JSON object) is one of `strings`' plain string fields, once, as a string:
    those strings over the schema's defaults. None for anything else, which the caller hands
    to parse_body (the schema's errors included). For a hot view whose webargs parse costs
    more than reading the form (POST /api/v1/statuses)."""
    names, defaults = strings
    given = merged_params(request)
    if not given.keys() <= names or not all(type(value) is str for value in given.values()):
        return None
    data = {name: value() if callable(value) else value for name, value in defaults.items()}
    data.update(given)
    return data


def parse_body(schema: type[Schema]) -> dict:
    """The parameters loaded through `schema` as @bp.input(schema, location="json_or_form")
    loads them, with the same error answers."""
    from flask import request

    return parser.parse(schema(), request, location="json_or_form")


def parse_query(schema: type[Schema]) -> dict:
    """The query loaded through `schema` as @bp.input(schema, location="query") loads it, with
    the same error answers."""
    from flask import request

    return parser.parse(schema(), request, location="query")
