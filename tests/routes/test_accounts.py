"""Accounts (routes/accounts.py): registration, verify_credentials, lookup, search, show, an
account's statuses and its follow lists. Profile updates: test_accounts_profile.py; follows,
blocks, mutes, relationships and pins: test_accounts_relationships.py."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app import create_app
from models import Account
from models import Follow
from models import Media
from models import Status
from models import db
from models import utcnow
from services.statuses import NewStatus
from services.statuses import post_status
from tests.conftest import BASE_URL


def _post(author, text="hello", visibility="public", **kwargs):
    return post_status(author, NewStatus(text=text, visibility=visibility, **kwargs))


def _app_token(client):
    registered = client.post(
        "/api/v1/apps",
        data={
            "client_name": "reg",
            "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
            "scopes": "read write follow",
        },
    ).get_json()
    response = client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": registered["client_id"],
            "client_secret": registered["client_secret"],
        },
    )
    return response.get_json()["access_token"]


# ---------------------------------------------------------------------------------------------
# POST /api/v1/accounts


def test_register_with_app_token_logs_the_user_in(client):
    app_token = _app_token(client)
    response = client.post(
        "/api/v1/accounts",
        json={
            "username": "newbie",
            "password": "pw-pw-pw",
            "email": "n@example.org",
            "agreement": True,
            "fullname": "New Bie",
            "bio": "hi #there",
        },
        headers={"Authorization": f"Bearer {app_token}"},
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "read write follow"
    assert body["me"] == f"{BASE_URL}/users/newbie"
    me = client.get(
        "/api/v1/accounts/verify_credentials", headers={"Authorization": f"Bearer {body['access_token']}"}
    ).get_json()
    assert me["username"] == "newbie"
    assert me["display_name"] == "New Bie"
    assert me["source"]["note"] == "hi #there"


def test_register_with_user_token_works(client, account, auth_headers):
    response = client.post(
        "/api/v1/accounts", data={"username": "second", "password": "pw-pw-pw"}, headers=auth_headers(account)
    )
    assert response.status_code == 200
    assert response.get_json()["me"].endswith("/users/second")


def test_register_without_token_is_forbidden(client):
    response = client.post("/api/v1/accounts", data={"username": "newbie", "password": "pw"})
    assert response.status_code == 403
    assert response.get_json() == {"error": "Invalid credentials"}


def test_register_closed_registrations_answers_invalid_token(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "closed"),
            "JOBS_IMMEDIATE": True,
            "REGISTRATIONS_OPEN": False,
        }
    )
    with app.app_context():
        db.create_all()
        client = app.test_client()
        response = client.post(
            "/api/v1/accounts",
            data={"username": "newbie", "password": "pw-pw-pw", "agreement": "true"},
            headers={"Authorization": f"Bearer {_app_token(client)}"},
        )
        assert response.status_code == 400
        assert response.get_json() == {"error": "Invalid token"}
        assert Account.find_local("newbie") is None
        db.session.remove()


def test_register_validation_errors_are_a_json_string(client, account):
    response = client.post(
        "/api/v1/accounts",
        data={"username": "alice", "password": "pw-pw-pw", "email": "not-an-email"},
        headers={"Authorization": f"Bearer {_app_token(client)}"},
    )
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert isinstance(error, str)
    assert json.loads(error) == {"nickname": ["has already been taken"], "email": ["has invalid format"]}


def test_register_missing_username(client):
    response = client.post(
        "/api/v1/accounts",
        data={"password": "pw-pw-pw"},
        headers={"Authorization": f"Bearer {_app_token(client)}"},
    )
    assert response.status_code == 400
    assert response.get_json() == {"error": "Missing field: username."}


# ---------------------------------------------------------------------------------------------
# verify_credentials


def test_verify_credentials_has_source_and_owner_keys(client, account, bob, auth_headers):
    _post(bob, "hi @alice")
    response = client.get("/api/v1/accounts/verify_credentials", headers=auth_headers(account))
    assert response.status_code == 200
    body = response.get_json()
    assert body["acct"] == "alice"
    assert body["source"] == {
        "note": "",
        "privacy": "public",
        "sensitive": False,
        "fields": [],
        "pleroma": {"show_role": True, "no_rich_text": False, "discoverable": False, "actor_type": "Person"},
    }
    pleroma = body["pleroma"]
    assert pleroma["unread_notifications_count"] == 1
    assert pleroma["chat_token"] == ""
    assert pleroma["is_admin"] is False
    for key in (
        "settings_store",
        "notification_settings",
        "allow_following_move",
        "unread_conversation_count",
        "also_known_as",
        "follow_requests_count",
    ):
        assert key in pleroma


def test_verify_credentials_wrong_scope(client, account, auth_headers):
    response = client.get(
        "/api/v1/accounts/verify_credentials", headers=auth_headers(account, "read:statuses")
    )
    assert response.status_code == 403
    assert response.get_json() == {"error": "Insufficient permissions: read:accounts."}


def test_verify_credentials_without_auth(client):
    response = client.get("/api/v1/accounts/verify_credentials")
    assert response.status_code == 403
    assert response.get_json() == {"error": "Invalid credentials."}


# ---------------------------------------------------------------------------------------------
# lookup, search, show


@pytest.mark.parametrize("acct", ["alice", "@alice", "alice@127.0.0.1", "alice@127.0.0.1:5000", "ALICE"])
def test_lookup_local_names(client, account, acct):
    response = client.get("/api/v1/accounts/lookup", query_string={"acct": acct})
    assert response.status_code == 200
    assert response.get_json()["id"] == account.id


def test_lookup_unknown_and_missing(client, account):
    response = client.get("/api/v1/accounts/lookup?acct=nobody")
    assert response.status_code == 404
    assert response.get_json() == {"error": "Can't find user"}
    assert client.get("/api/v1/accounts/lookup?acct=alice@elsewhere.example").status_code == 404
    response = client.get("/api/v1/accounts/lookup")
    assert response.status_code == 400
    assert response.get_json() == {"error": "Missing field: acct."}


def test_search_prefix_limit_offset(client, make_account):
    make_account("alex")
    make_account("al")
    make_account("bob", display_name="Alberto")
    make_account("carol")
    found = client.get("/api/v1/accounts/search?q=al").get_json()
    assert found[0]["acct"] == "al"  # the exact nickname first
    assert {a["acct"] for a in found} == {"al", "alex", "bob"}
    assert len(client.get("/api/v1/accounts/search?q=al&limit=1").get_json()) == 1
    assert len(client.get("/api/v1/accounts/search?q=al&offset=2").get_json()) == 1
    assert client.get("/api/v1/accounts/search?q=@carol&resolve=true").get_json()[0]["acct"] == "carol"
    response = client.get("/api/v1/accounts/search")
    assert response.status_code == 400
    assert response.get_json() == {"error": "Missing field: q."}


def test_show_by_id_and_nickname(client, account, bob):
    by_id = client.get(f"/api/v1/accounts/{bob.id}")
    assert by_id.status_code == 200
    body = by_id.get_json()
    assert body["id"] == bob.id and body["acct"] == "bob" and body["url"] == f"{BASE_URL}/users/bob"
    assert body["pleroma"]["relationship"] == {}
    assert "source" not in body
    assert client.get("/api/v1/accounts/bob").get_json()["id"] == bob.id


def test_show_with_relationships(client, account, bob, auth_headers):
    client.post(f"/api/v1/accounts/{bob.id}/follow", headers=auth_headers(account))
    response = client.get(f"/api/v1/accounts/{bob.id}?with_relationships=true", headers=auth_headers(account))
    relationship = response.get_json()["pleroma"]["relationship"]
    assert relationship["id"] == bob.id and relationship["following"] is True
    # A token without read:accounts reads as anonymous on this optional-auth endpoint.
    anonymous = client.get(
        f"/api/v1/accounts/{bob.id}?with_relationships=true", headers=auth_headers(account, "read:statuses")
    )
    assert anonymous.status_code == 200
    assert anonymous.get_json()["pleroma"]["relationship"] == {}


def test_show_unknown_or_deactivated(client, bob):
    response = client.get("/api/v1/accounts/nobody")
    assert response.status_code == 404
    assert response.get_json() == {"error": "Can't find user"}
    bob.is_active = False
    db.session.commit()
    response = client.get(f"/api/v1/accounts/{bob.id}")
    assert response.status_code == 404
    assert response.get_json() == {"error": "Can't find user"}


# ---------------------------------------------------------------------------------------------
# statuses


def test_account_statuses_newest_first_with_link(client, bob):
    ids = [_post(bob, f"post {i}").id for i in range(3)]
    response = client.get(f"/api/v1/accounts/{bob.id}/statuses?limit=2")
    assert response.status_code == 200
    assert [s["id"] for s in response.get_json()] == [ids[2], ids[1]]
    link = response.headers["Link"]
    assert f"max_id={ids[1]}" in link and f"min_id={ids[2]}" in link and "limit=2" in link
    older = client.get(f"/api/v1/accounts/bob/statuses?max_id={ids[1]}").get_json()
    assert [s["id"] for s in older] == [ids[0]]
    newer = client.get(f"/api/v1/accounts/bob/statuses?min_id={ids[0]}&limit=1").get_json()
    assert [s["id"] for s in newer] == [ids[1]]
    empty = client.get(f"/api/v1/accounts/bob/statuses?max_id={ids[0]}")
    assert empty.get_json() == [] and "Link" not in empty.headers


def test_account_statuses_private_only_for_followers(client, account, bob, make_account, auth_headers):
    public = _post(bob, "for all")
    private = _post(bob, "for followers", visibility="private")
    direct = _post(bob, "psst @alice", visibility="direct")
    anonymous = [s["id"] for s in client.get(f"/api/v1/accounts/{bob.id}/statuses").get_json()]
    assert anonymous == [public.id]
    carol = make_account("carol")
    stranger = client.get(f"/api/v1/accounts/{bob.id}/statuses", headers=auth_headers(carol)).get_json()
    assert [s["id"] for s in stranger] == [public.id]
    # alice is addressed by the DM; once she follows, the private post shows too.
    headers = auth_headers(account)
    assert [
        s["id"] for s in client.get(f"/api/v1/accounts/{bob.id}/statuses", headers=headers).get_json()
    ] == [
        direct.id,
        public.id,
    ]
    client.post(f"/api/v1/accounts/{bob.id}/follow", headers=headers)
    seen = [s["id"] for s in client.get(f"/api/v1/accounts/{bob.id}/statuses", headers=headers).get_json()]
    assert seen == [direct.id, private.id, public.id]
    own = client.get(f"/api/v1/accounts/{bob.id}/statuses", headers=auth_headers(bob)).get_json()
    assert len(own) == 3


def test_account_statuses_filters(client, account, bob):
    first = _post(bob, "first #Cats")
    reply = _post(bob, "a reply", in_reply_to_id=first.id)
    unlisted = _post(bob, "quiet", visibility="unlisted")
    pinned = _post(bob, "pinned one")
    pinned.pinned_at = utcnow()
    with_media = _post(bob, "picture")
    db.session.add(Media(account_id=bob.id, status_id=with_media.id, path="x/p.png", mime_type="image/png"))
    other = _post(account, "alice's post")
    reblog = Status(
        account_id=bob.id, reblog_of_id=other.id, context_id=other.context_id, visibility="public"
    )
    db.session.add(reblog)
    db.session.commit()

    def ids(query):
        response = client.get(f"/api/v1/accounts/{bob.id}/statuses?{query}")
        assert response.status_code == 200, response.get_json()
        return {s["id"] for s in response.get_json()}

    everything = {first.id, reply.id, unlisted.id, pinned.id, with_media.id, reblog.id}
    assert ids("") == everything
    assert ids("pinned=true") == {pinned.id}
    assert ids("only_media=true") == {with_media.id}
    assert ids("exclude_replies=true") == everything - {reply.id}
    assert ids("exclude_reblogs=true") == everything - {reblog.id}
    assert ids("only_reblogs=true") == {reblog.id}
    assert ids("exclude_visibilities[]=unlisted&exclude_visibilities[]=direct") == everything - {unlisted.id}
    assert ids("tagged=cats") == {first.id}
    wrapper = next(
        s for s in client.get(f"/api/v1/accounts/{bob.id}/statuses").get_json() if s["id"] == reblog.id
    )
    assert wrapper["reblog"]["id"] == other.id


def test_account_statuses_hide_reblogs_of_muted_and_unseen(client, account, bob, make_account, auth_headers):
    carol = make_account("carol")
    hidden = _post(carol, "followers only", visibility="private")
    shown = _post(carol, "public")
    for original in (hidden, shown):
        db.session.add(
            Status(
                account_id=bob.id,
                reblog_of_id=original.id,
                context_id=original.context_id,
                visibility="public",
            )
        )
    db.session.commit()
    assert len(client.get(f"/api/v1/accounts/{bob.id}/statuses").get_json()) == 1
    headers = auth_headers(account)
    client.post(f"/api/v1/accounts/{carol.id}/mute", headers=headers)
    assert client.get(f"/api/v1/accounts/{bob.id}/statuses", headers=headers).get_json() == []
    assert (
        len(client.get(f"/api/v1/accounts/{bob.id}/statuses?with_muted=true", headers=headers).get_json())
        == 1
    )


def test_account_statuses_unknown(client):
    response = client.get("/api/v1/accounts/nobody/statuses")
    assert response.status_code == 404
    assert response.get_json() == {"error": "Can't find user"}


def test_account_statuses_bad_input(client, bob):
    response = client.get(f"/api/v1/accounts/{bob.id}/statuses?pinned=maybe")
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("pinned - ")


# ---------------------------------------------------------------------------------------------
# followers / following


def test_followers_and_following_paged_by_follow(client, account, bob, make_account, auth_headers):
    carol = make_account("carol")
    client.post(f"/api/v1/accounts/{account.id}/follow", headers=auth_headers(bob))
    client.post(f"/api/v1/accounts/{account.id}/follow", headers=auth_headers(carol))
    response = client.get(f"/api/v1/accounts/{account.id}/followers?limit=1")
    assert response.status_code == 200
    assert [a["acct"] for a in response.get_json()] == ["carol"]
    newest = db.session.scalar(select(Follow.id).where(Follow.follower_id == carol.id))
    oldest = db.session.scalar(select(Follow.id).where(Follow.follower_id == bob.id))
    assert f"max_id={newest}" in response.headers["Link"]
    nxt = client.get(f"/api/v1/accounts/{account.id}/followers?limit=1&max_id={newest}").get_json()
    assert [a["acct"] for a in nxt] == ["bob"]
    assert client.get(f"/api/v1/accounts/{account.id}/followers?max_id={oldest}").get_json() == []
    following = client.get(f"/api/v1/accounts/{bob.id}/following").get_json()
    assert [a["acct"] for a in following] == ["alice"]


def test_followers_with_relationships(client, account, bob, auth_headers):
    client.post(f"/api/v1/accounts/{account.id}/follow", headers=auth_headers(bob))
    body = client.get(
        f"/api/v1/accounts/{account.id}/followers?with_relationships=true", headers=auth_headers(account)
    ).get_json()
    assert body[0]["pleroma"]["relationship"]["followed_by"] is True


def test_hidden_follow_lists_are_empty_for_others(client, account, bob, auth_headers):
    client.post(f"/api/v1/accounts/{account.id}/follow", headers=auth_headers(bob))
    client.post(f"/api/v1/accounts/{bob.id}/follow", headers=auth_headers(account))
    account.hide_followers = account.hide_follows = True
    db.session.commit()
    for which in ("followers", "following"):
        response = client.get(f"/api/v1/accounts/{account.id}/{which}", headers=auth_headers(bob))
        assert response.status_code == 200 and response.get_json() == []
        own = client.get(f"/api/v1/accounts/{account.id}/{which}", headers=auth_headers(account)).get_json()
        assert [a["acct"] for a in own] == ["bob"]


def test_followers_unknown_account(client):
    response = client.get("/api/v1/accounts/nobody/followers")
    assert response.status_code == 404
    assert response.get_json() == {"error": "Record not found"}
