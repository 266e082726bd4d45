from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import timedelta

import pytest

from models import Backup
from models import Bookmark
from models import Favourite
from models import db
from services.statuses import NewStatus
from services.statuses import post_status

BASE = "/api/v1/pleroma/backups"
NAME = re.compile(r"^http://127\.0\.0\.1:5000/media/backups/archive-alice-\d{8}T\d{6}-[A-Za-z0-9]+\.zip$")


@pytest.mark.parametrize("prefix", ["/api/v1/pleroma", "/api/pleroma"])
def test_create_backup_builds_a_zip_of_activitystreams_json(
    client, account, make_account, auth_headers, prefix
):
    bob = make_account("bob")
    own = post_status(account, NewStatus(text="hello #world"))
    theirs = post_status(bob, NewStatus(text="bob speaks"))
    secret = post_status(account, NewStatus(text="psst @bob", visibility="direct"))
    db.session.add(Favourite(account_id=account.id, status_id=theirs.id))
    db.session.add(Bookmark(account_id=account.id, status_id=theirs.id))
    db.session.commit()

    response = client.post(f"{prefix}/backups", headers=auth_headers(account, "read:backups"))
    assert response.status_code == 200
    [backup] = response.get_json()
    assert isinstance(backup["id"], int)
    assert backup["processed"] is True
    assert backup["content_type"] == "application/zip"
    assert NAME.match(backup["url"])
    download = client.get(backup["url"].removeprefix("http://127.0.0.1:5000"))
    assert download.status_code == 200
    assert backup["file_size"] == len(download.data) > 0

    archive = zipfile.ZipFile(io.BytesIO(download.data))
    assert sorted(archive.namelist()) == ["actor.json", "bookmarks.json", "likes.json", "outbox.json"]
    docs = {name: json.loads(archive.read(name)) for name in archive.namelist()}
    assert docs["actor.json"]["id"] == account.ap_id
    assert docs["actor.json"]["preferredUsername"] == "alice"
    assert docs["actor.json"]["outbox"] == "outbox.json"
    outbox = docs["outbox.json"]
    assert outbox["type"] == "OrderedCollection"
    assert outbox["totalItems"] == 2
    items = {item["object"]["id"]: item for item in outbox["orderedItems"]}
    assert items[own.uri]["type"] == "Create"
    assert items[own.uri]["to"] == ["https://www.w3.org/ns/activitystreams#Public"]
    assert items[own.uri]["object"]["tag"][0]["name"] == "#world"
    assert items[secret.uri]["to"] == [bob.ap_id]
    assert docs["likes.json"]["orderedItems"] == [theirs.uri]
    assert docs["bookmarks.json"]["orderedItems"] == [theirs.uri]


def test_create_backup_twice_within_the_limit_is_400(client, account, auth_headers):
    headers = auth_headers(account)
    assert client.post(BASE, headers=headers).status_code == 200
    response = client.post(BASE, headers=headers)
    assert response.status_code == 400
    assert response.get_json() == {"error": "Last export was less than 7 days ago"}


def test_create_backup_limit_of_one_day_says_a_day(app, client, account, auth_headers):
    app.config["BACKUP_LIMIT_DAYS"] = 1
    headers = auth_headers(account)
    client.post(BASE, headers=headers)
    response = client.post(BASE, headers=headers)
    assert response.get_json() == {"error": "Last export was less than a day ago"}


def test_create_backup_after_the_limit_replaces_the_old_one(app, client, account, auth_headers):
    headers = auth_headers(account)
    [first] = client.post(BASE, headers=headers).get_json()
    old = db.session.get(Backup, first["id"])
    old.created_at -= timedelta(days=8)
    db.session.commit()
    response = client.post(BASE, headers=headers)
    assert response.status_code == 200
    [newest] = response.get_json()
    assert newest["id"] != first["id"]
    assert client.get(first["url"].removeprefix("http://127.0.0.1:5000")).status_code == 404
    assert [b["id"] for b in client.get(BASE, headers=headers).get_json()] == [newest["id"]]


def test_list_backups(client, account, make_account, auth_headers):
    headers = auth_headers(account, "read:backups")
    assert client.get(BASE, headers=headers).get_json() == []
    created = client.post(BASE, headers=headers).get_json()
    response = client.get(BASE, headers=headers)
    assert response.status_code == 200
    assert response.get_json() == created
    assert client.get(BASE, headers=auth_headers(make_account("bob"))).get_json() == []


def test_backups_accept_the_old_read_accounts_scope(client, account, auth_headers):
    assert client.get(BASE, headers=auth_headers(account, "read:accounts")).status_code == 200


def test_backups_need_auth_and_scope(client, account, auth_headers):
    for call in (client.get, client.post):
        assert call(BASE).get_json() == {"error": "Invalid credentials."}
        response = call(BASE, headers=auth_headers(account, "write"))
        assert response.status_code == 403
        assert response.get_json() == {"error": "Insufficient permissions: read:backups | read:accounts."}


def test_failed_backup_does_not_block_a_retry(client, account, auth_headers, monkeypatch):
    from services import backups

    def broken(*args, **kwargs):
        raise OSError("disk full")

    headers = auth_headers(account)
    monkeypatch.setattr(backups, "_write_archive", broken)
    # The job fails on its own (huey logs it); the request only started it.
    assert client.post(BASE, headers=headers).get_json() == []
    assert client.get(BASE, headers=headers).get_json() == []
    monkeypatch.undo()
    assert client.post(BASE, headers=headers).status_code == 200
