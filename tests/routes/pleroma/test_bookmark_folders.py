from __future__ import annotations

import json

import pytest

from models import Bookmark
from models import db
from services.statuses import NewStatus
from services.statuses import post_status

BASE = "/api/v1/pleroma/bookmark_folders"


@pytest.fixture
def bob(make_account):
    return make_account("bob")


def _create(client, headers, **body):
    return client.post(BASE, json=body, headers=headers)


@pytest.mark.parametrize("prefix", ["/api/v1/pleroma", "/api/pleroma"])
def test_create_folder_returns_the_folder(client, account, auth_headers, prefix):
    response = client.post(
        f"{prefix}/bookmark_folders",
        data={"name": "Read later", "emoji": "🕓"},
        headers=auth_headers(account),
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["name"] == "Read later"
    assert body["emoji"] == "🕓"
    assert body["emoji_url"] is None
    assert isinstance(body["id"], str) and len(body["id"]) == 18


def test_create_folder_fully_qualifies_the_emoji(client, account, auth_headers):
    response = _create(client, auth_headers(account), name="Love", emoji="\u2764")
    assert response.get_json()["emoji"] == "\u2764\ufe0f"


def test_create_folder_accepts_a_local_custom_emoji(app, client, account, auth_headers, tmp_path):
    pack = tmp_path / "emoji" / "blobs"
    pack.mkdir()
    (pack / "blobcat.png").write_bytes(b"\x89PNG")
    (pack / "pack.json").write_text(json.dumps({"pack": {}, "files": {"blobcat": "blobcat.png"}}))
    for given in ("blobcat", ":blobcat:"):
        response = _create(client, auth_headers(account), name=f"cats {given}", emoji=given)
        assert response.status_code == 200
        assert response.get_json()["emoji"] == ":blobcat:"
        assert response.get_json()["emoji_url"] == "http://127.0.0.1:5000/emoji/blobs/blobcat.png"


@pytest.mark.parametrize("bad", ["x", "😀😀", ":nosuch:", "hi 😀"])
def test_create_folder_rejects_invalid_emoji(client, account, auth_headers, bad):
    response = _create(client, auth_headers(account), name="f", emoji=bad)
    assert response.status_code == 422
    assert response.get_json() == {"error": "Invalid emoji"}


def test_create_folder_name_is_unique_per_account(client, account, bob, auth_headers):
    assert _create(client, auth_headers(account), name="Later").status_code == 200
    response = _create(client, auth_headers(account), name="Later")
    assert response.status_code == 422
    assert response.get_json() == {"error": "has already been taken"}
    assert _create(client, auth_headers(bob), name="Later").status_code == 200


def test_create_folder_requires_name(client, account, auth_headers):
    response = _create(client, auth_headers(account), emoji="🕓")
    assert response.status_code == 400
    assert response.get_json() == {"error": "Missing field: name."}


def test_create_folder_needs_auth_and_scope(client, account, auth_headers):
    response = _create(client, {}, name="x")
    assert response.status_code == 403
    assert response.get_json() == {"error": "Invalid credentials."}
    response = _create(client, auth_headers(account, "read"), name="x")
    assert response.status_code == 403
    assert response.get_json() == {"error": "Insufficient permissions: write:bookmarks."}


def test_list_folders_shows_only_own(client, account, bob, auth_headers):
    _create(client, auth_headers(account), name="A")
    _create(client, auth_headers(bob), name="B")
    response = client.get(BASE, headers=auth_headers(account, "read:bookmarks"))
    assert response.status_code == 200
    assert [f["name"] for f in response.get_json()] == ["A"]


def test_list_folders_needs_auth_and_scope(client, account, auth_headers):
    assert client.get(BASE).get_json() == {"error": "Invalid credentials."}
    response = client.get(BASE, headers=auth_headers(account, "write"))
    assert response.status_code == 403
    assert response.get_json() == {"error": "Insufficient permissions: read:bookmarks."}


def test_update_folder_changes_name_and_emoji(client, account, auth_headers):
    headers = auth_headers(account)
    folder = _create(client, headers, name="Old", emoji="🕓").get_json()
    response = client.patch(f"{BASE}/{folder['id']}", json={"name": "New"}, headers=headers)
    assert response.status_code == 200
    assert response.get_json() == {"id": folder["id"], "name": "New", "emoji": "🕓", "emoji_url": None}
    response = client.patch(f"{BASE}/{folder['id']}", data={"emoji": "📚"}, headers=headers)
    assert response.get_json()["emoji"] == "📚"
    assert response.get_json()["name"] == "New"


def test_update_folder_to_a_taken_name_is_422(client, account, auth_headers):
    headers = auth_headers(account)
    _create(client, headers, name="A")
    folder = _create(client, headers, name="B").get_json()
    response = client.patch(f"{BASE}/{folder['id']}", json={"name": "A"}, headers=headers)
    assert response.status_code == 422
    assert response.get_json() == {"error": "has already been taken"}


def test_update_or_delete_foreign_or_missing_folder_is_403(client, account, bob, auth_headers):
    folder = _create(client, auth_headers(bob), name="Bob's").get_json()
    headers = auth_headers(account)
    for folder_id in (folder["id"], "nosuchfolder"):
        response = client.patch(f"{BASE}/{folder_id}", json={"name": "mine"}, headers=headers)
        assert response.status_code == 403
        assert response.get_json() == {"error": "Access denied"}
        response = client.delete(f"{BASE}/{folder_id}", headers=headers)
        assert response.status_code == 403
        assert response.get_json() == {"error": "Access denied"}
    names = [f["name"] for f in client.get(BASE, headers=auth_headers(bob)).get_json()]
    assert names == ["Bob's"]


def test_update_and_delete_need_scope(client, account, auth_headers):
    folder = _create(client, auth_headers(account), name="A").get_json()
    read_only = auth_headers(account, "read")
    for call in (client.patch, client.delete):
        response = call(f"{BASE}/{folder['id']}", json={"name": "B"}, headers=read_only)
        assert response.status_code == 403
        assert response.get_json() == {"error": "Insufficient permissions: write:bookmarks."}
        assert call(f"{BASE}/{folder['id']}", json={"name": "B"}).get_json() == {
            "error": "Invalid credentials."
        }


def test_delete_folder_returns_it_and_keeps_its_bookmarks(client, account, auth_headers):
    headers = auth_headers(account)
    folder = _create(client, headers, name="A").get_json()
    status = post_status(account, NewStatus(text="keep me"))
    db.session.add(Bookmark(account_id=account.id, status_id=status.id, folder_id=folder["id"]))
    db.session.commit()
    response = client.delete(f"{BASE}/{folder['id']}", headers=headers)
    assert response.status_code == 200
    assert response.get_json()["name"] == "A"
    assert client.get(BASE, headers=headers).get_json() == []
    db.session.expire_all()
    bookmark = db.session.scalar(db.select(Bookmark).where(Bookmark.account_id == account.id))
    assert bookmark is not None and bookmark.folder_id is None


def test_status_shows_its_bookmark_folder(client, account, auth_headers):
    headers = auth_headers(account)
    folder = _create(client, headers, name="A").get_json()
    status = post_status(account, NewStatus(text="filed"))
    db.session.add(Bookmark(account_id=account.id, status_id=status.id, folder_id=folder["id"]))
    db.session.commit()
    body = client.get(f"/api/v1/statuses/{status.id}", headers=headers).get_json()
    assert body["bookmarked"] is True
    assert body["pleroma"]["bookmark_folder"] == folder["id"]


def test_bookmark_into_a_folder_and_list_by_folder(client, account, bob, auth_headers):
    headers = auth_headers(account)
    folder = _create(client, headers, name="A").get_json()
    filed = post_status(bob, NewStatus(text="filed"))
    loose = post_status(bob, NewStatus(text="loose"))
    response = client.post(
        f"/api/v1/statuses/{filed.id}/bookmark", data={"folder_id": folder["id"]}, headers=headers
    )
    assert response.status_code == 200
    assert response.get_json()["bookmarked"] is True
    assert response.get_json()["pleroma"]["bookmark_folder"] == folder["id"]
    client.post(f"/api/v1/statuses/{loose.id}/bookmark", headers=headers)
    in_folder = client.get(f"/api/v1/bookmarks?folder_id={folder['id']}", headers=headers).get_json()
    assert [s["id"] for s in in_folder] == [filed.id]
    everything = client.get("/api/v1/bookmarks", headers=headers).get_json()
    assert [s["id"] for s in everything] == [loose.id, filed.id]


def test_bookmark_again_moves_the_bookmark(client, account, bob, auth_headers):
    headers = auth_headers(account)
    first = _create(client, headers, name="A").get_json()
    second = _create(client, headers, name="B").get_json()
    status = post_status(bob, NewStatus(text="moving"))
    url = f"/api/v1/statuses/{status.id}/bookmark"
    client.post(url, json={"folder_id": first["id"]}, headers=headers)
    assert (
        client.post(url, json={"folder_id": second["id"]}, headers=headers).get_json()["pleroma"][
            "bookmark_folder"
        ]
        == second["id"]
    )
    assert client.post(url, headers=headers).get_json()["pleroma"]["bookmark_folder"] is None
    assert len(db.session.scalars(db.select(Bookmark)).all()) == 1


def test_bookmark_into_a_foreign_or_missing_folder_is_403(client, account, bob, auth_headers):
    foreign = _create(client, auth_headers(bob), name="Bob's").get_json()
    status = post_status(bob, NewStatus(text="mine"))
    for folder_id in (foreign["id"], "nosuchfolder"):
        response = client.post(
            f"/api/v1/statuses/{status.id}/bookmark",
            data={"folder_id": folder_id},
            headers=auth_headers(account),
        )
        assert response.status_code == 403
        assert response.get_json() == {"error": "Access denied"}
    assert db.session.scalars(db.select(Bookmark)).all() == []


def test_instance_advertises_bookmark_folders_and_quotes(client):
    features = client.get("/api/v1/instance").get_json()["pleroma"]["metadata"]["features"]
    assert "pleroma:bookmark_folders" in features
    assert "quote_posting" in features
