"""`flask --app app user ...` (SPEC 0): create, list, set-password, set-admin."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from models import Account
from models import db


def _flask(app: Flask, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=list(args))
    return result.exit_code, result.output


def _local(nickname: str) -> Account:
    account = db.session.scalar(select(Account).where(Account.nickname == nickname, Account.domain.is_(None)))
    assert account is not None
    return account


def _password_grant(client: FlaskClient, oauth_app: dict, username: str, password: str) -> int:
    response = client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": oauth_app["client_id"],
            "client_secret": oauth_app["client_secret"],
            "username": username,
            "password": password,
        },
    )
    return response.status_code


def test_user_create_prints_only_the_new_id(app: Flask) -> None:
    code, output = _flask(app, "user", "create", "bob", "--password", "hunter2-pw")
    assert code == 0, output
    # Scripts capture the id: exactly one line, nothing around it.
    assert output.endswith("\n")
    assert output.count("\n") == 1
    new_id = output.strip()
    account = _local("bob")
    assert new_id == account.id
    assert len(new_id) == 18
    assert account.is_admin is False


def test_user_create_with_email_and_admin(app: Flask, client: FlaskClient, oauth_app: dict) -> None:
    code, output = _flask(
        app, "user", "create", "carol", "--password", "pw-carol-1", "--email", "carol@example.org", "--admin"
    )
    assert code == 0, output
    account = _local("carol")
    assert account.id == output.strip()
    assert account.is_admin is True
    assert account.email == "carol@example.org"
    # The e-mail works as a login name (toot, Akkoma.py log in with it).
    assert _password_grant(client, oauth_app, "carol@example.org", "pw-carol-1") == 200


def test_user_create_duplicate_nickname_fails_clearly(app: Flask, account: Account) -> None:
    code, output = _flask(app, "user", "create", "alice", "--password", "another-pw")
    assert code != 0
    assert "Error:" in output
    assert "has already been taken" in output
    assert "Traceback" not in output
    assert len(db.session.scalars(select(Account).where(Account.nickname == "alice")).all()) == 1


def test_user_create_invalid_nickname_fails(app: Flask) -> None:
    code, output = _flask(app, "user", "create", "no spaces!", "--password", "pw")
    assert code != 0
    assert "has invalid format" in output


def test_user_create_requires_password(app: Flask) -> None:
    code, output = _flask(app, "user", "create", "dave")
    assert code != 0
    assert "--password" in output


def test_user_list_shows_local_accounts(app: Flask, make_account: Callable[..., Account]) -> None:
    alice = make_account("alice")
    root = make_account("root", is_admin=True)
    code, output = _flask(app, "user", "list")
    assert code == 0, output
    lines = output.strip().splitlines()
    assert len(lines) == 2
    by_nick = {line.split("\t")[1]: line.split("\t") for line in lines}
    assert by_nick["alice"][0] == alice.id
    assert by_nick["root"][0] == root.id
    assert "admin" in by_nick["root"][2]
    assert "admin" not in by_nick["alice"][2]


def test_user_set_password_changes_login(
    app: Flask, client: FlaskClient, oauth_app: dict, account: Account
) -> None:
    assert _password_grant(client, oauth_app, "alice", "secret-pw") == 200
    code, output = _flask(app, "user", "set-password", "alice", "--password", "brand-new-pw")
    assert code == 0, output
    assert _password_grant(client, oauth_app, "alice", "brand-new-pw") == 200
    assert _password_grant(client, oauth_app, "alice", "secret-pw") == 400


def test_user_set_password_unknown_user(app: Flask) -> None:
    code, output = _flask(app, "user", "set-password", "nobody", "--password", "x")
    assert code != 0
    assert "nobody" in output


def test_user_set_admin_grants_and_revokes(app: Flask, account: Account) -> None:
    code, output = _flask(app, "user", "set-admin", "alice")
    assert code == 0, output
    db.session.expire_all()
    assert _local("alice").is_admin is True
    code, output = _flask(app, "user", "set-admin", "alice", "--off")
    assert code == 0, output
    db.session.expire_all()
    assert _local("alice").is_admin is False


def test_user_set_admin_unknown_user(app: Flask) -> None:
    code, output = _flask(app, "user", "set-admin", "nobody")
    assert code != 0
    assert "nobody" in output
