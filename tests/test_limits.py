"""Rate limits (ratelimits.py): the 429 body and headers, who shares a budget, and the switch."""

from __future__ import annotations

import time
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from models import db
from services.accounts import create_local_account
from tests.conftest import BASE_URL

LOW = {
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_AUTHENTICATION": "3 per minute",
    "RATELIMIT_ACCOUNT_CREATION": "2 per minute",
    "RATELIMIT_PASSWORD": "2 per minute",
}


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """limited(**config) -> an app with rate limits on (low ones unless told otherwise)."""
    made: list[Flask] = []

    def make(**config: Any) -> Flask:
        folder = tmp_path / f"app{len(made)}"
        (folder / "emoji").mkdir(parents=True)
        app = create_app(
            {
                "TESTING": True,
                "INSTANCE_PATH": str(folder / "instance"),
                "EMOJI_DIR": str(folder / "emoji"),
                "BASE_URL": BASE_URL,
                "JOBS_IMMEDIATE": True,
                "REGISTRATIONS_OPEN": True,
                "ARGON2_TIME_COST": 1,
                "ARGON2_MEMORY_COST": 64,
            }
            | LOW
            | config
        )
        with app.app_context():
            db.create_all()
            create_local_account("alice", "secret-pw", email="alice@example.org")
            create_local_account("bob", "secret-pw", email="bob@example.org")
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _oauth_app(client: FlaskClient) -> dict:
    response = client.post(
        "/api/v1/apps",
        data={"client_name": "t", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read write"},
    )
    assert response.status_code == 200
    return response.get_json()


def _password_login(
    client: FlaskClient, oauth_app: dict, password: str = "wrong", nick: str = "alice"
) -> Any:
    return client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": oauth_app["client_id"],
            "client_secret": oauth_app["client_secret"],
            "username": nick,
            "password": password,
        },
    )


def _assert_throttled(response: Any) -> None:
    assert response.status_code == 429
    assert response.mimetype == "application/json"
    assert response.get_json() == {"error": "Throttled"}
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert response.headers["X-RateLimit-Limit"]
    assert response.headers["X-RateLimit-Reset"]


def test_token_endpoint_throttles_after_the_limit(limited: Callable[..., Flask]) -> None:
    client = limited().test_client()
    oauth_app = _oauth_app(client)
    answers = [_password_login(client, oauth_app) for _ in range(3)]
    assert [a.status_code for a in answers] == [400, 400, 400]
    assert answers[0].headers["X-RateLimit-Limit"] == "3"
    assert answers[0].headers["X-RateLimit-Remaining"] == "2"
    # Even the right password is refused once the budget is spent.
    _assert_throttled(_password_login(client, oauth_app, password="secret-pw"))


def test_login_form_and_mfa_share_the_authentication_budget(limited: Callable[..., Flask]) -> None:
    client = limited().test_client()
    oauth_app = _oauth_app(client)
    query = {"client_id": oauth_app["client_id"], "redirect_uri": "urn:ietf:wg:oauth:2.0:oob"}
    assert client.get("/oauth/authorize", query_string=query).status_code == 200
    assert client.post("/oauth/authorize", data=query | {"name": "alice", "password": "x"}).status_code == 401
    assert client.post("/oauth/mfa/challenge", data={"mfa_token": "x", "code": "1"}).status_code == 400
    _assert_throttled(client.post("/oauth/mfa/verify", data=query))
    _assert_throttled(client.get("/oauth/authorize", query_string=query))
    _assert_throttled(_password_login(client, oauth_app, password="secret-pw"))


def test_limits_are_per_address(limited: Callable[..., Flask]) -> None:
    client = limited(RATELIMIT_AUTHENTICATION="1 per minute").test_client()
    oauth_app = _oauth_app(client)
    assert _password_login(client, oauth_app).status_code == 400
    _assert_throttled(_password_login(client, oauth_app))
    other = client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            **{k: oauth_app[k] for k in ("client_id", "client_secret")},
        },
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    )
    assert other.status_code == 200


def test_trusted_proxy_address_comes_from_x_forwarded_for(limited: Callable[..., Flask]) -> None:
    client = limited(RATELIMIT_AUTHENTICATION="1 per minute", TRUSTED_PROXIES=1).test_client()
    oauth_app = _oauth_app(client)

    def login_from(address: str, forged: str = "") -> Any:
        chain = f"{forged}, {address}" if forged else address
        return client.post(
            "/oauth/token",
            data={"grant_type": "password", "username": "alice", "password": "x"}
            | {k: oauth_app[k] for k in ("client_id", "client_secret")},
            headers={"X-Forwarded-For": chain},
        )

    assert login_from("203.0.113.1").status_code == 400
    _assert_throttled(login_from("203.0.113.1"))
    # A forged left-most entry does not buy a new budget; a new real address does.
    _assert_throttled(login_from("203.0.113.1", forged="198.51.100.7"))
    assert login_from("203.0.113.2").status_code == 400


def test_registration_throttles(limited: Callable[..., Flask]) -> None:
    client = limited().test_client()
    oauth_app = _oauth_app(client)
    app_token = client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            **{k: oauth_app[k] for k in ("client_id", "client_secret")},
        },
    ).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {app_token}"}
    for nick in ("carol", "dave"):
        body = {
            "username": nick,
            "password": "pw-123456",
            "email": f"{nick}@example.org",
            "agreement": "true",
        }
        assert client.post("/api/v1/accounts", data=body, headers=headers).status_code == 200
    body = {"username": "erin", "password": "pw-123456", "email": "erin@example.org", "agreement": "true"}
    _assert_throttled(client.post("/api/v1/accounts", data=body, headers=headers))
    with client.application.app_context():
        from models import Account

        assert db.session.scalar(db.select(Account).where(Account.nickname == "erin")) is None


def _bearer(client: FlaskClient, oauth_app: dict, nick: str) -> dict:
    response = _password_login(client, oauth_app, password="secret-pw", nick=nick)
    assert response.status_code == 200
    client.delete_cookie("_pleroma_key")
    return {"Authorization": f"Bearer {response.get_json()['access_token']}"}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        (
            "post",
            "/api/pleroma/change_password",
            {"password": "x", "new_password": "a", "new_password_confirmation": "a"},
        ),
        ("post", "/api/pleroma/change_email", {"password": "x", "email": "new@example.org"}),
        ("post", "/api/pleroma/delete_account", {"password": "x"}),
        ("post", "/api/pleroma/disable_account", {"password": "x"}),
        ("post", "/api/v1/pleroma/accounts/mfa/confirm/totp", {"password": "x", "code": "123456"}),
        ("delete", "/api/v1/pleroma/accounts/mfa/totp", {"password": "x"}),
    ],
)
def test_password_endpoints_throttle_per_account(
    limited: Callable[..., Flask], method: str, path: str, body: dict
) -> None:
    client = limited(RATELIMIT_AUTHENTICATION="100 per minute").test_client()
    oauth_app = _oauth_app(client)
    alice = _bearer(client, oauth_app, "alice")
    bob = _bearer(client, oauth_app, "bob")
    for _ in range(2):
        assert getattr(client, method)(path, data=body, headers=alice).status_code in (200, 422)
    _assert_throttled(getattr(client, method)(path, data=body, headers=alice))
    # The budget is the account's: bob, from the same address, still has his.
    assert getattr(client, method)(path, data=body, headers=bob).status_code in (200, 422)


def test_password_budget_is_shared_between_the_password_endpoints(limited: Callable[..., Flask]) -> None:
    client = limited(RATELIMIT_AUTHENTICATION="100 per minute").test_client()
    alice = _bearer(client, _oauth_app(client), "alice")
    assert (
        client.post("/api/pleroma/delete_account", data={"password": "x"}, headers=alice).status_code == 200
    )
    assert (
        client.post("/api/pleroma/disable_account", data={"password": "x"}, headers=alice).status_code == 200
    )
    _assert_throttled(
        client.post(
            "/api/v1/pleroma/change_password",
            data={"password": "x", "new_password": "a", "new_password_confirmation": "a"},
            headers=alice,
        )
    )


def test_endpoints_without_a_limit_carry_no_limit_headers(limited: Callable[..., Flask]) -> None:
    client = limited().test_client()
    for _ in range(5):
        response = client.get("/api/v1/instance")
        assert response.status_code == 200
        assert "X-RateLimit-Limit" not in response.headers


def test_ratelimit_enabled_false_turns_every_limit_off(limited: Callable[..., Flask]) -> None:
    client = limited(RATELIMIT_ENABLED=False, RATELIMIT_AUTHENTICATION="1 per hour").test_client()
    oauth_app = _oauth_app(client)
    for _ in range(4):
        response = _password_login(client, oauth_app)
        assert response.status_code == 400
        assert "X-RateLimit-Limit" not in response.headers
    assert _password_login(client, oauth_app, password="secret-pw").status_code == 200


def test_environment_switch_turns_limits_off(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KENOMA_RATELIMIT_ENABLED", "false")
    monkeypatch.setenv("KENOMA_RATELIMIT_AUTHENTICATION", "1 per hour")
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance")})
    assert app.config["RATELIMIT_ENABLED"] is False
    with app.app_context():
        db.create_all()
        client = app.test_client()
        oauth_app = _oauth_app(client)
        assert [_password_login(client, oauth_app).status_code for _ in range(3)] == [400, 400, 400]
        db.session.remove()
        db.engine.dispose()


def test_defaults_follow_pleroma() -> None:
    from app import DEFAULTS

    assert DEFAULTS["RATELIMIT_ENABLED"] is True
    assert DEFAULTS["RATELIMIT_STORAGE_URI"] == "memory://"
    assert DEFAULTS["RATELIMIT_AUTHENTICATION"] == "15 per minute"
    assert DEFAULTS["RATELIMIT_ACCOUNT_CREATION"] == "25 per 30 minutes"
    assert DEFAULTS["RATELIMIT_PASSWORD"] == "5 per 30 minutes"


def _mfa_ticket(client: FlaskClient, oauth_app: dict, nick: str, address: str) -> str:
    client.environ_base["REMOTE_ADDR"] = address
    answer = _password_login(client, oauth_app, "secret-pw", nick)
    client.environ_base.pop("REMOTE_ADDR")
    assert answer.status_code == 403 and answer.get_json()["error"] == "mfa_required"
    return answer.get_json()["mfa_token"]


def _challenge(client: FlaskClient, oauth_app: dict, ticket: str, code: str, address: str) -> Any:
    body = {
        "client_id": oauth_app["client_id"],
        "client_secret": oauth_app["client_secret"],
        "mfa_token": ticket,
        "challenge_type": "totp",
        "code": code,
    }
    return client.post("/oauth/mfa/challenge", data=body, environ_base={"REMOTE_ADDR": address})


def _enable_mfa(app: Flask, nick: str) -> Any:
    import pyotp

    from models import Account
    from services import security

    with app.app_context():
        account = Account.find_local(nick)
        secret, _uri = security.setup_totp(account)
        totp = pyotp.TOTP(secret)
        assert security.confirm_totp(account, totp.now())
        return totp


def _next(totp: Any) -> str:
    # Confirming used up the current step's code; the next step's is accepted (RFC 6238 ±1).
    return totp.at(time.time() + totp.interval)


def _wrong(totp: Any) -> str:
    live = {totp.at(time.time() + d * totp.interval) for d in (-1, 0, 1)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in live)


def test_wrong_mfa_codes_are_limited_per_account_across_addresses(limited: Callable[..., Flask]) -> None:
    app = limited(RATELIMIT_AUTHENTICATION="1000 per minute", RATELIMIT_MFA_ACCOUNT="3 per hour")
    client = app.test_client()
    oauth_app = _oauth_app(client)
    alice, bob = _enable_mfa(app, "alice"), _enable_mfa(app, "bob")
    for n in range(3):  # three guesses from three addresses, each with a fresh ticket
        address = f"203.0.113.{n + 1}"
        ticket = _mfa_ticket(client, oauth_app, "alice", address)
        assert _challenge(client, oauth_app, ticket, _wrong(alice), address).status_code == 400
    # A fourth address, a fresh ticket, even the right code: alice's budget is spent.
    ticket = _mfa_ticket(client, oauth_app, "alice", "198.51.100.7")
    _assert_throttled(_challenge(client, oauth_app, ticket, _next(alice), "198.51.100.7"))
    # Bob, tried from the same addresses, still logs in.
    ticket = _mfa_ticket(client, oauth_app, "bob", "203.0.113.1")
    assert _challenge(client, oauth_app, ticket, _next(bob), "203.0.113.1").status_code == 200


def test_right_mfa_codes_do_not_spend_the_account_budget(limited: Callable[..., Flask]) -> None:
    app = limited(RATELIMIT_AUTHENTICATION="1000 per minute", RATELIMIT_MFA_ACCOUNT="1 per hour")
    client = app.test_client()
    oauth_app = _oauth_app(client)
    totp = _enable_mfa(app, "alice")
    ticket = _mfa_ticket(client, oauth_app, "alice", "203.0.113.1")
    assert _challenge(client, oauth_app, ticket, _next(totp), "203.0.113.1").status_code == 200
    # Had the right code counted, this would already be throttled; a wrong one spends the budget.
    ticket = _mfa_ticket(client, oauth_app, "alice", "203.0.113.2")
    assert _challenge(client, oauth_app, ticket, _wrong(totp), "203.0.113.2").status_code == 400
    ticket = _mfa_ticket(client, oauth_app, "alice", "203.0.113.3")
    _assert_throttled(_challenge(client, oauth_app, ticket, _wrong(totp), "203.0.113.3"))
