"""POST /api/kenoma/testing/reset (SPEC 27, 29): KENOMA_TESTING=true and loopback callers only."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlalchemy import select

from models import Account
from models import db

URL = "/api/kenoma/testing/reset"


def _accounts() -> int:
    return db.session.scalar(select(func.count()).select_from(Account))


@pytest.fixture
def enabled(app: Flask, account: Account) -> Flask:
    app.config["TESTING_API"] = True
    return app


def test_absent_unless_enabled(client: FlaskClient, account: Account) -> None:
    response = client.post(URL)
    assert response.status_code == 404 and response.get_json() == {"error": "Not found"}
    assert _accounts() == 1


def test_resets_for_a_loopback_caller(client: FlaskClient, enabled: Flask, alice_h: dict) -> None:
    for address in ("127.0.0.1", "::1"):
        response = client.post(URL, environ_base={"REMOTE_ADDR": address})
        assert response.status_code == 200 and response.get_json() == {}
        assert _accounts() == 0
    # The old token is gone with its account.
    assert client.get("/api/v1/accounts/verify_credentials", headers=alice_h).status_code == 403


@pytest.mark.parametrize(
    ("address", "headers"),
    [
        ("192.0.2.7", {}),
        ("10.0.0.1", {}),
        ("127.0.0.1", {"X-Forwarded-For": "203.0.113.9"}),
        ("127.0.0.1", {"X-Real-IP": "203.0.113.9"}),
        ("127.0.0.1", {"Forwarded": "for=203.0.113.9"}),
    ],
)
def test_refused_to_anyone_else(client: FlaskClient, enabled: Flask, address: str, headers: dict) -> None:
    response = client.post(URL, headers=headers, environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 404 and response.get_json() == {"error": "Not found"}
    assert _accounts() == 1


def test_only_post(client: FlaskClient, enabled: Flask) -> None:
    assert client.get(URL).status_code == 405
    assert _accounts() == 1


def test_kenoma_testing_env_turns_it_on(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from app import create_app

    monkeypatch.setenv("KENOMA_TESTING", "true")
    assert create_app({"INSTANCE_PATH": str(tmp_path / "on")}).config["TESTING_API"] is True
    monkeypatch.setenv("KENOMA_TESTING", "false")
    assert create_app({"INSTANCE_PATH": str(tmp_path / "off")}).config["TESTING_API"] is False
