"""Every error is JSON `{"error": ...}` with application/json, never an HTML page or a traceback
(SPEC 1.4, CLIENTS.md 4.7)."""

from __future__ import annotations

from pathlib import Path

import pytest
from apiflask import APIBlueprint
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app import create_app
from errors import ApiError
from errors import abort_json
from models import db
from params import Params


def _assert_json_error(response: TestResponse, status: int, message: str | None = None) -> dict:
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert isinstance(body, dict)
    assert isinstance(body.get("error"), str) and body["error"]
    if message is not None:
        assert body["error"] == message
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "<html" not in text.lower()
    return body


@pytest.fixture
def probe_app(tmp_path: Path) -> Flask:
    """An app with throwaway routes that fail in each way a view can."""
    from marshmallow import fields

    made = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "probe")})
    bp = APIBlueprint("probe", __name__, url_prefix="/probe")

    class ProbeIn(Params):
        name = fields.String(required=True)
        count = fields.Integer(load_default=1)

    @bp.get("/boom")
    def boom() -> dict:
        raise RuntimeError("secret detail /etc/passwd")

    @bp.get("/zero")
    def zero() -> dict:
        return {"value": 1 // 0}

    @bp.get("/api-error")
    def api_error() -> dict:
        raise ApiError(422, "Cannot do that", identifier="nope")

    @bp.get("/abort")
    def aborted() -> dict:
        abort_json(404, "Record not found")

    @bp.post("/input")
    @bp.input(ProbeIn, location="json_or_form", arg_name="data")
    def with_input(data: dict) -> dict:
        return data

    made.register_blueprint(bp)
    with made.app_context():
        db.create_all()
    yield made
    with made.app_context():
        db.engine.dispose()


@pytest.fixture
def probe(probe_app: Flask) -> FlaskClient:
    return probe_app.test_client()


def test_unknown_route_is_json_404(client: FlaskClient) -> None:
    _assert_json_error(client.get("/api/v1/no_such_thing"), 404, "Not found")
    _assert_json_error(client.post("/nowhere/at/all", data={"a": "b"}), 404, "Not found")


def test_unknown_pleroma_route_is_json_404(client: FlaskClient) -> None:
    _assert_json_error(client.get("/api/v1/pleroma/no_such_thing"), 404, "Not found")
    _assert_json_error(client.get("/api/pleroma/no_such_thing/"), 404, "Not found")


def test_wrong_method_is_json_405(client: FlaskClient) -> None:
    body = _assert_json_error(client.delete("/api/v1/apps"), 405)
    assert body["error"] == "Method not allowed"
    _assert_json_error(client.get("/oauth/token"), 405, "Method not allowed")


def test_unexpected_exception_is_json_500_without_traceback(probe: FlaskClient) -> None:
    response = probe.get("/probe/boom")
    _assert_json_error(response, 500, "Internal server error")
    assert "secret detail" not in response.get_data(as_text=True)
    assert "RuntimeError" not in response.get_data(as_text=True)
    _assert_json_error(probe.get("/probe/zero"), 500, "Internal server error")


def test_unexpected_exception_is_logged(probe: FlaskClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("ERROR"):
        probe.get("/probe/boom")
    # The operator keeps the traceback even though the client never sees it.
    assert any(record.exc_info and "secret detail" in str(record.exc_info[1]) for record in caplog.records)


def test_api_error_keeps_status_message_and_extra_keys(probe: FlaskClient) -> None:
    body = _assert_json_error(probe.get("/probe/api-error"), 422, "Cannot do that")
    assert body == {"error": "Cannot do that", "identifier": "nope"}
    _assert_json_error(probe.get("/probe/abort"), 404, "Record not found")


def test_missing_required_field_uses_pleroma_wording(probe: FlaskClient) -> None:
    _assert_json_error(probe.post("/probe/input", data={}), 400, "Missing field: name.")
    _assert_json_error(probe.post("/probe/input", json={"count": 3}), 400, "Missing field: name.")


def test_bad_type_names_the_field(probe: FlaskClient) -> None:
    body = _assert_json_error(probe.post("/probe/input", data={"name": "x", "count": "many"}), 400)
    assert body["error"].startswith("count - ")


def test_valid_input_reaches_the_view(probe: FlaskClient) -> None:
    response = probe.post("/probe/input", json={"name": "x", "count": "7"})
    assert response.status_code == 200
    assert response.get_json() == {"name": "x", "count": 7}


def test_malformed_json_body_is_json_400(client: FlaskClient) -> None:
    response = client.post("/api/v1/apps", data="{not json", content_type="application/json")
    _assert_json_error(response, 400)


def test_request_too_large_is_json_413(tmp_path: Path) -> None:
    small = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "small"), "UPLOAD_LIMIT": 1024})
    body = b"x" * (small.config["MAX_CONTENT_LENGTH"] + 10)
    response = small.test_client().post(
        "/api/v1/apps",
        data={"client_name": "big", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "blob": body.decode()},
    )
    _assert_json_error(response, 413, "File is too large")


def test_auth_failure_is_json_403(client: FlaskClient) -> None:
    _assert_json_error(client.get("/api/v1/accounts/verify_credentials"), 403, "Invalid credentials.")
    response = client.get("/api/v1/accounts/verify_credentials", headers={"Authorization": "Bearer nope"})
    _assert_json_error(response, 403, "Invalid credentials.")
