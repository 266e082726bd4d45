"""Emoji pack API (SPEC 17) and the emoji map (SPEC 10), through HTTP with real tokens: reading,
auth, creating and deleting packs, metadata, import and archives (files and remote packs have
their own modules).

The remote endpoints (`packs/remote`, `packs/download`, fallback-src, files from a URL) talk to a
second Kenoma running on 127.0.0.1 (the `live_server` fixture), never to a mock.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import time
import zipfile
from pathlib import Path

import pytest

from emoji_packs import archives as pack_archives
from models import db
from tests.conftest import basic_headers
from tests.conftest import copy_fixture_pack
from tests.conftest import free_port
from tests.emoji_fixtures import BLANK_PNG
from tests.emoji_fixtures import NONSHARED_SHA
from tests.routes.pleroma.emoji_pack_helpers import NOT_DOWNLOADABLE
from tests.routes.pleroma.emoji_pack_helpers import PACKS
from tests.routes.pleroma.emoji_pack_helpers import P
from tests.routes.pleroma.emoji_pack_helpers import pack_json
from tests.routes.pleroma.emoji_pack_helpers import zip_bytes

# ---------------------------------------------------------------------------------------------
# GET /emoji, GET packs, GET pack


@pytest.mark.parametrize("path", ["/api/v1/pleroma/emoji", "/api/pleroma/emoji", "/api/pleroma/emoji.json"])
def test_emoji_lists_every_pack_emoji_with_relative_url(client, emoji_dir, path):
    response = client.get(path)
    assert response.status_code == 200
    body = response.get_json()
    assert body["blank2"] == {"image_url": "/emoji/test_pack/blank2.png", "tags": ["pack:test_pack"]}
    assert body["blank"]["image_url"].startswith("/emoji/") and body["blank"]["tags"][0].startswith("pack:")
    assert set(body) == {"blank", "blank2"}


def test_emoji_sees_disk_changes_without_restart(client, app, emoji_dir):
    assert "fresh" not in client.get(f"{P}").get_json()
    shutil.copy(emoji_dir / "test_pack" / "blank.png", emoji_dir / "test_pack" / "fresh.png")
    data = pack_json(emoji_dir, "test_pack")
    data["files"]["fresh"] = "fresh.png"
    (emoji_dir / "test_pack" / "pack.json").write_text(json.dumps(data))
    assert client.get(f"{P}").get_json()["fresh"]["image_url"] == "/emoji/test_pack/fresh.png"


def test_list_packs_shows_every_pack_with_computed_download_fields(client, emoji_dir):
    response = client.get(f"{P}/packs")
    assert response.status_code == 200
    body = response.get_json()
    assert body["count"] == 4 and sorted(body["packs"]) == list(PACKS)
    shared = body["packs"]["test_pack"]
    assert shared["files"] == {"blank": "blank.png", "blank2": "blank2.png"}
    assert shared["files_count"] == 2
    assert shared["pack"]["can-download"] is True and shared["pack"]["share-files"] is True
    archive = client.get(f"{P}/packs/archive?name=test_pack").data
    assert shared["pack"]["download-sha256"] == hashlib.sha256(archive).hexdigest().upper()
    nonshared = body["packs"]["test_pack_nonshared"]["pack"]
    assert nonshared["can-download"] is False and "download-sha256" not in nonshared
    # A stored download-sha256 is never trusted: the value shown is the real archive's.
    bad = body["packs"]["pack_bad_sha"]["pack"]["download-sha256"]
    assert bad == hashlib.sha256(client.get(f"{P}/packs/archive?name=pack_bad_sha").data).hexdigest().upper()


def test_list_packs_pages_by_name_and_counts_all(client, emoji_dir):
    (emoji_dir / "no_pack_json").mkdir()  # ignored: no pack.json
    pages = [client.get(f"{P}/packs?page={n}&page_size=1").get_json() for n in (1, 2, 3, 4, 5)]
    assert [p["count"] for p in pages] == [4] * 5
    assert [list(p["packs"]) for p in pages] == [
        ["blobs.gg"],
        ["pack_bad_sha"],
        ["test_pack"],
        ["test_pack_nonshared"],
        [],
    ]


def test_list_packs_trailing_slash_and_legacy_prefix(client, emoji_dir):
    assert client.get("/api/pleroma/emoji/packs/").get_json()["count"] == 4


def test_list_packs_rejects_page_zero(client, emoji_dir):
    response = client.get(f"{P}/packs?page=0")
    assert response.status_code == 400 and response.get_json()["error"].startswith("page")


def test_list_packs_empty_folder(client, app):
    assert client.get(f"{P}/packs").get_json() == {"count": 0, "packs": {}}


def test_show_pack_pages_files_by_shortcode(client, emoji_dir):
    full = client.get(f"{P}/pack?name=test_pack").get_json()
    assert full["files"] == {"blank": "blank.png", "blank2": "blank2.png"} and full["files_count"] == 2
    assert full["pack"]["license"] == "Test license" and full["pack"]["can-download"] is True
    first = client.get(f"{P}/pack?name=test_pack&page_size=1").get_json()
    second = client.get(f"{P}/pack?name=test_pack&page_size=1&page=2").get_json()
    assert (first["files"], second["files"]) == ({"blank": "blank.png"}, {"blank2": "blank2.png"})
    assert first["files_count"] == second["files_count"] == 2


def test_show_pack_with_dot_in_name_and_trimmed_name(client, emoji_dir):
    response = client.get(f"{P}/pack?name=%20blobs.gg%20")
    assert response.status_code == 200 and response.get_json()["files_count"] == 1


@pytest.mark.parametrize(
    ("query", "status", "error"),
    [
        ("name=%20", 400, "pack name cannot be empty"),
        ("name=non_existing", 404, "Pack non_existing does not exist"),
        ("name=..", 400, "Invalid pack name"),
        ("name=a/b", 400, "Invalid pack name"),
        ("", 400, "Missing field: name."),
    ],
)
def test_show_pack_errors(client, emoji_dir, query, status, error):
    response = client.get(f"{P}/pack?{query}")
    assert (response.status_code, response.get_json()) == (status, {"error": error})


def test_show_pack_unreadable_pack_json_is_500(client, emoji_dir):
    (emoji_dir / "test_pack" / "pack.json").write_text("{not json")
    response = client.get(f"{P}/pack?name=test_pack")
    assert response.status_code == 500
    assert response.get_json()["error"].startswith("Failed to get the contents of the `test_pack` pack.")


# ---------------------------------------------------------------------------------------------
# Auth on every mutation (SPEC 17: admin + admin:write; reads need nothing)

MUTATIONS = [
    ("post", f"{P}/pack?name=new_pack"),
    ("patch", f"{P}/pack?name=test_pack"),
    ("delete", f"{P}/pack?name=test_pack"),
    ("get", f"{P}/packs/import"),
    ("get", f"{P}/packs/remote?url=http://127.0.0.1:1"),
    ("post", f"{P}/packs/download"),
    ("post", f"{P}/packs/files?name=test_pack"),
    ("patch", f"{P}/packs/files?name=test_pack"),
    ("delete", f"{P}/packs/files?name=test_pack&shortcode=blank"),
]


@pytest.mark.parametrize(("method", "url"), MUTATIONS)
def test_mutations_need_credentials(client, emoji_dir, method, url):
    response = getattr(client, method)(url)
    assert (response.status_code, response.get_json()) == (403, {"error": "Invalid credentials."})


@pytest.mark.parametrize(("method", "url"), MUTATIONS)
def test_mutations_need_admin_write_scope(client, emoji_dir, admin, auth_headers, method, url):
    response = getattr(client, method)(url, headers=auth_headers(admin, "read write follow push"))
    assert response.status_code == 403
    assert response.get_json() == {"error": "Insufficient permissions: admin:write."}


@pytest.mark.parametrize(("method", "url"), MUTATIONS)
def test_mutations_need_an_admin(client, emoji_dir, make_account, auth_headers, method, url):
    # Only an admin's token carries admin:write (scopes.for_account): this one was issued while
    # the account was an admin, which it no longer is.
    demoted = make_account("demoted", is_admin=True)
    headers = auth_headers(demoted, "admin:write")
    demoted.is_admin = False
    db.session.commit()
    response = getattr(client, method)(url, headers=headers)
    assert (response.status_code, response.get_json()) == (403, {"error": "User is not an admin."})


def test_reads_need_no_auth(client, emoji_dir):
    assert client.get(f"{P}/packs").status_code == 200
    assert client.get(f"{P}/pack?name=test_pack").status_code == 200
    assert client.get(f"{P}/packs/archive?name=test_pack").status_code == 200


# ---------------------------------------------------------------------------------------------
# create / delete / PATCH metadata / import


def test_create_and_delete_pack(client, emoji_dir, admin_headers):
    response = client.post(f"{P}/pack?name=test_created", headers=admin_headers)
    assert (response.status_code, response.get_json()) == (200, "ok")
    assert pack_json(emoji_dir, "test_created") == {"files": {}, "pack": {}}
    assert client.get(f"{P}/packs").get_json()["count"] == 5
    response = client.delete(f"{P}/pack?name=test_created", headers=admin_headers)
    assert (response.status_code, response.get_json()) == (200, "ok")
    assert not (emoji_dir / "test_created").exists()


def test_create_pack_with_basic_auth(client, emoji_dir, admin):
    response = client.post(
        "/api/pleroma/emoji/pack", data={"name": "by_basic"}, headers=basic_headers("admin")
    )
    assert response.status_code == 200 and (emoji_dir / "by_basic" / "pack.json").is_file()


@pytest.mark.parametrize(
    ("name", "status", "error"),
    [
        ("test_pack", 409, 'A pack named "test_pack" already exists'),
        ("%20", 400, "pack name cannot be empty"),
        ("..", 400, "Invalid pack name"),
        (".hidden", 400, "Invalid pack name"),
        ("a%2Fb", 400, "Invalid pack name"),
    ],
)
def test_create_pack_errors(client, emoji_dir, admin_headers, name, status, error):
    response = client.post(f"{P}/pack?name={name}", headers=admin_headers)
    assert (response.status_code, response.get_json()) == (status, {"error": error})


def test_create_pack_filesystem_error_is_500(client, app, admin_headers, tmp_path):
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("x")
    app.config["EMOJI_DIR"] = str(blocker)
    response = client.post(f"{P}/pack?name=x", headers=admin_headers)
    assert response.status_code == 500
    assert response.get_json()["error"].startswith("Unexpected error occurred while creating pack.")


@pytest.mark.parametrize(
    ("name", "status", "error"),
    [
        ("non_existing", 404, "Pack non_existing does not exist"),
        ("%20", 400, "pack name cannot be empty"),
        ("..", 400, "Invalid pack name"),
    ],
)
def test_delete_pack_errors(client, emoji_dir, admin_headers, name, status, error):
    response = client.delete(f"{P}/pack?name={name}", headers=admin_headers)
    assert (response.status_code, response.get_json()) == (status, {"error": error})
    assert sorted(p.name for p in emoji_dir.iterdir()) == sorted(PACKS)


def test_delete_pack_removes_its_emoji(client, emoji_dir, admin_headers):
    client.delete(f"{P}/pack?name=test_pack", headers=admin_headers)
    assert "blank2" not in client.get(P).get_json()


NEW_META = {
    "license": "Test license changed",
    "homepage": "https://pleroma.social",
    "description": "Test description",
    "share-files": False,
}


def test_update_metadata_replaces_pack_section(client, emoji_dir, admin_headers):
    response = client.patch(f"{P}/pack?name=test_pack", json={"metadata": NEW_META}, headers=admin_headers)
    assert (response.status_code, response.get_json()) == (200, NEW_META)
    assert pack_json(emoji_dir, "test_pack")["pack"] == NEW_META
    assert pack_json(emoji_dir, "test_pack")["files"] == {"blank": "blank.png", "blank2": "blank2.png"}


def test_update_metadata_from_form_fields(client, emoji_dir, admin_headers):
    form = {"metadata[license]": "MIT", "metadata[share-files]": "true"}
    response = client.patch(f"{P}/pack?name=test_pack", data=form, headers=admin_headers)
    assert response.get_json() == {"license": "MIT", "share-files": True}


def test_update_metadata_never_stores_computed_fields(client, emoji_dir, admin_headers):
    meta = NEW_META | {"can-download": True, "download-sha256": "00"}
    client.patch(f"{P}/pack?name=test_pack", json={"metadata": meta}, headers=admin_headers)
    assert pack_json(emoji_dir, "test_pack")["pack"] == NEW_META


@pytest.mark.parametrize(
    ("url", "body", "status", "error"),
    [
        (f"{P}/pack?name=nope", {"metadata": NEW_META}, 404, "Pack nope does not exist"),
        (f"{P}/pack?name=test_pack", {}, 400, "Missing field: metadata."),
        (f"{P}/pack", {"metadata": NEW_META}, 400, "Missing field: name."),
    ],
)
def test_update_metadata_errors(client, emoji_dir, admin_headers, url, body, status, error):
    response = client.patch(url, json=body, headers=admin_headers)
    assert (response.status_code, response.get_json()) == (status, {"error": error})


def test_update_metadata_downloads_fallback_and_stores_its_sha(
    client, app, emoji_dir, admin_headers, live_server
):
    remote = live_server()
    copy_fixture_pack(remote.app, "test_pack_nonshared")
    app.config["ALLOW_PRIVATE_FETCH"] = True
    source = f"{remote.url}/emoji/test_pack_nonshared/nonshared.zip"
    meta = NEW_META | {"fallback-src": source}
    response = client.patch(f"{P}/pack?name=test_pack", json={"metadata": meta}, headers=admin_headers)
    assert response.status_code == 200
    assert response.get_json() == meta | {"fallback-src-sha256": NONSHARED_SHA}
    assert pack_json(emoji_dir, "test_pack")["pack"]["fallback-src-sha256"] == NONSHARED_SHA


def test_update_metadata_fallback_missing_files_is_400(client, app, emoji_dir, admin_headers, live_server):
    remote = live_server()
    folder = Path(remote.app.config["EMOJI_DIR"]) / "zips"
    folder.mkdir()
    (folder / "empty.zip").write_bytes(zip_bytes({"other.png": BLANK_PNG}))
    app.config["ALLOW_PRIVATE_FETCH"] = True
    meta = NEW_META | {"fallback-src": f"{remote.url}/emoji/zips/empty.zip"}
    response = client.patch(f"{P}/pack?name=test_pack", json={"metadata": meta}, headers=admin_headers)
    assert response.status_code == 400
    assert response.get_json() == {
        "error": "The fallback archive does not have all files specified in pack.json"
    }
    assert pack_json(emoji_dir, "test_pack")["pack"]["license"] == "Test license"  # unchanged


def test_update_metadata_unreachable_fallback_is_500(client, emoji_dir, admin_headers):
    meta = NEW_META | {"fallback-src": f"http://127.0.0.1:{free_port()}/x.zip"}
    response = client.patch(f"{P}/pack?name=test_pack", json={"metadata": meta}, headers=admin_headers)
    assert response.status_code == 500
    assert response.get_json()["error"].startswith("Unexpected error occurred while updating pack metadata.")


def test_import_from_filesystem_scans_folders_without_pack_json(client, app, admin_headers):
    copy_fixture_pack(app, "test_pack")
    folder = copy_fixture_pack(app, "test_pack_for_import")
    (folder / "sub").mkdir()
    shutil.copy(folder / "blank.png", folder / "sub" / "nested.gif")
    (folder / "notes.txt").write_text("not an emoji")
    assert "test_pack_for_import" not in client.get(f"{P}/packs").get_json()["packs"]
    response = client.get(f"{P}/packs/import", headers=admin_headers)
    assert (response.status_code, response.get_json()) == (200, ["test_pack_for_import"])
    files = client.get(f"{P}/packs").get_json()["packs"]["test_pack_for_import"]["files"]
    assert files == {"blank": "blank.png", "nested": "sub/nested.gif"}
    assert client.get(P).get_json()["nested"]["image_url"] == "/emoji/test_pack_for_import/sub/nested.gif"
    assert client.get(f"{P}/packs/import", headers=admin_headers).get_json() == []


def test_import_reads_emoji_txt(client, app, admin_headers):
    folder = copy_fixture_pack(app, "test_pack_for_import")
    (folder / "emoji.txt").write_text(
        "blank, blank.png, Fun\nblank2, blank.png\nfoo, /emoji/test_pack_for_import/blank.png\n"
        "bar\n\nevil, ../../etc/passwd\n"
    )
    assert client.get(f"{P}/packs/import", headers=admin_headers).get_json() == ["test_pack_for_import"]
    files = client.get(f"{P}/pack?name=test_pack_for_import").get_json()["files"]
    assert files == {"blank": "blank.png", "blank2": "blank.png", "foo": "blank.png"}


def test_import_needs_a_writable_folder(client, app, admin_headers, monkeypatch):
    from emoji_packs import mutations as pack_mutations

    monkeypatch.setattr(pack_mutations.os, "access", lambda *args: False)
    response = client.get(f"{P}/packs/import", headers=admin_headers)
    assert (response.status_code, response.get_json()) == (
        500,
        {"error": "Error: emoji pack directory must be writable"},
    )


# ---------------------------------------------------------------------------------------------
# archive


def test_archive_holds_pack_json_and_files(client, emoji_dir):
    response = client.get(f"{P}/packs/archive?name=test_pack")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"] == 'attachment; filename="test_pack.zip"'
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        assert archive.namelist() == ["pack.json", "blank.png", "blank2.png"]
        assert archive.read("blank.png") == BLANK_PNG


def test_archive_etag_304_and_range(client, emoji_dir):
    full = client.get(f"{P}/packs/archive?name=test_pack")
    etag = full.headers["ETag"]
    assert etag.strip('"') == hashlib.sha256(full.data).hexdigest()
    assert full.headers["Accept-Ranges"] == "bytes" and full.headers["Last-Modified"]
    again = client.get(f"{P}/packs/archive?name=test_pack", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    part = client.get(f"{P}/packs/archive?name=test_pack", headers={"Range": "bytes=10-29"})
    assert part.status_code == 206
    assert part.data == full.data[10:30]
    assert part.headers["Content-Range"] == f"bytes 10-29/{len(full.data)}"


def test_archive_plain_download_headers(client, emoji_dir):
    # The plain download's headers are send_file's, less the Date the server adds itself.
    plain = client.get(f"{P}/packs/archive?name=test_pack")
    assert plain.status_code == 200
    names = [name for name, _ in plain.headers]
    assert names[:7] == [
        "Content-Disposition",
        "Content-Type",
        "Content-Length",
        "Last-Modified",
        "Cache-Control",
        "ETag",
        "Accept-Ranges",
    ]
    assert "Date" not in names and "X-Content-Type-Options" in names  # security headers still added
    assert plain.headers["Content-Length"] == str(len(plain.data))
    assert plain.headers["Cache-Control"] == "no-cache"
    # A request send_file answers (HEAD here) carries the same values.
    head = client.head(f"{P}/packs/archive?name=test_pack")
    for name in names[:7]:
        assert head.headers[name] == plain.headers[name], name


def test_archive_removed_from_disk_is_built_again(client, app, emoji_dir):
    first = client.get(f"{P}/packs/archive?name=test_pack")
    shutil.rmtree(Path(app.instance_path) / "emoji_archives")
    again = client.get(f"{P}/packs/archive?name=test_pack")
    assert again.status_code == 200 and again.data == first.data
    assert again.headers["ETag"] == first.headers["ETag"]


def test_archive_built_once_per_pack_version(client, app, emoji_dir, admin_headers):
    folder = Path(app.instance_path) / "emoji_archives" / "test_pack"
    first = client.get(f"{P}/packs/archive?name=test_pack").data
    built = sorted(folder.glob("*.zip"))
    assert len(built) == 1
    stamp = built[0].stat().st_mtime_ns
    assert client.get(f"{P}/packs/archive?name=test_pack").data == first
    client.get(f"{P}/packs?page=1")
    assert built[0].stat().st_mtime_ns == stamp  # served from the cache, not rebuilt
    client.patch(f"{P}/pack?name=test_pack", json={"metadata": {"share-files": True}}, headers=admin_headers)
    second = client.get(f"{P}/packs/archive?name=test_pack").data
    assert second != first
    assert len(list(folder.glob("*.zip"))) == 1 and not built[0].exists()  # the old version is gone


def test_archive_notices_a_file_changed_on_disk(client, emoji_dir, monkeypatch):
    # A hand edit in place touches neither the folder nor pack.json: the members' own stats
    # are looked at again once MEMBER_RECHECK_SECONDS have passed.
    monkeypatch.setattr(pack_archives, "MEMBER_RECHECK_SECONDS", 0.2)
    first = client.get(f"{P}/packs/archive?name=test_pack").data
    (emoji_dir / "test_pack" / "blank2.png").write_bytes(BLANK_PNG + b"\0")
    time.sleep(0.25)
    second = client.get(f"{P}/packs/archive?name=test_pack").data
    assert first != second
    with zipfile.ZipFile(io.BytesIO(second)) as archive:
        assert archive.read("blank2.png") == BLANK_PNG + b"\0"


@pytest.mark.parametrize(
    ("name", "status", "error"),
    [
        ("test_pack_nonshared", 403, NOT_DOWNLOADABLE.format("test_pack_nonshared")),
        ("test_pack_for_import", 404, "Pack test_pack_for_import does not exist"),
        ("%20", 400, "pack name cannot be empty"),
    ],
)
def test_archive_errors(client, app, emoji_dir, name, status, error):
    copy_fixture_pack(app, "test_pack_for_import")  # a folder without pack.json is no pack
    response = client.get(f"{P}/packs/archive?name={name}")
    assert (response.status_code, response.get_json()) == (status, {"error": error})


def test_archive_refused_when_a_listed_file_is_missing(client, emoji_dir):
    (emoji_dir / "test_pack" / "blank2.png").unlink()
    response = client.get(f"{P}/packs/archive?name=test_pack")
    assert (response.status_code, response.get_json()) == (
        403,
        {"error": NOT_DOWNLOADABLE.format("test_pack")},
    )
    assert client.get(f"{P}/pack?name=test_pack").get_json()["pack"]["can-download"] is False


def test_archive_legacy_download_shared_path(client, emoji_dir):
    response = client.get("/api/pleroma/emoji/packs/test_pack/download_shared")
    assert response.status_code == 200
    assert response.data == client.get(f"{P}/packs/archive?name=test_pack").data
