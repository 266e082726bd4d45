from __future__ import annotations

import json

import pytest
from itsdangerous import URLSafeTimedSerializer

from app import create_app
from models import db


@pytest.fixture
def captcha_app(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "JOBS_IMMEDIATE": True,
            "REGISTRATIONS_OPEN": True,
            "CAPTCHA_ENABLED": True,
        }
    )
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()


def _answer(app, captcha):
    sealer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=f"captcha:{captcha['token']}")
    return sealer.loads(captcha["answer_data"])


def _register(client, app_token, **extra):
    return client.post(
        "/api/v1/accounts",
        data={"username": "newbie", "password": "pw-pw-pw", "agreement": "true", **extra},
        headers={"Authorization": f"Bearer {app_token}"},
    )


@pytest.fixture
def app_token(captcha_app):
    client = captcha_app.test_client()
    registered = client.post(
        "/api/v1/apps",
        data={"client_name": "c", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read write"},
    ).get_json()
    token = client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": registered["client_id"],
            "client_secret": registered["client_secret"],
        },
    ).get_json()
    return token["access_token"]


def test_captcha_disabled_answers_type_none(client):
    for prefix in ("/api/v1/pleroma", "/api/pleroma"):
        response = client.get(f"{prefix}/captcha")
        assert response.status_code == 200
        assert response.get_json() == {"type": "none"}


def test_captcha_native_shape(captcha_app):
    body = captcha_app.test_client().get("/api/v1/pleroma/captcha").get_json()
    assert body["type"] == "native"
    assert body["url"].startswith("data:image/png;base64,")
    assert body["seconds_valid"] == 300
    assert body["token"] and body["answer_data"]


def test_registration_with_solved_captcha_then_reuse_refused(captcha_app, app_token):
    client = captcha_app.test_client()
    captcha = client.get("/api/v1/pleroma/captcha").get_json()
    fields = {
        "captcha_token": captcha["token"],
        "captcha_solution": _answer(captcha_app, captcha),
        "captcha_answer_data": captcha["answer_data"],
    }
    response = _register(client, app_token, **fields)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["access_token"]
    again = _register(client, app_token, **fields, username="other")
    assert again.status_code == 400
    assert json.loads(again.get_json()["error"]) == {"captcha": ["CAPTCHA already used"]}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"captcha_solution": "wrong"}, "Invalid CAPTCHA"),
        ({"captcha_answer_data": "tampered"}, "Invalid answer data"),
        ({"captcha_token": ""}, "Invalid CAPTCHA (Missing parameter: captcha_token)"),
    ],
)
def test_registration_captcha_errors(captcha_app, app_token, change, message):
    client = captcha_app.test_client()
    captcha = client.get("/api/v1/pleroma/captcha").get_json()
    fields = {
        "captcha_token": captcha["token"],
        "captcha_solution": _answer(captcha_app, captcha),
        "captcha_answer_data": captcha["answer_data"],
    } | change
    response = _register(client, app_token, **fields)
    assert response.status_code == 400
    assert json.loads(response.get_json()["error"]) == {"captcha": [message]}


def test_registration_captcha_expired(captcha_app, app_token):
    captcha_app.config["CAPTCHA_SECONDS_VALID"] = -1
    client = captcha_app.test_client()
    captcha = client.get("/api/v1/pleroma/captcha").get_json()
    response = _register(
        client,
        app_token,
        captcha_token=captcha["token"],
        captcha_solution=_answer(captcha_app, captcha),
        captcha_answer_data=captcha["answer_data"],
    )
    assert json.loads(response.get_json()["error"]) == {"captcha": ["CAPTCHA expired"]}
