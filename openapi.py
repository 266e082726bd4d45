"""The OpenAPI document (/openapi.json): response declarations for views, and the pass that fills
in what every operation shares (security, error answers, upload bodies).

Views return plain dicts from the serializers package. `@responds` only *documents* the answer:
unlike APIFlask's `@bp.output`, it never dumps the returned value through a schema (that would
silently drop keys the schema does not list). Decorator order: route, require_auth, input, responds.

```python
@bp.get("/<status_id>")
@require_auth("read:statuses", optional=True)
@responds(api_schemas.Status)
def show_status(status_id: str) -> dict: ...
```
"""

from __future__ import annotations

import re
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from apiflask import APIFlask
from apiflask.scaffold import _annotate
from flask_limiter.util import get_qualified_name
from werkzeug.routing import Rule

import ratelimits
import scopes as scope_rules

ERROR_REF = {"$ref": "#/components/schemas/Error"}
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}},
    "additionalProperties": True,
    "description": '`{"error": "<message>"}`; some answers add keys (`mfa_token`, `identifier`).',
}
_PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
_METHODS = ("get", "post", "put", "patch", "delete")
SECURITY_SCHEMES = {
    "OAuth2": {
        "type": "oauth2",
        "description": "A token from /oauth/token, sent as `Authorization: Bearer <token>`.",
        "flows": {
            "password": {"tokenUrl": "/oauth/token", "scopes": {}},
            "authorizationCode": {
                "authorizationUrl": "/oauth/authorize",
                "tokenUrl": "/oauth/token",
                "scopes": {},
            },
        },
    },
    "HTTPBasic": {"type": "http", "scheme": "basic", "description": "nickname or e-mail, and password"},
    "SessionCookie": {"type": "apiKey", "in": "cookie", "name": "_pleroma_key"},
}
# Statuses every operation of a kind may answer, besides those its view declares.
BODY_ERRORS = (413,)  # MAX_CONTENT_LENGTH


def answer(
    schema: Any = None,
    status: int = 200,
    *,
    many: bool = False,
    content_type: str = "application/json",
    description: str | None = None,
    headers: dict | None = None,
) -> dict[str, Any]:
    """One OpenAPI response object: `schema` is a response schema class from api_schemas or a
    JSON Schema dict, None for an answer without a body."""
    response: dict[str, Any] = {"description": description or HTTPStatus(status).phrase}
    if schema is not None:
        if isinstance(schema, type):
            schema = schema(many=many)
        elif many:
            schema = {"type": "array", "items": schema}
        response["content"] = {content_type: {"schema": schema}}
    if headers:
        response["headers"] = headers
    return response


def documents_query(schema: type) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Name `schema` as the view's query parameters, as @bp.input(schema, location="query")
    does, for a view that reads its query itself (params.single_query_value / parse_query)."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        _annotate(view, args=[*(getattr(view, "_spec", {}).get("args") or []), (schema(), "query")])
        return view

    return decorator


def documents_body(schema: type) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Name `schema` as the view's form or JSON body, as @bp.input(schema,
    location="json_or_form") does, for a view that reads its body itself (params.plain_body /
    parse_body)."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        content_type = ["application/x-www-form-urlencoded", "application/json"]
        _annotate(view, body=schema(), body_example=None, body_examples=None, content_type=content_type)
        return view

    return decorator


def responds(
    schema: Any = None,
    *errors: int,
    status: int = 200,
    many: bool = False,
    content_type: str = "application/json",
    description: str | None = None,
    headers: dict | None = None,
    also: dict[int, dict] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Document the view's success answer (see `answer`), the error statuses it may give
    besides those complete() adds for every operation of its kind (their body is an `Error`),
    and in `also` other answers whose body is not an `Error` (`{status: answer(...)}`)."""
    success = answer(
        schema, status, many=many, content_type=content_type, description=description, headers=headers
    )
    declared: dict[int, Any] = {status: success}
    for code in errors:
        declared[code] = HTTPStatus(code).phrase
    declared.update(also or {})

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        existing = getattr(view, "_spec", {}).get("responses") or {}
        if isinstance(existing, list):
            existing = {code: HTTPStatus(code).phrase for code in existing}
        _annotate(view, responses={**existing, **declared})
        return view

    return decorator


# The Link header of paged lists (SPEC 1.5).
LINK_HEADER = {"Link": {"description": "next (older) and prev (newer) pages", "schema": {"type": "string"}}}
LOCATION_HEADER = {"Location": {"description": "where the client goes next", "schema": {"type": "string"}}}


def paged(schema: Any, *errors: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A paged list of `schema` with its Link header."""
    return responds(schema, *errors, many=True, headers=LINK_HEADER)


# ---------------------------------------------------------------------------------------------
# The whole-document pass


def init_app(app: APIFlask) -> None:
    # Validation and HTTP errors share the one error shape (errors.py); the components
    # APIFlask registers for them are replaced by `Error` below.
    app.config["VALIDATION_ERROR_SCHEMA"] = ERROR_SCHEMA
    app.config["HTTP_ERROR_SCHEMA"] = ERROR_SCHEMA
    app.config["SECURITY_SCHEMES"] = SECURITY_SCHEMES
    app.spec_processor(lambda spec: complete(app, spec))


def _openapi_path(rule: Rule) -> str:
    return _PARAM.sub(r"{\1}", rule.rule)


def complete(app: APIFlask, spec: dict) -> dict:
    """Add to every operation: its security, the errors its kind can answer, and upload bodies
    as multipart; every error answer is an `Error`."""
    components = spec.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.pop("HTTPError", None)
    schemas.pop("ValidationError", None)
    schemas["Error"] = ERROR_SCHEMA
    scopes = {name: name for name in sorted(scope_rules.VALID)}
    for flow in components.get("securitySchemes", {}).get("OAuth2", {}).get("flows", {}).values():
        flow["scopes"] = scopes
    views: dict[tuple[str, str], Callable[..., Any]] = {}
    for rule in app.url_map.iter_rules():
        for method in rule.methods or ():
            views[(_openapi_path(rule), method.lower())] = app.view_functions[rule.endpoint]
    limited = _rate_limited()
    for path, item in spec.get("paths", {}).items():
        for method, operation in item.items():
            if method not in _METHODS:
                continue
            view = views.get((path, method))
            throttled = view is not None and get_qualified_name(view) in limited
            _complete_operation(operation, view, path, schemas, throttled)
    return spec


def _rate_limited() -> set[str]:
    """Names of the views with a Flask-Limiter limit (ratelimits.py), also when an instance
    turns the limits off. Flask-Limiter keeps the names of decorated views in a private set;
    should that move, 429 is just not documented."""
    return set(getattr(ratelimits.limiter, "_marked_for_limiting", ()))


def _complete_operation(operation: dict, view: Any, path: str, schemas: dict, throttled: bool) -> None:
    responses = operation.setdefault("responses", {})
    extra: set[int] = {429} if throttled else set()
    requirement = getattr(view, "auth_requirement", None)
    if requirement is not None:
        required, optional, admin = requirement
        operation["security"] = [
            {"OAuth2": list(required)},
            {"HTTPBasic": []},
            {"SessionCookie": []},
            *([{}] if optional else []),
        ]
        if not optional or admin:
            extra.add(403)
    if "{" in path:
        extra.add(404)
    body = operation.get("requestBody")
    if body:
        extra.update(BODY_ERRORS)
        _uploads_as_multipart(body, schemas)
    inputs = [p.get("schema", {}) for p in operation.get("parameters", [])]
    inputs += [media.get("schema", {}) for media in (body or {}).get("content", {}).values()]
    if any(_has_max_length(schema, schemas) for schema in inputs):
        extra.add(422)  # an over-long field (params.Length, errors.py)
    for code in sorted(extra):
        responses.setdefault(str(code), {"description": HTTPStatus(code).phrase})
    for code, response in responses.items():
        if code[0] in "45" and _default_error_body(response):
            response["content"] = {"application/json": {"schema": ERROR_REF}}
    operation["responses"] = dict(sorted(responses.items()))


def _has_max_length(schema: Any, schemas: dict, seen: frozenset[str] = frozenset()) -> bool:
    """Does the schema (following $refs, once each) limit the length of some string?"""
    if isinstance(schema, list):
        return any(_has_max_length(item, schemas, seen) for item in schema)
    if not isinstance(schema, dict):
        return False
    if "maxLength" in schema:
        return True
    ref = schema.get("$ref", "").rpartition("/")[2]
    if ref:
        return ref not in seen and _has_max_length(schemas.get(ref, {}), schemas, seen | {ref})
    return any(_has_max_length(value, schemas, seen) for value in schema.values())


def _default_error_body(response: dict) -> bool:
    """No body declared, or APIFlask's own error component: the answer is an `Error`."""
    content = response.get("content")
    if not content:
        return True
    schema = content.get("application/json", {}).get("schema", {})
    return schema.get("$ref", "").endswith(("/HTTPError", "/ValidationError"))


def _uploads_as_multipart(body: dict, schemas: dict) -> None:
    """A body with a file field is sent as multipart/form-data, the only way to carry a file."""
    content = body.get("content", {})
    any_media = next(iter(content.values()), {})
    ref = any_media.get("schema", {}).get("$ref", "")
    schema = schemas.get(ref.rpartition("/")[2], {})
    properties = schema.get("properties", {})
    if any(prop.get("format") == "binary" for prop in properties.values()):
        body["content"] = {"multipart/form-data": {"schema": {"$ref": ref}}}
