from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from app import create_app
from models import Account
from models import Follow
from models import Media
from models import Mute
from models import Notification
from models import Status
from models import db
from models import utcnow
from services.statuses import NewStatus
from services.statuses import post_status
from tests.conftest import BASE_URL
from tests.conftest import basic_headers

# A 1x1 PNG: small enough for any limit, real enough for the type sniffer.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@pytest.fixture
def bob(make_account):
    return make_account("bob")


def _post(author, text="hello", visibility="public", **kwargs):
    return post_status(author, NewStatus(text=text, visibility=visibility, **kwargs))


def _notifications(recipient, type_=None):
    query = select(Notification).where(Notification.account_id == recipient.id)
    if type_:
        query = query.where(Notification.type == type_)
    return list(db.session.scalars(query))


def _refresh(*accounts):
    for account in accounts:
        db.session.refresh(account)


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
# update_credentials


def test_update_credentials_profile_text_and_flags_from_a_form(client, account, bob, auth_headers):
    response = client.patch(
        "/api/v1/accounts/update_credentials",
        data={
            "display_name": "Alice A.",
            "note": "friend of @bob, see #cats",
            "locked": "true",
            "bot": "1",
            "discoverable": "on",
            "source[privacy]": "unlisted",
            "source[sensitive]": "true",
            "hide_followers": "true",
            "hide_follows": "true",
            "hide_followers_count": "true",
            "hide_follows_count": "true",
            "hide_favorites": "false",
            "show_role": "false",
            "no_rich_text": "true",
            "skip_thread_containment": "true",
            "allow_following_move": "false",
            "accepts_chat_messages": "true",
            "is_admin": "true",  # never settable: not part of the input
            "nickname": "mallory",
        },
        headers=auth_headers(account),
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["display_name"] == "Alice A."
    assert body["username"] == "alice"
    assert 'href="http://127.0.0.1:5000/users/bob"' in body["note"]
    assert 'href="http://127.0.0.1:5000/tag/cats"' in body["note"]
    assert body["source"]["note"] == "friend of @bob, see #cats"
    assert body["locked"] is True and body["bot"] is True and body["discoverable"] is True
    assert body["source"]["privacy"] == "unlisted" and body["source"]["sensitive"] is True
    assert body["source"]["pleroma"] == {
        "show_role": False,
        "no_rich_text": True,
        "discoverable": True,
        "actor_type": "Service",
    }
    pleroma = body["pleroma"]
    assert pleroma["hide_followers"] and pleroma["hide_follows"]
    assert pleroma["hide_followers_count"] and pleroma["hide_follows_count"]
    assert pleroma["hide_favorites"] is False
    assert pleroma["skip_thread_containment"] is True
    assert pleroma["allow_following_move"] is False
    assert pleroma["accepts_chat_messages"] is True
    assert pleroma["is_admin"] is False
    _refresh(account)
    assert account.is_admin is False and account.nickname == "alice"


def test_update_credentials_json_fields_scope_and_aliases(client, account, auth_headers):
    response = client.patch(
        "/api/v1/accounts/update_credentials",
        json={
            "fields_attributes": [{"name": "site", "value": "https://a.example"}, {"name": "", "value": ""}],
            "default_scope": "private",
            "also_known_as": ["https://old.example/users/alice"],
            "actor_type": "Service",
            "bot": False,  # the explicit actor_type wins
        },
        headers=auth_headers(account),
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["fields"] == [
        {
            "name": "site",
            "value": '<a href="https://a.example" rel="ugc">https://a.example</a>',
            "verified_at": None,
        }
    ]
    assert body["source"]["fields"] == [{"name": "site", "value": "https://a.example"}]
    assert body["source"]["privacy"] == "private"
    assert body["pleroma"]["also_known_as"] == ["https://old.example/users/alice"]
    assert body["bot"] is True


def test_update_credentials_fields_as_an_index_map(client, account, auth_headers):
    response = client.patch(
        "/api/v1/accounts/update_credentials",
        data={
            "fields_attributes[1][name]": "second",
            "fields_attributes[1][value]": "2",
            "fields_attributes[0][name]": "first",
            "fields_attributes[0][value]": "1",
        },
        headers=auth_headers(account),
    )
    assert response.status_code == 200
    assert [f["name"] for f in response.get_json()["fields"]] == ["first", "second"]
    as_json = client.patch(
        "/api/v1/accounts/update_credentials",
        json={"fields_attributes": {"0": {"name": "only", "value": "one"}}},
        headers=auth_headers(account),
    )
    assert [f["name"] for f in as_json.get_json()["fields"]] == ["only"]
    repeated = client.patch(
        "/api/v1/accounts/update_credentials",
        data="fields_attributes[][name]=a&fields_attributes[][value]=1"
        "&fields_attributes[][name]=b&fields_attributes[][value]=2",
        content_type="application/x-www-form-urlencoded",
        headers=auth_headers(account),
    )
    assert [(f["name"], f["value"]) for f in repeated.get_json()["fields"]] == [("a", "1"), ("b", "2")]


def test_update_credentials_more_than_four_fields_is_refused(client, account, auth_headers):
    fields = [{"name": f"n{i}", "value": "v"} for i in range(5)]
    response = client.patch(
        "/api/v1/accounts/update_credentials",
        json={"fields_attributes": fields},
        headers=auth_headers(account),
    )
    assert response.status_code == 403
    assert response.get_json() == {"error": "Invalid request"}
    _refresh(account)
    assert account.fields == []


@pytest.mark.parametrize(
    "body",
    [
        {"locked": "maybe"},
        {"default_scope": "everyone"},
        {"source": {"privacy": "friends"}},
        {"source": "private"},
        {"actor_type": "Robot"},
        {"fields_attributes": "site=x"},
        {"pleroma_settings_store": ["not", "a", "map"]},
        {"avatar": "not-a-file"},
        {"display_name": "x" * 101},
        {"also_known_as": ["not a url"]},
    ],
)
def test_update_credentials_invalid_values(client, account, auth_headers, body):
    response = client.patch("/api/v1/accounts/update_credentials", json=body, headers=auth_headers(account))
    assert response.status_code == 403
    assert response.get_json() == {"error": "Invalid request"}


def test_update_credentials_settings_store_merges_per_frontend(client, account, auth_headers):
    headers = auth_headers(account)
    client.patch(
        "/api/v1/accounts/update_credentials",
        json={"pleroma_settings_store": {"pleroma-fe": {"theme": "dark", "size": 1}, "other": {"x": 1}}},
        headers=headers,
    )
    response = client.patch(
        "/api/v1/accounts/update_credentials",
        json={"pleroma_settings_store": {"pleroma-fe": {"theme": "light"}}},
        headers=headers,
    )
    assert response.status_code == 200
    assert response.get_json()["pleroma"]["settings_store"] == {
        "pleroma-fe": {"theme": "light"},
        "other": {"x": 1},
    }


def test_update_credentials_images_upload_and_reset(app, client, account, auth_headers):
    headers = auth_headers(account)
    response = client.patch(
        "/api/v1/accounts/update_credentials",
        data={
            "avatar": (io.BytesIO(PNG), "me.png"),
            "header": (io.BytesIO(PNG), "banner.png"),
            "pleroma_background_image": (io.BytesIO(PNG), "bg.png"),
        },
        headers=headers,
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["avatar"].startswith(f"{BASE_URL}/media/") and body["avatar"].endswith("/me.png")
    assert body["avatar_static"] == body["avatar"]
    assert body["header"].endswith("/banner.png")
    assert body["pleroma"]["background_image"].endswith("/bg.png")
    stored = Path(app.instance_path) / "media" / body["avatar"].removeprefix(f"{BASE_URL}/media/")
    assert stored.read_bytes() == PNG

    reset = client.patch(
        "/api/v1/accounts/update_credentials",
        data={"avatar": "", "header": "", "pleroma_background_image": ""},
        headers=headers,
    )
    body = reset.get_json()
    assert body["avatar"] == f"{BASE_URL}/images/avi.png"
    assert body["header"] == f"{BASE_URL}/images/banner.png"
    assert body["pleroma"]["background_image"] is None
    assert not stored.exists()


def test_update_credentials_avatar_too_large(app, client, account, auth_headers):
    app.config["AVATAR_UPLOAD_LIMIT"] = 10
    response = client.patch(
        "/api/v1/accounts/update_credentials",
        data={"avatar": (io.BytesIO(PNG), "me.png"), "display_name": "Changed"},
        headers=auth_headers(account),
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert response.get_json() == {"error": "File is too large"}
    _refresh(account)
    assert account.avatar is None and account.display_name == ""


def test_update_credentials_without_auth_and_with_wrong_scope(client, account, auth_headers):
    response = client.patch("/api/v1/accounts/update_credentials", data={"display_name": "x"})
    assert response.status_code == 403
    assert response.get_json() == {"error": "Invalid credentials."}
    response = client.patch(
        "/api/v1/accounts/update_credentials",
        data={"display_name": "x"},
        headers=auth_headers(account, "read"),
    )
    assert response.status_code == 403
    assert response.get_json() == {"error": "Insufficient permissions: write:accounts."}


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


# ---------------------------------------------------------------------------------------------
# follow / unfollow


def test_follow_counts_and_notifies(client, account, bob, auth_headers):
    response = client.post(f"/api/v1/accounts/{bob.id}/follow", headers=auth_headers(account))
    assert response.status_code == 200
    relationship = response.get_json()
    assert relationship["id"] == bob.id
    assert relationship["following"] is True and relationship["requested"] is False
    assert relationship["showing_reblogs"] is True and relationship["notifying"] is False
    _refresh(account, bob)
    assert (account.following_count, bob.followers_count) == (1, 1)
    assert [n.from_account_id for n in _notifications(bob, "follow")] == [account.id]
    # Following again changes nothing but the flags.
    again = client.post(
        f"/api/v1/accounts/{bob.id}/follow",
        json={"reblogs": False, "notify": True},
        headers=auth_headers(account),
    ).get_json()
    assert again["following"] is True
    assert again["showing_reblogs"] is False
    assert again["notifying"] is True and again["subscribing"] is True
    _refresh(account, bob)
    assert (account.following_count, bob.followers_count) == (1, 1)
    assert len(_notifications(bob, "follow")) == 1
    assert client.get(f"/api/v1/accounts/{bob.id}").get_json()["followers_count"] == 1
    assert client.get(f"/api/v1/accounts/{account.id}").get_json()["following_count"] == 1


def test_follow_locked_account_makes_a_request(client, account, bob, auth_headers):
    bob.is_locked = True
    db.session.commit()
    relationship = client.post(f"/api/v1/accounts/{bob.id}/follow", headers=auth_headers(account)).get_json()
    assert relationship["following"] is False and relationship["requested"] is True
    _refresh(account, bob)
    assert (account.following_count, bob.followers_count) == (0, 0)
    assert len(_notifications(bob, "follow_request")) == 1
    assert _notifications(bob, "follow") == []


def test_follow_errors(client, account, bob, make_account, auth_headers):
    headers = auth_headers(account)
    response = client.post(f"/api/v1/accounts/{account.id}/follow", headers=headers)
    assert response.status_code == 400
    assert response.get_json() == {"error": "Can not follow yourself"}
    client.post(f"/api/v1/accounts/{account.id}/block", headers=auth_headers(bob))
    response = client.post(f"/api/v1/accounts/{bob.id}/follow", headers=headers)
    assert response.status_code == 403
    assert response.get_json() == {"error": "Could not follow user: bob blocked you."}
    gone = make_account("gone")
    gone.is_active = False
    db.session.commit()
    response = client.post(f"/api/v1/accounts/{gone.id}/follow", headers=headers)
    assert response.status_code == 403
    assert response.get_json() == {"error": "Could not follow user: gone is deactivated."}
    response = client.post("/api/v1/accounts/000000000000000000/follow", headers=headers)
    assert response.status_code == 404
    assert response.get_json() == {"error": "Record not found"}
    response = client.post(
        f"/api/v1/accounts/{bob.id}/follow", json={"reblogs": "sometimes"}, headers=headers
    )
    assert response.status_code == 400


def test_follow_without_auth_and_wrong_scope(client, account, bob, auth_headers):
    response = client.post(f"/api/v1/accounts/{bob.id}/follow")
    assert response.status_code == 403
    assert response.get_json() == {"error": "Invalid credentials."}
    response = client.post(
        f"/api/v1/accounts/{bob.id}/follow", headers=auth_headers(account, "read write:statuses")
    )
    assert response.status_code == 403
    assert response.get_json() == {"error": "Insufficient permissions: follow | write:follows."}
    granular = client.post(
        f"/api/v1/accounts/{bob.id}/follow", headers=auth_headers(account, "write:follows")
    )
    assert granular.status_code == 200


def test_unfollow_restores_counts_and_withdraws_notification(client, account, bob, auth_headers):
    headers = auth_headers(account)
    client.post(f"/api/v1/accounts/{bob.id}/follow", headers=headers)
    client.post(f"/api/v1/accounts/{bob.id}/pin", headers=headers)
    response = client.post(f"/api/v1/accounts/{bob.id}/unfollow", headers=headers)
    assert response.status_code == 200
    relationship = response.get_json()
    assert relationship["following"] is False and relationship["endorsed"] is False
    _refresh(account, bob)
    assert (account.following_count, bob.followers_count) == (0, 0)
    assert _notifications(bob) == []
    # Unfollowing someone not followed is harmless.
    assert client.post(f"/api/v1/accounts/{bob.id}/unfollow", headers=headers).status_code == 200
    _refresh(account, bob)
    assert (account.following_count, bob.followers_count) == (0, 0)


def test_unfollow_pending_request(client, account, bob, auth_headers):
    bob.is_locked = True
    db.session.commit()
    headers = auth_headers(account)
    client.post(f"/api/v1/accounts/{bob.id}/follow", headers=headers)
    relationship = client.post(f"/api/v1/accounts/{bob.id}/unfollow", headers=headers).get_json()
    assert relationship["requested"] is False
    assert _notifications(bob) == []
    _refresh(bob)
    assert bob.followers_count == 0


def test_unfollow_errors(client, account, auth_headers):
    response = client.post(f"/api/v1/accounts/{account.id}/unfollow", headers=auth_headers(account))
    assert response.status_code == 400
    assert response.get_json() == {"error": "Can not unfollow yourself"}
    response = client.post("/api/v1/accounts/nobody/unfollow", headers=auth_headers(account))
    assert response.status_code == 404
    response = client.post(f"/api/v1/accounts/{account.id}/unfollow", headers=auth_headers(account, "read"))
    assert response.get_json() == {"error": "Insufficient permissions: follow | write:follows."}


# ---------------------------------------------------------------------------------------------
# block / unblock


def test_block_ends_follows_both_ways(client, account, bob, auth_headers):
    client.post(f"/api/v1/accounts/{bob.id}/follow", headers=auth_headers(account))
    client.post(f"/api/v1/accounts/{account.id}/follow", json={"notify": True}, headers=auth_headers(bob))
    client.post(f"/api/v1/accounts/{bob.id}/pin", headers=auth_headers(account))
    response = client.post(f"/api/v1/accounts/{bob.id}/block", headers=auth_headers(account))
    assert response.status_code == 200
    relationship = response.get_json()
    assert relationship["blocking"] is True
    assert relationship["following"] is relationship["followed_by"] is relationship["endorsed"] is False
    _refresh(account, bob)
    assert (account.following_count, account.followers_count) == (0, 0)
    assert (bob.following_count, bob.followers_count) == (0, 0)
    theirs = client.get(
        f"/api/v1/accounts/relationships?id={account.id}", headers=auth_headers(bob)
    ).get_json()[0]
    assert theirs["blocked_by"] is True and theirs["subscribing"] is False
    unblocked = client.post(f"/api/v1/accounts/{bob.id}/unblock", headers=auth_headers(account))
    assert unblocked.status_code == 200
    assert unblocked.get_json()["blocking"] is False


def test_block_errors_and_scope(client, account, bob, auth_headers):
    response = client.post(f"/api/v1/accounts/{account.id}/block", headers=auth_headers(account))
    assert response.status_code == 403
    assert response.get_json() == {"error": "Can not block yourself"}
    assert client.post("/api/v1/accounts/nobody/block", headers=auth_headers(account)).status_code == 404
    assert client.post(f"/api/v1/accounts/{bob.id}/block").get_json() == {"error": "Invalid credentials."}
    response = client.post(
        f"/api/v1/accounts/{bob.id}/unblock", headers=auth_headers(account, "write:follows")
    )
    assert response.status_code == 403
    assert response.get_json() == {"error": "Insufficient permissions: follow | write:blocks."}
    assert (
        client.post(
            f"/api/v1/accounts/{bob.id}/block", headers=auth_headers(account, "write:blocks")
        ).status_code
        == 200
    )


# ---------------------------------------------------------------------------------------------
# mute / unmute


def test_mute_defaults_and_options(client, account, bob, auth_headers):
    headers = auth_headers(account)
    relationship = client.post(f"/api/v1/accounts/{bob.id}/mute", headers=headers).get_json()
    assert relationship["muting"] is True and relationship["muting_notifications"] is True
    row = db.session.scalar(select(Mute).where(Mute.account_id == account.id))
    assert row.expires_at is None
    relationship = client.post(
        f"/api/v1/accounts/{bob.id}/mute", json={"notifications": False, "expires_in": 3600}, headers=headers
    ).get_json()
    assert relationship["muting"] is True and relationship["muting_notifications"] is False
    db.session.refresh(row)
    assert isinstance(row.expires_at, datetime) and row.expires_at > utcnow()
    relationship = client.post(f"/api/v1/accounts/{bob.id}/unmute", headers=headers).get_json()
    assert relationship["muting"] is False


def test_mute_errors_and_scope(client, account, bob, auth_headers):
    response = client.post(
        f"/api/v1/accounts/{bob.id}/mute", data={"expires_in": "soon"}, headers=auth_headers(account)
    )
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("expires_in - ")
    assert client.post("/api/v1/accounts/nobody/mute", headers=auth_headers(account)).status_code == 404
    assert client.post(f"/api/v1/accounts/{bob.id}/mute").status_code == 403
    response = client.post(f"/api/v1/accounts/{bob.id}/mute", headers=auth_headers(account, "write:blocks"))
    assert response.get_json() == {"error": "Insufficient permissions: follow | write:mutes."}
    assert (
        client.post(
            f"/api/v1/accounts/{bob.id}/unmute", headers=auth_headers(account, "write:mutes")
        ).status_code
        == 200
    )


# ---------------------------------------------------------------------------------------------
# relationships


def test_relationships_in_request_order_skipping_unknown(client, account, bob, make_account, auth_headers):
    carol = make_account("carol")
    client.post(f"/api/v1/accounts/{carol.id}/follow", headers=auth_headers(account))
    response = client.get(
        f"/api/v1/accounts/relationships?id[]={carol.id}&id[]=unknown000000000000&id[]={bob.id}",
        headers=auth_headers(account),
    )
    assert response.status_code == 200
    body = response.get_json()
    assert [r["id"] for r in body] == [carol.id, bob.id]
    assert body[0]["following"] is True and body[1]["following"] is False
    assert set(body[0]) == {
        "id",
        "following",
        "showing_reblogs",
        "notifying",
        "followed_by",
        "blocking",
        "blocked_by",
        "muting",
        "muting_notifications",
        "subscribing",
        "requested",
        "domain_blocking",
        "endorsed",
        "note",
    }
    single = client.get(
        f"/api/v1/accounts/relationships?id={bob.id}", headers=auth_headers(account)
    ).get_json()
    assert [r["id"] for r in single] == [bob.id]
    assert client.get("/api/v1/accounts/relationships", headers=auth_headers(account)).get_json() == []


def test_relationships_auth(client, account, bob, auth_headers):
    response = client.get(f"/api/v1/accounts/relationships?id={bob.id}")
    assert response.status_code == 403
    response = client.get(
        f"/api/v1/accounts/relationships?id={bob.id}", headers=auth_headers(account, "read:accounts")
    )
    assert response.get_json() == {"error": "Insufficient permissions: read:follows."}


# ---------------------------------------------------------------------------------------------
# pin / unpin


def test_pin_requires_following(client, account, bob, auth_headers):
    headers = auth_headers(account)
    response = client.post(f"/api/v1/accounts/{bob.id}/pin", headers=headers)
    assert response.status_code == 400
    assert response.get_json() == {"error": "You must be following the account to endorse it"}
    client.post(f"/api/v1/accounts/{bob.id}/follow", headers=headers)
    assert client.post(f"/api/v1/accounts/{bob.id}/pin", headers=headers).get_json()["endorsed"] is True
    assert client.post(f"/api/v1/accounts/{bob.id}/unpin", headers=headers).get_json()["endorsed"] is False


def test_pin_auth(client, account, bob, auth_headers):
    assert client.post(f"/api/v1/accounts/{bob.id}/pin").status_code == 403
    response = client.post(f"/api/v1/accounts/{bob.id}/pin", headers=auth_headers(account, "read"))
    assert response.get_json() == {"error": "Insufficient permissions: follow | write:accounts."}
    assert client.post("/api/v1/accounts/nobody/unpin", headers=auth_headers(account)).status_code == 404


# ---------------------------------------------------------------------------------------------
# The three ways to authenticate, on a read and a write endpoint


def _cookie_client(app, oauth_app, nickname):
    cookie_client = app.test_client()
    response = cookie_client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": oauth_app["client_id"],
            "client_secret": oauth_app["client_secret"],
            "username": nickname,
            "password": "secret-pw",
        },
    )
    assert response.status_code == 200
    return cookie_client


def test_relationships_and_follow_with_basic_auth(client, account, bob):
    response = client.post(f"/api/v1/accounts/{bob.id}/follow", headers=basic_headers("alice"))
    assert response.status_code == 200 and response.get_json()["following"] is True
    read = client.get(f"/api/v1/accounts/relationships?id={bob.id}", headers=basic_headers("alice"))
    assert read.get_json()[0]["following"] is True
    wrong = client.get(f"/api/v1/accounts/relationships?id={bob.id}", headers=basic_headers("alice", "nope"))
    assert wrong.status_code == 403


def test_relationships_and_follow_with_session_cookie(app, client, account, bob, oauth_app):
    cookie_client = _cookie_client(app, oauth_app, "alice")
    response = cookie_client.post(f"/api/v1/accounts/{bob.id}/follow")
    assert response.status_code == 200 and response.get_json()["following"] is True
    read = cookie_client.get(f"/api/v1/accounts/relationships?id={bob.id}")
    assert read.status_code == 200 and read.get_json()[0]["following"] is True


def test_relationships_and_follow_with_bearer(client, account, bob, auth_headers):
    headers = auth_headers(account, "read:follows write:follows")
    assert client.post(f"/api/v1/accounts/{bob.id}/follow", headers=headers).get_json()["following"] is True
    assert client.get(f"/api/v1/accounts/relationships?id={bob.id}", headers=headers).get_json()[0][
        "following"
    ]


def test_update_credentials_ignores_null_inside_source(client, account, auth_headers):
    """Found by the fuzzing: `source.privacy: null` reached a NOT NULL column (500)."""
    response = client.patch(
        "/api/v1/accounts/update_credentials",
        json={"source": {"privacy": None, "sensitive": None}, "display_name": "Alice"},
        headers=auth_headers(account),
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["source"]["privacy"] == "public"
    assert response.get_json()["source"]["sensitive"] is False


@pytest.mark.parametrize("field", ["expires_in", "duration"])
def test_mute_refuses_a_duration_past_the_integer_range(client, account, bob, auth_headers, field):
    """Found by the fuzzing: a mute for 10**14 seconds overflowed the date arithmetic (500)."""
    response = client.post(
        f"/api/v1/accounts/{bob.id}/mute", data={field: "110036699675438"}, headers=auth_headers(account)
    )
    assert response.status_code == 400
    assert response.get_json()["error"].startswith(f"{field} - ")
