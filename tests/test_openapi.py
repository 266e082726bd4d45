"""The OpenAPI document (openapi.py, api_schemas.py): complete, consistent, documentation only."""

from __future__ import annotations

import re

import pytest
from apiflask import APIFlask
from flask import Flask
from flask.testing import FlaskClient

import api_schemas
from openapi import responds

_SKIPPED_ENDPOINTS = ("static", "openapi.spec", "openapi.docs", "openapi.swagger_ui_oauth_redirect")
_METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
def spec(client: FlaskClient) -> dict:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def _operations(spec: dict) -> list[tuple[str, str, dict]]:
    return [
        (path, method, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in _METHODS
    ]


def test_openapi_json_is_openapi_3_1(spec: dict) -> None:
    assert spec["openapi"] == "3.1.0"
    assert spec["info"]["title"] == "Kenoma"


def test_every_route_is_an_operation(app: Flask, spec: dict) -> None:
    documented = {(path, method) for path, method, _ in _operations(spec)}
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in _SKIPPED_ENDPOINTS:
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            if (path, method.lower()) not in documented:
                missing.append(f"{method} {path}")
    assert missing == []
    # Both Pleroma prefixes are described.
    assert ("/api/v1/pleroma/emoji/packs", "get") in documented
    assert ("/api/pleroma/emoji/packs", "get") in documented


def test_every_operation_documents_its_success_answer(spec: dict) -> None:
    undocumented = []
    for path, method, op in _operations(spec):
        # 101: the streaming websocket's answer.
        successes = {code: r for code, r in op["responses"].items() if code[0] in "123"}
        described = [
            r
            for r in successes.values()
            # A body-less answer (204, 302) or a body with a schema; not APIFlask's empty default.
            if "content" not in r or all(media.get("schema") for media in r["content"].values())
        ]
        if not described or any(r.get("description") == "Successful response" for r in successes.values()):
            undocumented.append(f"{method.upper()} {path}")
    assert undocumented == []


def test_every_operation_has_a_summary(spec: dict) -> None:
    assert [f"{m} {p}" for p, m, op in _operations(spec) if not op.get("summary")] == []


def test_error_answers_are_error_objects(spec: dict) -> None:
    schemas = spec["components"]["schemas"]
    assert schemas["Error"]["required"] == ["error"]
    assert "HTTPError" not in schemas and "ValidationError" not in schemas
    for path, method, op in _operations(spec):
        for code, response in op["responses"].items():
            if code[0] not in "45":
                continue
            media = response["content"]
            # The login pages (and the healthcheck's 503) answer in their own format.
            if "application/json" in media and not path.endswith("/healthcheck"):
                assert media["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}, (
                    method,
                    path,
                )


def test_auth_is_documented_with_its_403(spec: dict) -> None:
    home = spec["paths"]["/api/v1/timelines/home"]["get"]
    assert {"OAuth2": ["read:statuses"]} in home["security"]
    assert {} not in home["security"]
    assert "403" in home["responses"]
    public = spec["paths"]["/api/v1/timelines/public"]["get"]
    assert {} in public["security"]  # anonymous readers are welcome
    assert "security" not in spec["paths"]["/api/v1/instance"]["get"]
    assert set(spec["components"]["securitySchemes"]) == {"OAuth2", "HTTPBasic", "SessionCookie"}


def test_statuses_each_kind_of_route_can_answer(spec: dict) -> None:
    status = spec["paths"]["/api/v1/statuses/{status_id}/favourite"]["post"]["responses"]
    assert {"200", "403", "404"} <= set(status)
    post = spec["paths"]["/api/v1/statuses"]["post"]["responses"]
    assert {"200", "400", "403", "413", "422"} <= set(post)
    token = spec["paths"]["/oauth/token"]["post"]["responses"]
    assert "429" in token  # rate limited (ratelimits.py)
    assert "422" in spec["paths"]["/api/v1/apps"]["post"]["responses"]  # an over-long client_name


def test_entities_are_described(spec: dict) -> None:
    schemas = spec["components"]["schemas"]
    for name in (
        "Account",
        "Relationship",
        "Status",
        "Notification",
        "Conversation",
        "Attachment",
        "Emoji",
        "Pack",
        "Scrobble",
        "Backup",
        "Token",
        "App",
        "InstanceV1",
        "Nodeinfo",
    ):
        assert name in schemas, name
    account = schemas["Account"]
    assert account["properties"]["id"]["type"] == "string"  # ids leave the server as strings
    assert "null" in account["properties"]["last_status_at"]["type"]
    assert account["additionalProperties"] is True  # clients must accept extra keys
    status = spec["paths"]["/api/v1/statuses/{status_id}"]["get"]["responses"]["200"]
    assert status["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Status"}
    timeline = spec["paths"]["/api/v1/timelines/home"]["get"]["responses"]["200"]
    assert timeline["content"]["application/json"]["schema"]["items"] == {
        "$ref": "#/components/schemas/Status"
    }
    assert "Link" in timeline["headers"]


def test_uploads_are_multipart(spec: dict) -> None:
    body = spec["paths"]["/api/v1/media"]["post"]["requestBody"]["content"]
    assert list(body) == ["multipart/form-data"]
    statuses = spec["paths"]["/api/v1/statuses"]["post"]["requestBody"]["content"]
    assert "application/json" in statuses and "application/x-www-form-urlencoded" in statuses


def test_oauth_parameters_are_documented(spec: dict) -> None:
    token = spec["paths"]["/oauth/token"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert token == {"$ref": "#/components/schemas/TokenIn"}
    assert "grant_type" in spec["components"]["schemas"]["TokenIn"]["required"]
    authorize = spec["paths"]["/oauth/authorize"]["get"]
    assert {p["name"] for p in authorize["parameters"]} >= {"client_id", "redirect_uri", "scope"}


def test_responds_documents_without_reserialising() -> None:
    """A declared schema never filters what the view returns (unlike APIFlask's output)."""
    app = APIFlask(__name__)

    @app.get("/probe")
    @responds(api_schemas.Relationship)
    def probe() -> dict:
        return {"id": "1", "unlisted_key": {"kept": True}}

    assert app.test_client().get("/probe").get_json() == {"id": "1", "unlisted_key": {"kept": True}}
    described = app.spec["paths"]["/probe"]["get"]["responses"]["200"]["content"]["application/json"]
    assert described["schema"] == {"$ref": "#/components/schemas/Relationship"}
