"""E-mail confirmation at registration (SPEC 26, 29: ACCOUNT_ACTIVATION_REQUIRED)."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlalchemy import select

from models import Account
from models import EmailConfirmationToken
from models import db

LINK = re.compile(r"http://127\.0\.0\.1:5000(/api/account/confirm_email/[0-9A-Za-z]+/[A-Za-z0-9_-]+)")
RESEND = "/api/v1/pleroma/accounts/confirmation_resend"


@pytest.fixture
def required(app: Flask) -> Flask:
    app.config["ACCOUNT_ACTIVATION_REQUIRED"] = True
    return app


def _mails(app: Flask) -> list[str]:
    folder = Path(app.instance_path) / "mail"
    return [path.read_text() for path in sorted(folder.glob("*"))] if folder.exists() else []


def _links(app: Flask) -> list[str]:
    return [found.group(1) for mail in _mails(app) for found in LINK.finditer(mail)]


def _app_token(client: FlaskClient, oauth_app: dict) -> str:
    data = {
        "grant_type": "client_credentials",
        "client_id": oauth_app["client_id"],
        "client_secret": oauth_app["client_secret"],
    }
    return client.post("/oauth/token", data=data).get_json()["access_token"]


def _register(client: FlaskClient, oauth_app: dict, **extra: str):
    data = {"username": "newbie", "password": "pw-pw-pw", "agreement": "true", **extra}
    headers = {"Authorization": f"Bearer {_app_token(client, oauth_app)}"}
    return client.post("/api/v1/accounts", data=data, headers=headers)


def _login(client: FlaskClient, oauth_app: dict, username: str = "newbie", password: str = "pw-pw-pw"):
    data = {
        "grant_type": "password",
        "client_id": oauth_app["client_id"],
        "client_secret": oauth_app["client_secret"],
        "username": username,
        "password": password,
    }
    return client.post("/oauth/token", data=data)


def _newbie() -> Account:
    account = Account.find_local("newbie")
    db.session.refresh(account)
    return account


def test_register_without_confirmation_logs_in_at_once(
    client: FlaskClient, app: Flask, oauth_app: dict
) -> None:
    response = _register(client, oauth_app, email="n@example.org")
    assert response.status_code == 200
    assert "access_token" in response.get_json()
    assert _newbie().is_confirmed is True
    assert _mails(app) == []


def test_register_with_confirmation_mails_a_link_and_gives_no_token(
    client: FlaskClient, required: Flask, oauth_app: dict
) -> None:
    response = _register(client, oauth_app, email="n@example.org")
    assert response.status_code == 200
    assert response.get_json() == {
        "message": "You have been registered. Please check your email for further instructions.",
        "identifier": "missing_confirmed_email",
    }
    account = _newbie()
    assert account.is_confirmed is False
    (link,) = _links(required)
    assert link.startswith(f"/api/account/confirm_email/{account.id}/")
    assert "n@example.org" in _mails(required)[0]
    # Only the hash of the secret is stored.
    stored = db.session.scalar(select(EmailConfirmationToken.token_hash))
    assert stored not in link and len(stored) == 64


def test_register_with_confirmation_needs_an_email(
    client: FlaskClient, required: Flask, oauth_app: dict
) -> None:
    response = _register(client, oauth_app)
    assert response.status_code == 400
    assert response.get_json() == {"error": "Missing parameter: email"}
    assert Account.find_local("newbie") is None


def test_unconfirmed_account_cannot_log_in_until_the_link_is_opened(
    client: FlaskClient, required: Flask, oauth_app: dict
) -> None:
    _register(client, oauth_app, email="n@example.org")
    response = _login(client, oauth_app)
    assert response.status_code == 403
    assert response.get_json() == {
        "error": "Your login is missing a confirmed e-mail address",
        "identifier": "missing_confirmed_email",
    }
    basic = base64.b64encode(b"newbie:pw-pw-pw").decode()
    verify = client.get("/api/v1/accounts/verify_credentials", headers={"Authorization": f"Basic {basic}"})
    assert verify.status_code == 403
    assert verify.get_json() == {"error": "Invalid credentials."}

    (link,) = _links(required)
    opened = client.get(link)
    assert opened.status_code == 302
    assert opened.headers["Location"] == "/"
    assert _newbie().is_confirmed is True
    assert _login(client, oauth_app).status_code == 200
    # One use only.
    again = client.get(link)
    assert again.status_code == 404
    assert again.get_json() == {"error": "This confirmation link is not valid."}


def test_wrong_or_foreign_links_confirm_nothing(
    client: FlaskClient, required: Flask, oauth_app: dict, account: Account
) -> None:
    _register(client, oauth_app, email="n@example.org")
    (link,) = _links(required)
    token = link.rsplit("/", 1)[1]
    for path in (
        f"/api/account/confirm_email/{_newbie().id}/not-the-token",
        f"/api/account/confirm_email/{account.id}/{token}",  # someone else's id with the secret
        f"/api/account/confirm_email/nobody/{token}",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
    assert _newbie().is_confirmed is False


def test_turning_the_setting_off_lets_unconfirmed_accounts_in(
    client: FlaskClient, required: Flask, oauth_app: dict
) -> None:
    _register(client, oauth_app, email="n@example.org")
    required.config["ACCOUNT_ACTIVATION_REQUIRED"] = False
    assert _login(client, oauth_app).status_code == 200


def test_confirmation_resend_sends_a_new_link_and_reveals_nothing(
    client: FlaskClient, required: Flask, oauth_app: dict, account: Account
) -> None:
    _register(client, oauth_app, email="n@example.org")
    (first,) = _links(required)
    for data in ({"email": "n@example.org"}, {"email": "unknown@example.org"}, {"nickname": "alice"}, {}):
        response = client.post(f"{RESEND}?{'&'.join(f'{k}={v}' for k, v in data.items())}")
        assert response.status_code == 204
        assert response.data == b""
    # One more mail, for the unconfirmed account only (alice is confirmed; the other is unknown).
    links = _links(required)
    assert len(links) == 2
    # Mail file names do not sort by time: the new link is the one that is not the first.
    (second,) = set(links) - {first}
    assert client.get(first).status_code == 404  # the earlier link ended with the new one
    assert client.get(second).status_code == 302
    assert _newbie().is_confirmed is True
    assert client.post(RESEND, data={"email": "n@example.org"}).status_code == 204
    assert len(_links(required)) == 2  # confirmed: nothing more is sent
    assert db.session.scalar(select(func.count()).select_from(EmailConfirmationToken)) == 0


def test_nodeinfo_reflects_the_setting(client: FlaskClient, app: Flask) -> None:
    def flags() -> tuple:
        nodeinfo = client.get("/nodeinfo/2.0.json").get_json()["metadata"]["accountActivationRequired"]
        instance = client.get("/api/v1/instance").get_json()["pleroma"]["metadata"][
            "account_activation_required"
        ]
        return nodeinfo, instance

    assert flags() == (False, False)
    app.config["ACCOUNT_ACTIVATION_REQUIRED"] = True
    assert flags() == (True, True)


def test_form_login_of_an_unconfirmed_account_is_refused(
    client: FlaskClient, required: Flask, oauth_app: dict
) -> None:
    _register(client, oauth_app, email="n@example.org")
    response = client.post(
        "/oauth/authorize",
        data={
            "client_id": oauth_app["client_id"],
            "redirect_uri": "urn:ietf:wg:oauth:2.0:oob",
            "response_type": "code",
            "scope": "read",
            "username": "newbie",
            "password": "pw-pw-pw",
        },
    )
    assert response.status_code == 403
    assert "missing a confirmed e-mail address" in response.get_data(as_text=True)
