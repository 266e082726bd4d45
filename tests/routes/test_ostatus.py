"""GET/POST /ostatus_subscribe (SPEC 10): the minimal remote-follow page."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from models import Follow
from models import db
from tests.conftest import BASE_URL


@pytest.fixture
def bob(make_account):
    return make_account("bob")


def _follows(follower, target):
    db.session.expire_all()
    return db.session.scalar(
        select(Follow).where(Follow.follower_id == follower.id, Follow.followee_id == target.id)
    )


def _log_in_by_cookie(client, oauth_app, nickname="alice"):
    response = client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": oauth_app["client_id"],
            "client_secret": oauth_app["client_secret"],
            "username": nickname,
            "password": "secret-pw",
        },
    )
    assert response.status_code == 200  # the test client keeps the _pleroma_key cookie


def test_page_for_an_account_shows_a_login_form(client, bob):
    response = client.get(f"/ostatus_subscribe?acct={BASE_URL}/users/bob")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "bob" in page and 'name="password"' in page


def test_page_for_a_status_shows_it(client, bob, auth_headers):
    posted = client.post(
        "/api/v1/statuses", json={"status": "hello from bob"}, headers=auth_headers(bob)
    ).get_json()
    for acct in (posted["uri"], posted["url"]):
        response = client.get("/ostatus_subscribe", query_string={"acct": acct})
        assert response.status_code == 200
        assert "hello from bob" in response.get_data(as_text=True)


def test_page_for_something_unknown_is_404(client, account):
    response = client.get("/ostatus_subscribe?acct=https://nowhere.example/users/x")
    assert response.status_code == 404 and response.mimetype == "text/html"
    missing = client.get("/ostatus_subscribe")
    assert missing.status_code == 400
    assert missing.get_json() == {"error": "Missing field: acct."}


def test_follow_with_the_password_form(client, account, bob):
    wrong = client.post("/ostatus_subscribe", data={"acct": "bob", "nickname": "alice", "password": "nope"})
    assert wrong.status_code == 403 and _follows(account, bob) is None
    response = client.post(
        "/ostatus_subscribe", data={"acct": "bob", "nickname": "alice", "password": "secret-pw"}
    )
    assert response.status_code == 200
    assert "You now follow bob" in response.get_data(as_text=True)
    assert _follows(account, bob) is not None


def test_follow_as_the_logged_in_user_needs_the_form_token(client, oauth_app, account, bob):
    _log_in_by_cookie(client, oauth_app)
    page = client.get("/ostatus_subscribe?acct=bob").get_data(as_text=True)
    assert "Follow as alice" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    forged = client.post("/ostatus_subscribe", data={"acct": "bob"})
    assert forged.status_code == 403 and _follows(account, bob) is None
    response = client.post("/ostatus_subscribe", data={"acct": "bob", "csrf_token": token})
    assert response.status_code == 200
    assert _follows(account, bob) is not None


def test_follow_refused_shows_why(client, account, bob, auth_headers):
    client.post(f"/api/v1/accounts/{account.id}/block", headers=auth_headers(bob))
    response = client.post(
        "/ostatus_subscribe", data={"acct": "bob", "nickname": "alice", "password": "secret-pw"}
    )
    assert "Could not follow user: bob blocked you." in response.get_data(as_text=True)
    assert _follows(account, bob) is None
