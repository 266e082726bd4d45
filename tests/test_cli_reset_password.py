"""`flask --app app user reset-password NICK` (SPEC 29): prints a one-use reset link."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from models import Account
from models import db
from services.passwords import check_password
from tests.conftest import BASE_URL


def _flask(app: Flask, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=list(args))
    return result.exit_code, result.output


def test_user_reset_password_prints_a_link_that_works_once(
    app: Flask, client: FlaskClient, account: Account
) -> None:
    code, output = _flask(app, "user", "reset-password", "alice")
    assert code == 0, output
    link = output.strip()
    assert output.count("\n") == 1
    assert link.startswith(f"{BASE_URL}/api/v1/pleroma/password_reset/")
    path = link.removeprefix(BASE_URL)
    token = path.rsplit("/", 1)[1]
    assert client.get(path).status_code == 200
    data = {"token": token, "password": "from-cli-pw", "password_confirmation": "from-cli-pw"}
    assert client.post("/api/v1/pleroma/password_reset", data=data).status_code == 200
    assert client.post("/api/v1/pleroma/password_reset", data=data).status_code == 410
    db.session.refresh(account)
    assert check_password(account, "from-cli-pw")


def test_user_reset_password_unknown_nickname_fails(app: Flask) -> None:
    code, output = _flask(app, "user", "reset-password", "nobody")
    assert code == 1
    assert "no local account named nobody" in output


def test_user_reset_password_refuses_a_disabled_account(app: Flask, account: Account) -> None:
    account.is_active = False
    db.session.commit()
    code, output = _flask(app, "user", "reset-password", "alice")
    assert code == 1
    assert "disabled" in output
