from __future__ import annotations

import re
import time
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import update

from models import MfaToken
from models import db
from models import utcnow
from tests.conftest import basic_headers

MFA = "/api/pleroma/accounts/mfa"


def _enable_totp(client, headers, password: str = "secret-pw") -> pyotp.TOTP:
    """Set up and confirm TOTP; the returned generator makes codes for later steps."""
    setup = client.get(f"{MFA}/setup/totp", headers=headers)
    assert setup.status_code == 200
    totp = pyotp.TOTP(setup.get_json()["key"])
    confirm = client.post(
        f"{MFA}/confirm/totp", headers=headers, data={"password": password, "code": totp.now()}
    )
    assert confirm.status_code == 200, confirm.get_json()
    return totp


def _next_code(totp: pyotp.TOTP) -> str:
    # The confirm used the current step; a login needs a later one (no code works twice).
    return totp.at(time.time() + totp.interval)


def _password_grant(client, oauth_app, username: str = "alice", password: str = "secret-pw", **extra):
    return client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": oauth_app["client_id"],
            "client_secret": oauth_app["client_secret"],
            "username": username,
            "password": password,
            **extra,
        },
    )


def _challenge(client, oauth_app, mfa_token: str, code: str, challenge_type: str = "totp", **extra):
    return client.post(
        "/oauth/mfa/challenge",
        data={
            "client_id": oauth_app["client_id"],
            "client_secret": oauth_app["client_secret"],
            "mfa_token": mfa_token,
            "challenge_type": challenge_type,
            "code": code,
            **extra,
        },
    )


def _mfa_token(client, oauth_app, **extra) -> str:
    response = _password_grant(client, oauth_app, **extra)
    assert response.status_code == 403
    body = response.get_json()
    assert body["error"] == "mfa_required"
    assert body["supported_challenge_types"] == "totp"
    return body["mfa_token"]


# ---------------------------------------------------------------------------------------------
# Settings, setup, confirm


@pytest.mark.parametrize("prefix", ["/api/pleroma", "/api/v1/pleroma"])
def test_mfa_settings_default_off_at_both_prefixes(client, account, auth_headers, prefix):
    response = client.get(f"{prefix}/accounts/mfa", headers=auth_headers(account))
    assert response.status_code == 200
    assert response.get_json() == {"settings": {"enabled": False, "totp": False}}


def test_mfa_settings_requires_auth_and_read_security(client, account, auth_headers):
    assert client.get(MFA).get_json() == {"error": "Invalid credentials."}
    response = client.get(MFA, headers=auth_headers(account, "write"))
    assert response.status_code == 403
    assert response.get_json() == {"error": "Insufficient permissions: read:security."}
    assert client.get(MFA, headers=auth_headers(account, "read:security")).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/setup/totp"),
        ("post", "/confirm/totp"),
        ("delete", "/totp"),
        ("get", "/backup_codes"),
    ],
)
def test_mfa_writes_require_write_security(client, account, auth_headers, method, path):
    response = getattr(client, method)(MFA + path, headers=auth_headers(account, "read write:accounts"))
    assert response.status_code == 403
    assert response.get_json() == {"error": "Insufficient permissions: write:security."}
    assert getattr(client, method)(MFA + path).get_json() == {"error": "Invalid credentials."}


def test_setup_totp_gives_secret_and_provisioning_uri(client, account, auth_headers):
    headers = auth_headers(account)
    response = client.get(f"{MFA}/setup/totp", headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert re.fullmatch(r"[A-Z2-7]{32}", body["key"])
    assert body["provisioning_uri"].startswith("otpauth://totp/Kenoma:alice%40example.org?")
    assert f"secret={body['key']}" in body["provisioning_uri"]
    assert body["qr_code"].startswith("data:image/svg+xml")
    # Unconfirmed: MFA stays off.
    assert client.get(MFA, headers=headers).get_json()["settings"] == {"enabled": False, "totp": False}


def test_setup_unknown_method(client, account, auth_headers):
    response = client.get(f"{MFA}/setup/u2f", headers=auth_headers(account))
    assert response.status_code == 400
    assert response.get_json() == {"error": "undefined method"}


def test_confirm_totp_errors(client, account, auth_headers):
    headers = auth_headers(account)
    totp = pyotp.TOTP(client.get(f"{MFA}/setup/totp", headers=headers).get_json()["key"])
    wrong_password = client.post(
        f"{MFA}/confirm/totp", headers=headers, data={"password": "nope", "code": totp.now()}
    )
    assert wrong_password.status_code == 422
    assert wrong_password.get_json() == {"error": "Invalid password."}
    wrong_code = client.post(
        f"{MFA}/confirm/totp", headers=headers, data={"password": "secret-pw", "code": "000000"}
    )
    if totp.now() != "000000":
        assert wrong_code.status_code == 422
        assert wrong_code.get_json() == {"error": "invalid_token"}
    missing = client.post(f"{MFA}/confirm/totp", headers=headers, data={"password": "secret-pw"})
    assert missing.status_code == 400
    assert missing.get_json() == {"error": "undefined mfa method"}
    other = client.post(
        f"{MFA}/confirm/u2f", headers=headers, data={"password": "secret-pw", "code": totp.now()}
    )
    assert other.status_code == 400
    assert other.get_json() == {"error": "undefined mfa method"}
    assert client.get(MFA, headers=headers).get_json()["settings"]["enabled"] is False


def test_confirm_without_setup_is_invalid_token(client, account, auth_headers):
    response = client.post(
        f"{MFA}/confirm/totp", headers=auth_headers(account), json={"password": "secret-pw", "code": 123456}
    )
    assert response.status_code == 422
    assert response.get_json() == {"error": "invalid_token"}


def test_confirm_totp_enables_mfa(client, account, auth_headers):
    headers = auth_headers(account)
    _enable_totp(client, headers)
    assert client.get(MFA, headers=headers).get_json() == {"settings": {"enabled": True, "totp": True}}


def test_new_setup_keeps_active_secret_until_confirmed(client, account, auth_headers, oauth_app):
    headers = auth_headers(account)
    totp = _enable_totp(client, headers)
    client.get(f"{MFA}/setup/totp", headers=headers)  # a new secret, never confirmed
    token = _mfa_token(client, oauth_app)
    assert _challenge(client, oauth_app, token, _next_code(totp)).status_code == 200


# ---------------------------------------------------------------------------------------------
# Logging in with a second factor


def test_mfa_login_end_to_end_with_totp_then_backup_code(client, account, auth_headers, oauth_app):
    headers = auth_headers(account)
    totp = _enable_totp(client, headers)
    codes = client.get(f"{MFA}/backup_codes", headers=headers).get_json()["codes"]

    # Password alone is not enough any more.
    mfa_token = _mfa_token(client, oauth_app, scope="read")
    wrong = _challenge(client, oauth_app, mfa_token, "not-a-code")
    assert wrong.status_code == 400
    assert wrong.get_json() == {"error": "Invalid code"}

    code = _next_code(totp)
    response = _challenge(client, oauth_app, mfa_token, code)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "read"
    assert body["me"] == "http://127.0.0.1:5000/users/alice"
    assert isinstance(body["id"], int)
    me = client.get(
        "/api/v1/accounts/verify_credentials", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.status_code == 200
    assert me.get_json()["username"] == "alice"

    # The ticket is spent, and the TOTP code does not work a second time either.
    assert _challenge(client, oauth_app, mfa_token, code).get_json() == {"error": "Invalid code"}
    assert _challenge(client, oauth_app, _mfa_token(client, oauth_app), code).status_code == 400

    # A backup code logs in once ...
    recovery = _challenge(client, oauth_app, _mfa_token(client, oauth_app), codes[0], "recovery")
    assert recovery.status_code == 200
    assert recovery.get_json()["access_token"]
    # ... and is refused the second time.
    again = _challenge(client, oauth_app, _mfa_token(client, oauth_app), codes[0], "recovery")
    assert again.status_code == 400
    assert again.get_json() == {"error": "Invalid code"}
    # The other codes still work.
    assert (
        _challenge(client, oauth_app, _mfa_token(client, oauth_app), codes[1], "recovery").status_code == 200
    )


def test_challenge_rejects_wrong_client_and_foreign_ticket(client, account, auth_headers, oauth_app):
    totp = _enable_totp(client, auth_headers(account))
    mfa_token = _mfa_token(client, oauth_app)
    bad_secret = _challenge(client, oauth_app, mfa_token, _next_code(totp), client_secret="wrong")
    assert bad_secret.status_code == 400
    assert bad_secret.get_json() == {"error": "Invalid code"}
    other_app = client.post(
        "/api/v1/apps",
        data={"client_name": "Other", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read"},
    ).get_json()
    assert _challenge(client, other_app, mfa_token, _next_code(totp)).get_json() == {"error": "Invalid code"}
    assert _challenge(client, oauth_app, "made-up", _next_code(totp)).get_json() == {"error": "Invalid code"}
    # After all that, the genuine ticket still works with the right app.
    assert _challenge(client, oauth_app, mfa_token, _next_code(totp)).status_code == 200


def test_challenge_missing_code(client, account, auth_headers, oauth_app):
    response = client.post(
        "/oauth/mfa/challenge", data={"mfa_token": "x", "client_id": oauth_app["client_id"]}
    )
    assert response.status_code == 400
    assert response.get_json() == {"error": "Missing field: code."}


def test_ticket_dies_after_five_wrong_codes(client, account, auth_headers, oauth_app):
    totp = _enable_totp(client, auth_headers(account))
    mfa_token = _mfa_token(client, oauth_app)
    for _ in range(5):
        assert _challenge(client, oauth_app, mfa_token, "999999x").status_code == 400
    assert _challenge(client, oauth_app, mfa_token, _next_code(totp)).status_code == 400


def test_expired_ticket_is_refused(client, app, account, auth_headers, oauth_app):
    totp = _enable_totp(client, auth_headers(account))
    mfa_token = _mfa_token(client, oauth_app)
    db.session.execute(update(MfaToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert _challenge(client, oauth_app, mfa_token, _next_code(totp)).get_json() == {"error": "Invalid code"}


def test_basic_auth_refused_for_mfa_accounts(client, account, auth_headers):
    assert (
        client.get("/api/v1/accounts/verify_credentials", headers=basic_headers("alice")).status_code == 200
    )
    headers = auth_headers(account)
    _enable_totp(client, headers)
    response = client.get("/api/v1/accounts/verify_credentials", headers=basic_headers("alice"))
    assert response.status_code == 403
    assert response.get_json() == {"error": "Two-factor authentication enabled, you must use a access token."}
    # Tokens issued before MFA was turned on keep working (SPEC 12).
    assert client.get("/api/v1/accounts/verify_credentials", headers=headers).status_code == 200


def test_disabled_account_with_mfa_is_told_it_is_disabled(client, account, auth_headers, oauth_app):
    _enable_totp(client, auth_headers(account))
    account.is_active = False
    db.session.commit()
    response = _password_grant(client, oauth_app)
    assert response.status_code == 403
    assert response.get_json()["error"] == "Your account is currently disabled"


# ---------------------------------------------------------------------------------------------
# Turning MFA off, backup codes


def test_disable_totp(client, account, auth_headers, oauth_app):
    headers = auth_headers(account)
    _enable_totp(client, headers)
    wrong = client.delete(f"{MFA}/totp", headers=headers, data={"password": "nope"})
    assert wrong.status_code == 422
    assert wrong.get_json() == {"error": "Invalid password."}
    missing = client.delete(f"{MFA}/totp", headers=headers)
    assert missing.status_code == 422
    response = client.delete(f"{MFA}/totp?password=secret-pw", headers=headers)
    assert response.status_code == 200
    assert response.get_json() == {}
    assert client.get(MFA, headers=headers).get_json() == {"settings": {"enabled": False, "totp": False}}
    assert _password_grant(client, oauth_app).status_code == 200
    assert (
        client.get("/api/v1/accounts/verify_credentials", headers=basic_headers("alice")).status_code == 200
    )


def test_disable_all_mfa(client, account, auth_headers, oauth_app):
    headers = auth_headers(account)
    _enable_totp(client, headers)
    response = client.delete(f"{MFA}/mfa", headers=headers, json={"password": "secret-pw"})
    assert response.status_code == 200
    assert response.get_json() == {}
    assert client.get(MFA, headers=headers).get_json()["settings"]["enabled"] is False
    assert _password_grant(client, oauth_app).status_code == 200


def test_disable_unknown_method(client, account, auth_headers):
    response = client.delete(f"{MFA}/u2f", headers=auth_headers(account), data={"password": "secret-pw"})
    assert response.status_code == 400
    assert response.get_json() == {"error": "undefined mfa method"}


def test_backup_codes_are_new_each_time_and_replace_old_ones(client, account, auth_headers, oauth_app):
    headers = auth_headers(account)
    _enable_totp(client, headers)
    first = client.get(f"{MFA}/backup_codes", headers=headers)
    assert first.status_code == 200
    codes = first.get_json()["codes"]
    assert len(codes) == 5 and len(set(codes)) == 5
    assert all(re.fullmatch(r"[0-9a-f]{10}", code) for code in codes)
    second = client.get(f"{MFA}/backup_codes", headers=headers).get_json()["codes"]
    assert not set(codes) & set(second)
    assert (
        _challenge(client, oauth_app, _mfa_token(client, oauth_app), codes[0], "recovery").status_code == 400
    )
    assert (
        _challenge(client, oauth_app, _mfa_token(client, oauth_app), second[0], "recovery").status_code == 200
    )


# ---------------------------------------------------------------------------------------------
# The authorize form


def _authorize(client, oauth_app, password: str = "secret-pw"):
    return client.post(
        "/oauth/authorize",
        data={
            "authorization[name]": "alice",
            "authorization[password]": password,
            "authorization[client_id]": oauth_app["client_id"],
            "authorization[redirect_uri]": "urn:ietf:wg:oauth:2.0:oob",
            "authorization[scope]": "read write",
            "authorization[state]": "xyz",
        },
    )


def _verify(client, oauth_app, mfa_token: str, code: str, challenge_type: str = "totp"):
    return client.post(
        "/oauth/mfa/verify",
        data={
            "mfa[mfa_token]": mfa_token,
            "mfa[challenge_type]": challenge_type,
            "mfa[code]": code,
            "authorization[client_id]": oauth_app["client_id"],
            "authorization[redirect_uri]": "urn:ietf:wg:oauth:2.0:oob",
            "authorization[scope]": "read write",
            "authorization[state]": "xyz",
        },
    )


def test_authorize_form_asks_for_the_code(client, account, auth_headers, oauth_app):
    totp = _enable_totp(client, auth_headers(account))
    page = _authorize(client, oauth_app)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'action="/oauth/mfa/verify"' in html
    mfa_token = re.search(r'name="mfa\[mfa_token\]" value="([^"]+)"', html).group(1)

    failed = _verify(client, oauth_app, mfa_token, "000000x")
    assert failed.status_code == 401
    assert "Two-factor authentication failed." in failed.get_data(as_text=True)

    done = _verify(client, oauth_app, mfa_token, _next_code(totp))
    assert done.status_code == 200
    code = re.search(r'id="code">([^<]+)<', done.get_data(as_text=True)).group(1)
    token = client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "urn:ietf:wg:oauth:2.0:oob",
            "client_id": oauth_app["client_id"],
            "client_secret": oauth_app["client_secret"],
        },
    )
    assert token.status_code == 200
    assert token.get_json()["scope"] == "read write"


def test_authorize_form_with_wrong_password_never_reaches_mfa(client, account, auth_headers, oauth_app):
    _enable_totp(client, auth_headers(account))
    page = _authorize(client, oauth_app, password="nope")
    assert page.status_code == 401
    assert "mfa_token" not in page.get_data(as_text=True)
