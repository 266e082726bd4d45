from __future__ import annotations

import io

import pyotp
import pytest
from PIL import Image
from sqlalchemy import func
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from models import Account
from models import EmojiReaction
from models import Notification
from models import Participation
from models import Scrobble
from models import Status
from models import db
from services import follows
from services import interactions
from services import media as media_service
from services.statuses import NewStatus
from services.statuses import post_status
from tests.conftest import basic_headers
from tests.conftest import form_login

VERIFY = "/api/v1/accounts/verify_credentials"


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _password_grant(client, oauth_app, username: str = "alice", password: str = "secret-pw"):
    return client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": oauth_app["client_id"],
            "client_secret": oauth_app["client_secret"],
            "username": username,
            "password": password,
        },
    )


def _png() -> FileStorage:
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2), "red").save(buffer, "PNG")
    buffer.seek(0)
    return FileStorage(buffer, filename="pic.png", content_type="image/png")


# ---------------------------------------------------------------------------------------------
# Password-protected endpoints: auth, scope, wrong password (200 + error)


@pytest.mark.parametrize("path", ["/delete_account", "/disable_account", "/change_password"])
def test_account_management_requires_write_accounts(client, account, auth_headers, path):
    anonymous = client.post(f"/api/pleroma{path}", data={"password": "secret-pw"})
    assert anonymous.status_code == 403
    assert anonymous.get_json() == {"error": "Invalid credentials."}
    response = client.post(
        f"/api/pleroma{path}", headers=auth_headers(account, "read"), data={"password": "secret-pw"}
    )
    assert response.status_code == 403
    assert response.get_json() == {"error": "Insufficient permissions: write:accounts."}


@pytest.mark.parametrize("path", ["/api/pleroma/delete_account", "/api/v1/pleroma/disable_account"])
def test_wrong_or_missing_password_is_200_with_error(client, account, auth_headers, path):
    headers = auth_headers(account)
    wrong = client.post(path, headers=headers, data={"password": "nope"})
    assert wrong.status_code == 200
    assert wrong.get_json() == {"error": "Invalid password."}
    missing = client.post(path, headers=headers)
    assert missing.status_code == 200
    assert missing.get_json() == {"error": "Invalid password."}
    assert client.get(VERIFY, headers=headers).status_code == 200  # nothing happened


# ---------------------------------------------------------------------------------------------
# delete_account


def test_delete_account_ends_tokens_and_reserves_nickname(client, account, auth_headers, oauth_app):
    headers = auth_headers(account)
    other_login = auth_headers(account)
    response = client.post("/api/pleroma/delete_account?password=secret-pw", headers=headers)
    assert response.status_code == 200
    assert response.get_json() == {"status": "success"}
    for used in (headers, other_login, basic_headers("alice")):
        denied = client.get(VERIFY, headers=used)
        assert denied.status_code == 403
        assert denied.get_json() == {"error": "Invalid credentials."}
    assert _password_grant(client, oauth_app).get_json() == {"error": "Invalid credentials"}
    # The nickname stays taken.
    app_token = client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": oauth_app["client_id"],
            "client_secret": oauth_app["client_secret"],
        },
    ).get_json()["access_token"]
    again = client.post(
        "/api/v1/accounts",
        headers=_bearer(app_token),
        data={
            "username": "alice",
            "password": "x-secret-pw",
            "agreement": "true",
            "email": "new@example.org",
        },
    )
    assert again.status_code == 400
    assert "has already been taken" in again.get_json()["error"]
    row = db.session.scalar(select(Account).where(Account.nickname == "alice"))
    assert row.is_deleted and not row.is_active
    assert row.email is None and row.password_hash is None


def test_delete_account_by_json_body_and_delete_method(client, account, auth_headers):
    response = client.delete(
        "/api/v1/pleroma/delete_account", headers=auth_headers(account), json={"password": "secret-pw"}
    )
    assert response.status_code == 200
    assert response.get_json() == {"status": "success"}
    assert db.session.get(Account, account.id).is_deleted


def _rich_graph(make_account, account, auth_headers, client) -> dict:
    """alice in every relation the schema knows, with bob and carol on the other side."""
    bob = make_account("bob")
    carol = make_account("carol")
    alice_id, bob_id = account.id, bob.id
    follows.follow(account, bob)
    follows.follow(bob, account)
    follows.follow(carol, account)
    follows.block(account, carol)
    follows.mute(bob, account)
    follows.endorse(bob, account)
    bob_post = post_status(bob, NewStatus(text="hello from bob"))
    alice_post = post_status(account, NewStatus(text="hi @bob", media_ids=[]))
    post_status(account, NewStatus(text="@bob secret", visibility="direct"))
    bob_dm = post_status(bob, NewStatus(text="@alice a dm", visibility="direct"))
    post_status(account, NewStatus(text="@bob and my answer", visibility="direct", in_reply_to_id=bob_dm.id))
    post_status(account, NewStatus(text="reply", in_reply_to_id=bob_post.id))
    post_status(bob, NewStatus(text="reply to alice", in_reply_to_id=alice_post.id))
    interactions.favourite(account, bob_post)
    interactions.favourite(bob, alice_post)
    interactions.reblog(account, bob_post, None)
    interactions.reblog(bob, alice_post, None)
    interactions.bookmark(account, bob_post)
    interactions.bookmark(bob, alice_post)
    interactions.mute_thread(account, bob_post)
    media_service.save_upload(account, _png(), 1024 * 1024)
    db.session.add(EmojiReaction(status_id=bob_post.id, account_id=alice_id, emoji="👍"))
    db.session.add(Scrobble(account_id=alice_id, title="song"))
    db.session.commit()
    headers = auth_headers(account)
    # MFA settings and a pending MFA ticket reference the account too.
    setup = client.get("/api/pleroma/accounts/mfa/setup/totp", headers=headers).get_json()
    client.post(
        "/api/pleroma/accounts/mfa/confirm/totp",
        headers=headers,
        data={"password": "secret-pw", "code": pyotp.TOTP(setup["key"]).now()},
    )
    client.get("/api/pleroma/accounts/mfa/backup_codes", headers=headers)
    client.patch("/api/pleroma/accounts/update_avatar", headers=headers, data={"img": _png()})
    return {"bob_id": bob_id, "bob_post_id": bob_post.id, "headers": headers, "bob_dm_id": bob_dm.id}


def test_delete_account_leaves_no_row_referencing_it(client, make_account, account, auth_headers, app):
    graph = _rich_graph(make_account, account, auth_headers, client)
    alice_id = account.id
    bob = db.session.get(Account, graph["bob_id"])
    assert bob.followers_count == 1 and bob.following_count == 1
    bob_post = db.session.get(Status, graph["bob_post_id"])
    assert (bob_post.favourites_count, bob_post.reblogs_count, bob_post.replies_count) == (1, 1, 1)
    bob_statuses = bob.statuses_count

    response = client.post(
        "/api/pleroma/delete_account", headers=graph["headers"], data={"password": "secret-pw"}
    )
    assert response.get_json() == {"status": "success"}

    db.session.expire_all()
    # Walk every table: no foreign key (and no *account_id column) still names alice.
    leftovers = {}
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            names_account = any(fk.column.table.name == "account" for fk in column.foreign_keys)
            if not names_account and not column.name.endswith("account_id"):
                continue
            if table.name == "account" and column.name == "id":
                continue
            found = db.session.scalar(select(func.count()).select_from(table).where(column == alice_id))
            if found:
                leftovers[f"{table.name}.{column.name}"] = found
    assert leftovers == {}
    assert (
        db.session.scalar(select(func.count()).select_from(Status).where(Status.account_id == alice_id)) == 0
    )

    # Counters of the accounts and statuses left behind are right again.
    bob = db.session.get(Account, graph["bob_id"])
    assert (bob.followers_count, bob.following_count) == (0, 0)
    assert bob.statuses_count == bob_statuses
    bob_post = db.session.get(Status, graph["bob_post_id"])
    assert (bob_post.favourites_count, bob_post.reblogs_count, bob_post.replies_count) == (0, 0, 0)
    # bob's conversation with alice now ends with bob's own message.
    participation = db.session.scalar(select(Participation).where(Participation.account_id == bob.id))
    assert participation.last_status_id == graph["bob_dm_id"]
    assert (
        db.session.scalar(
            select(func.count()).select_from(Notification).where(Notification.account_id == bob.id)
        )
        == 0
    )
    # The uploaded files are gone from disk.
    media_root = media_service.media_root()
    assert not [p for p in media_root.rglob("*") if p.is_file() and not p.name.startswith(".")]
    # The blank row still holds the nickname, nothing personal.
    row = db.session.get(Account, alice_id)
    assert (row.nickname, row.is_deleted, row.is_active) == ("alice", True, False)
    assert (row.display_name, row.note_html, row.avatar, row.email) == ("", "", None, None)


# ---------------------------------------------------------------------------------------------
# disable_account


def test_disable_account(client, account, auth_headers, oauth_app):
    headers = auth_headers(account)
    response = client.post("/api/pleroma/disable_account", headers=headers, data={"password": "secret-pw"})
    assert response.status_code == 200
    assert response.get_json() == {"status": "success"}
    denied = client.get(VERIFY, headers=headers)
    assert denied.status_code == 403
    assert denied.get_json() == {"error": "Invalid credentials."}
    assert client.get(VERIFY, headers=basic_headers("alice")).status_code == 403
    login = _password_grant(client, oauth_app)
    assert login.status_code == 403
    assert login.get_json() == {
        "error": "Your account is currently disabled",
        "identifier": "account_is_disabled",
    }
    row = db.session.get(Account, account.id)
    assert not row.is_active and not row.is_deleted


# ---------------------------------------------------------------------------------------------
# change_password


@pytest.mark.parametrize("missing", ["password", "new_password", "new_password_confirmation"])
def test_change_password_missing_fields(client, account, auth_headers, missing):
    data = {"password": "secret-pw", "new_password": "n3w-pw", "new_password_confirmation": "n3w-pw"}
    del data[missing]
    response = client.post("/api/pleroma/change_password", headers=auth_headers(account), data=data)
    assert response.status_code == 400
    assert response.get_json() == {"error": f"Missing field: {missing}."}


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"password": "nope", "new_password": "a", "new_password_confirmation": "a"}, "Invalid password."),
        (
            {"password": "secret-pw", "new_password": "a", "new_password_confirmation": "b"},
            "New password does not match confirmation.",
        ),
        (
            {"password": "secret-pw", "new_password": "", "new_password_confirmation": ""},
            "New password can't be blank.",
        ),
    ],
)
def test_change_password_refusals_are_200(client, account, auth_headers, oauth_app, data, error):
    response = client.post("/api/v1/pleroma/change_password", headers=auth_headers(account), data=data)
    assert response.status_code == 200
    assert response.get_json() == {"error": error}
    assert _password_grant(client, oauth_app).status_code == 200


def test_change_password_keeps_current_token_and_ends_the_others(
    client, app, account, auth_headers, oauth_app
):
    current = auth_headers(account)
    other = auth_headers(account)
    browser = app.test_client()  # logged in through /oauth/token: a session cookie
    assert _password_grant(browser, oauth_app).status_code == 200
    assert browser.get(VERIFY).status_code == 200

    response = client.post(
        "/api/pleroma/change_password",
        headers=current,
        json={"password": "secret-pw", "new_password": "n3w-pw", "new_password_confirmation": "n3w-pw"},
    )
    assert response.get_json() == {"status": "success"}
    assert client.get(VERIFY, headers=current).status_code == 200
    assert client.get(VERIFY, headers=other).get_json() == {"error": "Invalid credentials."}
    assert browser.get(VERIFY).status_code == 403
    assert _password_grant(client, oauth_app).get_json() == {"error": "Invalid credentials"}
    assert _password_grant(client, oauth_app, password="n3w-pw").status_code == 200


def test_change_password_through_the_session_keeps_that_session(
    client, app, account, auth_headers, oauth_app
):
    other = auth_headers(account)
    browser = app.test_client()
    _password_grant(browser, oauth_app)
    browser_with_form_session = app.test_client()
    # A session from the login form carries no token; it must end too.
    form_login(browser_with_form_session, oauth_app)
    assert browser_with_form_session.get(VERIFY).status_code == 200

    response = browser.post(
        "/api/pleroma/change_password",
        data={"password": "secret-pw", "new_password": "n3w-pw", "new_password_confirmation": "n3w-pw"},
    )
    assert response.get_json() == {"status": "success"}
    assert browser.get(VERIFY).status_code == 200
    assert browser_with_form_session.get(VERIFY).status_code == 403
    assert client.get(VERIFY, headers=other).status_code == 403


# ---------------------------------------------------------------------------------------------
# notification_settings


def test_notification_settings_update_and_show(client, account, auth_headers):
    headers = auth_headers(account)
    response = client.put(
        "/api/pleroma/notification_settings", headers=headers, data={"block_from_strangers": "true"}
    )
    assert response.status_code == 200
    assert response.get_json() == {"status": "success"}
    settings = client.get(VERIFY, headers=headers).get_json()["pleroma"]["notification_settings"]
    assert settings == {"block_from_strangers": True, "hide_notification_contents": False}
    # Query parameters work too, and unspecified keys keep their value.
    client.put("/api/v1/pleroma/notification_settings?hide_notification_contents=1", headers=headers)
    settings = client.get(VERIFY, headers=headers).get_json()["pleroma"]["notification_settings"]
    assert settings == {"block_from_strangers": True, "hide_notification_contents": True}


def test_notification_settings_errors(client, account, auth_headers):
    bad = client.put(
        "/api/pleroma/notification_settings",
        headers=auth_headers(account),
        json={"block_from_strangers": "maybe"},
    )
    assert bad.status_code == 400
    assert bad.get_json()["error"].startswith("block_from_strangers")
    scope = client.put("/api/pleroma/notification_settings", headers=auth_headers(account, "read"))
    assert scope.get_json() == {"error": "Insufficient permissions: write:accounts."}
    assert client.put("/api/pleroma/notification_settings").get_json() == {"error": "Invalid credentials."}


def test_block_from_strangers_drops_their_notifications(client, make_account, account, auth_headers):
    friend = make_account("friend")
    stranger = make_account("stranger")
    follows.follow(account, friend)
    client.put(
        "/api/pleroma/notification_settings",
        headers=auth_headers(account),
        json={"block_from_strangers": True},
    )

    follows.follow(stranger, account)
    follows.follow(friend, account)
    post_status(stranger, NewStatus(text="@alice hello"))
    post_status(friend, NewStatus(text="@alice hello"))
    senders = db.session.scalars(
        select(Notification.from_account_id).where(Notification.account_id == account.id)
    )
    assert sorted(senders) == sorted([friend.id, friend.id])
