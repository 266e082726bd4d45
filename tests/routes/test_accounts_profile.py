"""PATCH /api/v1/accounts/update_credentials: profile text, fields, settings and images."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.conftest import BASE_URL
from tests.routes.accounts_helpers import _refresh

# A 1x1 PNG: small enough for any limit, real enough for the type sniffer.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


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
