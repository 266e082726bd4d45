"""Password reset (SPEC 26): POST /api/v1/pleroma/password_reset and /auth/password ask for a link
(204 either way), the e-mailed link opens a form, the form sets the password once."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from models import Account
from models import db
from models import utcnow
from services import password_reset
from services.passwords import check_password
from tests.conftest import BASE_URL

LINK = re.compile(r"http://127\.0\.0\.1:5000/api/v1/pleroma/password_reset/([A-Za-z0-9_-]+)")
REQUEST_PATHS = ("/api/v1/pleroma/password_reset", "/api/pleroma/password_reset")


def _mails(app: Flask) -> list[str]:
    folder = Path(app.instance_path) / "mail"
    return [path.read_text() for path in sorted(folder.glob("*"))] if folder.exists() else []


def _token_from_mail(app: Flask) -> str:
    mails = _mails(app)
    assert len(mails) == 1
    found = LINK.search(mails[0])
    assert found is not None, mails[0]
    return found.group(1)


def _login(client: FlaskClient, oauth_app: dict, password: str) -> int:
    data = {
        "grant_type": "password",
        "client_id": oauth_app["client_id"],
        "client_secret": oauth_app["client_secret"],
        "username": "alice",
        "password": password,
    }
    return client.post("/oauth/token", data=data).status_code


def _submit(client: FlaskClient, token: str, password: str, confirmation: str | None = None):
    data = {"token": token, "password": password, "password_confirmation": confirmation or password}
    return client.post("/api/v1/pleroma/password_reset", data=data)


def _comparable(response) -> tuple:
    headers = {k: v for k, v in response.headers.items() if k.lower() != "date"}
    return response.status_code, response.data, headers


# ---------------------------------------------------------------------------------------------
# Asking for a link


@pytest.mark.parametrize("path", REQUEST_PATHS)
def test_password_reset_known_and_unknown_answer_alike(app, client, account, path):
    unknown = client.post(path, data={"email": "nobody@example.org"})
    assert _mails(app) == []
    known = client.post(path, data={"email": "alice@example.org"})
    assert known.status_code == 204
    assert _comparable(known) == _comparable(unknown)
    mails = _mails(app)
    assert len(mails) == 1
    assert "To: alice@example.org" in mails[0]
    assert LINK.search(mails[0])


def test_password_reset_by_nickname_and_json(app, client, account):
    assert client.post("/api/pleroma/password_reset", json={"nickname": "nobody"}).status_code == 204
    assert client.post("/api/pleroma/password_reset", json={"nickname": "alice"}).status_code == 204
    assert len(_mails(app)) == 1


def test_password_reset_without_address_is_204_and_sends_nothing(app, client, account):
    assert client.post("/api/v1/pleroma/password_reset", data={}).status_code == 204
    assert _mails(app) == []


def test_password_reset_sends_nothing_to_disabled_or_addressless_accounts(app, client, make_account):
    make_account("carol", email=None)
    dora = make_account("dora")
    dora.is_active = False
    db.session.commit()
    for body in ({"nickname": "carol"}, {"email": "dora@example.org"}, {"nickname": "dora"}):
        assert client.post("/api/v1/pleroma/password_reset", data=body).status_code == 204
    assert _mails(app) == []


def test_auth_password_takes_mastodons_form(app, client, account):
    response = client.post("/auth/password", data={"user[email]": "alice@example.org"})
    assert response.status_code == 204
    assert client.post("/auth/password", json={"user": {"email": "nobody@example.org"}}).status_code == 204
    assert client.post("/auth/password", data={"email": "nobody@example.org"}).status_code == 204
    assert len(_mails(app)) == 1


def test_password_reset_log_line_leaves_the_token_out(app, client, account, caplog):
    with caplog.at_level(logging.INFO):
        client.post("/api/v1/pleroma/password_reset", data={"email": "alice@example.org"})
    token = _token_from_mail(app)
    assert "alice@example.org" in caplog.text
    assert str(Path(app.instance_path) / "mail") in caplog.text
    assert token not in caplog.text


def test_password_reset_token_stored_hashed(app, client, account):
    client.post("/api/v1/pleroma/password_reset", data={"nickname": "alice"})
    token = _token_from_mail(app)
    stored = db.session.scalars(db.select(password_reset.PasswordResetToken.token_hash)).all()
    assert len(stored) == 1
    assert token not in stored[0]


def test_password_reset_is_rate_limited_per_address(tmp_path):
    (tmp_path / "emoji").mkdir()
    limited = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "EMOJI_DIR": str(tmp_path / "emoji"),
            "BASE_URL": BASE_URL,
            "JOBS_IMMEDIATE": True,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_PASSWORD_RESET": "2 per minute",
        }
    )
    with limited.app_context():
        db.create_all()
        client = limited.test_client()
        here = {"REMOTE_ADDR": "10.11.12.13"}
        for _ in range(2):
            response = client.post("/auth/password", data={"email": "x@example.org"}, environ_base=here)
            assert response.status_code == 204
        # One budget for both paths.
        response = client.post("/api/v1/pleroma/password_reset", data={"email": "x@y.org"}, environ_base=here)
        assert response.status_code == 429
        elsewhere = {"REMOTE_ADDR": "10.1.1.1"}
        assert (
            client.post("/auth/password", data={"email": "x@y.org"}, environ_base=elsewhere).status_code
            == 204
        )
        db.session.remove()
        db.engine.dispose()


# ---------------------------------------------------------------------------------------------
# The link and the form


def test_reset_link_sets_the_password_once(app, client, account, oauth_app, auth_headers):
    old_headers = auth_headers(account)
    browser = app.test_client()  # logged in through /oauth/token: a session cookie
    assert _login(browser, oauth_app, "secret-pw") == 200
    client.post("/api/v1/pleroma/password_reset", data={"email": "alice@example.org"})
    token = _token_from_mail(app)

    form = client.get(f"/api/v1/pleroma/password_reset/{token}")
    assert form.status_code == 200
    assert form.mimetype == "text/html"
    page = form.get_data(as_text=True)
    assert "<script" not in page
    assert 'action="/api/v1/pleroma/password_reset"' in page
    assert f'name="token" value="{token}"' in page
    assert "default-src 'none'" in form.headers["Content-Security-Policy"]

    done = _submit(client, token, "brand-new-pw")
    assert done.status_code == 200
    assert "has been changed" in done.get_data(as_text=True)

    # Every token issued before the reset has ended; the new password logs in, the old does not.
    assert client.get("/api/v1/accounts/verify_credentials", headers=old_headers).status_code == 403
    assert browser.get("/api/v1/accounts/verify_credentials").status_code == 403
    assert _login(app.test_client(), oauth_app, "brand-new-pw") == 200
    assert _login(app.test_client(), oauth_app, "secret-pw") != 200

    again = _submit(client, token, "another-pw-1")
    assert again.status_code == 410
    assert "already been used" in again.get_data(as_text=True)
    assert client.get(f"/api/v1/pleroma/password_reset/{token}").status_code == 410
    assert _login(app.test_client(), oauth_app, "brand-new-pw") == 200


def test_reset_form_under_the_legacy_prefix_posts_back_there(app, client, account):
    token = password_reset.new_reset_token(account)
    page = client.get(f"/api/pleroma/password_reset/{token}").get_data(as_text=True)
    assert 'action="/api/pleroma/password_reset"' in page
    assert (
        client.post(
            "/api/pleroma/password_reset",
            data={"token": token, "password": "legacy-pw-1", "password_confirmation": "legacy-pw-1"},
        ).status_code
        == 200
    )
    db.session.refresh(account)
    assert check_password(account, "legacy-pw-1")


def test_reset_link_expires_after_a_day(app, client, account, monkeypatch):
    token = password_reset.new_reset_token(account)
    later = utcnow() + timedelta(hours=24, minutes=1)
    monkeypatch.setattr(password_reset, "utcnow", lambda: later)
    form = client.get(f"/api/v1/pleroma/password_reset/{token}")
    assert form.status_code == 410
    assert "expired" in form.get_data(as_text=True)
    assert _submit(client, token, "too-late-pw").status_code == 410
    db.session.refresh(account)
    assert check_password(account, "secret-pw")


def test_reset_link_still_valid_just_before_a_day(app, client, account, monkeypatch):
    token = password_reset.new_reset_token(account)
    later = utcnow() + timedelta(hours=23, minutes=59)
    monkeypatch.setattr(password_reset, "utcnow", lambda: later)
    assert client.get(f"/api/v1/pleroma/password_reset/{token}").status_code == 200


def test_reset_form_refuses_mismatched_confirmation(app, client, account, oauth_app, auth_headers):
    headers = auth_headers(account)
    token = password_reset.new_reset_token(account)
    response = _submit(client, token, "first-pw-1", "second-pw-2")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "does not match" in page
    assert f'name="token" value="{token}"' in page  # the form is shown again
    blank = _submit(client, token, "", "")
    assert blank.status_code == 400
    # Nothing changed: the old password and token still work, and so does the link.
    assert _login(app.test_client(), oauth_app, "secret-pw") == 200
    assert client.get("/api/v1/accounts/verify_credentials", headers=headers).status_code == 200
    assert _submit(client, token, "first-pw-1").status_code == 200


def test_reset_unknown_token_is_404_page(client, account):
    response = client.get("/api/v1/pleroma/password_reset/not-a-token")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "not valid" in response.get_data(as_text=True)
    assert _submit(client, "not-a-token", "some-pw-1").status_code == 404


def test_reset_spends_the_accounts_other_links(app, client, account):
    first = password_reset.new_reset_token(account)
    second = password_reset.new_reset_token(account)
    assert _submit(client, second, "newest-pw-1").status_code == 200
    assert client.get(f"/api/v1/pleroma/password_reset/{first}").status_code == 404


def test_reset_link_of_a_disabled_account_is_refused(client, account):
    token = password_reset.new_reset_token(account)
    account.is_active = False
    db.session.commit()
    assert client.get(f"/api/v1/pleroma/password_reset/{token}").status_code == 404


def test_password_reset_row_goes_with_the_account(app, account):
    password_reset.new_reset_token(account)
    db.session.delete(db.session.get(Account, account.id))
    db.session.commit()
    assert db.session.scalars(db.select(password_reset.PasswordResetToken)).all() == []
