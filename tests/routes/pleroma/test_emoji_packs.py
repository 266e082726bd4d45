"""Emoji pack API (SPEC 17) and the emoji map (SPEC 10), through HTTP with real tokens.

The remote endpoints (`packs/remote`, `packs/download`, fallback-src, files from a URL) talk to a
second Kenoma running on 127.0.0.1 (the `live_server` fixture), never to a mock.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import stat
import time
import zipfile
from pathlib import Path

import pytest

from emoji_packs import archives as pack_archives
from tests.conftest import basic_headers
from tests.conftest import copy_fixture_pack
from tests.conftest import free_port
from tests.emoji_fixtures import BLANK_PNG
from tests.emoji_fixtures import NONSHARED_SHA
from tests.emoji_fixtures import SHORTCODE_PNG

P = "/api/v1/pleroma/emoji"
PACKS = ("blobs.gg", "pack_bad_sha", "test_pack", "test_pack_nonshared")
NOT_DOWNLOADABLE = (
    "Pack {} cannot be downloaded from this instance, either pack sharing was disabled for this pack "
    "or some files are missing"
)


@pytest.fixture
def emoji_dir(app) -> Path:
    for name in PACKS:
        copy_fixture_pack(app, name)
    return Path(app.config["EMOJI_DIR"])


@pytest.fixture
def admin(make_account):
    return make_account("admin", is_admin=True)


@pytest.fixture
def admin_headers(admin, auth_headers) -> dict:
    return auth_headers(admin, "admin:write")


def pack_json(emoji_dir: Path, name: str) -> dict:
    return json.loads((emoji_dir / name / "pack.json").read_text())


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name), data)
    return buffer.getvalue()


def upload(data: bytes, filename: str, content_type: str = "application/octet-stream") -> tuple:
    return (io.BytesIO(data), filename, content_type)


def tree(root: Path) -> set[str]:
    """Every path under root except the instance folder (database, caches) and live servers."""
    found = set()
    for path in root.rglob("*"):
        rel = path.relative_to(root).as_posix()
        if not rel.startswith(("instance", "live-")):
            found.add(rel)
    return found


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
def test_mutations_need_an_admin(client, emoji_dir, account, auth_headers, method, url):
    response = getattr(client, method)(url, headers=auth_headers(account, "admin:write"))
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


# ---------------------------------------------------------------------------------------------
# files: add / update / delete


def test_add_file_upload_with_shortcode_and_subdirectory(client, emoji_dir, admin_headers):
    data = {"shortcode": "blank3", "filename": "dir/blank.png", "file": upload(BLANK_PNG, "blank.png")}
    response = client.post(f"{P}/packs/files?name=test_pack", data=data, headers=admin_headers)
    assert response.status_code == 200
    assert response.get_json() == {"blank": "blank.png", "blank2": "blank2.png", "blank3": "dir/blank.png"}
    assert (emoji_dir / "test_pack" / "dir" / "blank.png").read_bytes() == BLANK_PNG
    assert client.get(P).get_json()["blank3"]["image_url"] == "/emoji/test_pack/dir/blank.png"


def test_add_file_defaults_shortcode_and_filename_from_upload(client, emoji_dir, admin_headers):
    data = {"file": upload(SHORTCODE_PNG, "shortcode.png")}
    response = client.post(f"{P}/packs/files?name=test_pack", data=data, headers=admin_headers)
    assert response.get_json() == {"blank": "blank.png", "blank2": "blank2.png", "shortcode": "shortcode.png"}


def test_add_file_from_url(client, app, emoji_dir, admin_headers, live_server):
    remote = live_server()
    folder = copy_fixture_pack(remote.app, "test_pack")
    shutil.copy(folder / "blank.png", folder / "blank_url.png")
    app.config["ALLOW_PRIVATE_FETCH"] = True
    data = {"shortcode": "blank_url", "file": f"{remote.url}/emoji/test_pack/blank_url.png"}
    response = client.post(f"{P}/packs/files?name=test_pack", data=data, headers=admin_headers)
    assert response.status_code == 200
    assert response.get_json() == {"blank": "blank.png", "blank2": "blank2.png", "blank_url": "blank_url.png"}
    assert (emoji_dir / "test_pack" / "blank_url.png").read_bytes() == BLANK_PNG


def test_add_file_zip_adds_new_emoji_only(client, emoji_dir, admin_headers):
    archive = zip_bytes(
        {
            "128px/bear-128.png": BLANK_PNG,
            "auroraborealis.png": BLANK_PNG,
            "blank.png": BLANK_PNG,  # shortcode taken: skipped
            "readme.txt": b"not an emoji",  # not an image: skipped
            "fake.png": b"<script>alert(1)</script>",  # not an image by its bytes: skipped
        }
    )
    data = {"file": upload(archive, "emojis.zip", "application/zip")}
    response = client.post(f"{P}/packs/files?name=test_pack", data=data, headers=admin_headers)
    assert response.status_code == 200
    assert response.get_json() == {
        "blank": "blank.png",
        "blank2": "blank2.png",
        "bear-128": "128px/bear-128.png",
        "auroraborealis": "auroraborealis.png",
    }
    assert (emoji_dir / "test_pack" / "128px" / "bear-128.png").is_file()
    assert not (emoji_dir / "test_pack" / "fake.png").exists()
    assert not any(p.name.startswith(".") for p in (emoji_dir / "test_pack").iterdir())


def test_add_file_rejects_non_images(client, emoji_dir, admin_headers):
    before = tree(emoji_dir)
    for name, payload in [("evil.png", b"<html><script>x</script></html>"), ("evil.html", BLANK_PNG)]:
        data = {"shortcode": "evil", "file": upload(payload, name)}
        response = client.post(f"{P}/packs/files?name=test_pack", data=data, headers=admin_headers)
        assert (response.status_code, response.get_json()) == (415, {"error": "Emoji files must be images"})
    assert tree(emoji_dir) == before


@pytest.mark.parametrize(
    ("data", "status", "error"),
    [
        (
            {"shortcode": "blank", "filename": "dir/blank.png"},
            409,
            'An emoji with the "blank" shortcode already exists',
        ),
        ({"shortcode": "blank2", "filename": ""}, 422, "pack name, shortcode or filename cannot be empty"),
        ({"shortcode": "", "filename": "x.png"}, 422, "pack name, shortcode or filename cannot be empty"),
        ({"shortcode": "new", "filename": "../escape.png"}, 400, 'Invalid file name "../escape.png"'),
        ({"shortcode": "new", "filename": "/abs.png"}, 400, 'Invalid file name "/abs.png"'),
        (
            {"shortcode": "new", "filename": "blank.png"},
            409,
            'A file named "blank.png" already exists in the pack',
        ),
    ],
)
def test_add_file_errors(client, emoji_dir, admin_headers, data, status, error):
    before = tree(emoji_dir)
    data = data | {"file": upload(BLANK_PNG, "blank.png")}
    response = client.post(f"{P}/packs/files?name=test_pack", data=data, headers=admin_headers)
    assert (response.status_code, response.get_json()) == (status, {"error": error})
    assert tree(emoji_dir) == before


def test_add_file_filesystem_error_is_500_and_leaves_nothing(client, emoji_dir, admin_headers, monkeypatch):
    from emoji_packs import files as pack_files

    def refuse(pack):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(pack_files, "save_pack", refuse)
    before = tree(emoji_dir)
    data = {"shortcode": "new", "filename": "sub/new.png", "file": upload(BLANK_PNG, "new.png")}
    response = client.post(f"{P}/packs/files?name=test_pack", data=data, headers=admin_headers)
    assert response.status_code == 500
    assert response.get_json() == {
        "error": "Unexpected error occurred while adding file to pack. (Permission denied)"
    }
    assert tree(emoji_dir) == before


def test_add_file_shortcode_used_by_another_pack_is_409(client, emoji_dir, admin_headers):
    data = {"shortcode": "blank2", "file": upload(BLANK_PNG, "other.png")}
    response = client.post(f"{P}/packs/files?name=blobs.gg", data=data, headers=admin_headers)
    assert response.status_code == 409


def test_add_file_missing_file_then_missing_pack(client, emoji_dir, admin_headers):
    response = client.post(f"{P}/packs/files?name=not_loaded", data={"shortcode": "x"}, headers=admin_headers)
    assert (response.status_code, response.get_json()) == (400, {"error": "Missing field: file."})
    data = {"shortcode": "blank3", "filename": "dir/blank.png", "file": upload(BLANK_PNG, "blank.png")}
    response = client.post(f"{P}/packs/files?name=not_loaded", data=data, headers=admin_headers)
    assert (response.status_code, response.get_json()) == (404, {"error": 'pack "not_loaded" is not found'})


@pytest.mark.parametrize("file", ["file:///etc/passwd", "just text", ["a", "b"]])
def test_add_file_url_must_be_http(client, emoji_dir, admin_headers, file):
    body = {"name": "test_pack", "shortcode": "x", "filename": "x.png", "file": file}
    response = client.post(f"{P}/packs/files", json=body, headers=admin_headers)
    error = {"error": "file must be an uploaded file or an http(s) URL"}
    assert (response.status_code, response.get_json()) == (400, error)


def test_add_file_url_refused_without_private_fetch(client, emoji_dir, admin_headers, live_server):
    remote = live_server()
    copy_fixture_pack(remote.app, "test_pack")
    data = {"shortcode": "x", "filename": "x.png", "file": f"{remote.url}/emoji/test_pack/blank.png"}
    response = client.post(f"{P}/packs/files?name=test_pack", data=data, headers=admin_headers)
    assert response.status_code == 500
    assert response.get_json()["error"].startswith("Unexpected error occurred while adding file to pack.")
    assert "x" not in pack_json(emoji_dir, "test_pack")["files"]


def test_update_file_renames_and_moves(client, emoji_dir, admin_headers):
    data = {"shortcode": "blank4", "filename": "dir/blank.png", "file": upload(BLANK_PNG, "blank.png")}
    client.post(f"{P}/packs/files?name=test_pack", data=data, headers=admin_headers)
    body = {"shortcode": "blank4", "new_shortcode": "blank3", "new_filename": "dir_2/blank_3.png"}
    response = client.patch(f"{P}/packs/files?name=test_pack", data=body, headers=admin_headers)
    assert response.status_code == 200
    assert response.get_json() == {
        "blank": "blank.png",
        "blank2": "blank2.png",
        "blank3": "dir_2/blank_3.png",
    }
    assert not (emoji_dir / "test_pack" / "dir").exists()  # emptied sub-directory removed
    assert (emoji_dir / "test_pack" / "dir_2" / "blank_3.png").is_file()
    assert "blank4" not in client.get(P).get_json() and "blank3" in client.get(P).get_json()
    response = client.delete(f"{P}/packs/files?name=test_pack&shortcode=blank3", headers=admin_headers)
    assert response.get_json() == {"blank": "blank.png", "blank2": "blank2.png"}
    assert not (emoji_dir / "test_pack" / "dir_2").exists()


def test_update_file_taken_shortcode_needs_force(client, emoji_dir, admin_headers):
    body = {"shortcode": "blank", "new_shortcode": "blank2", "new_filename": "dir_2/blank_3.png"}
    response = client.patch(f"{P}/packs/files?name=test_pack", data=body, headers=admin_headers)
    assert response.status_code == 409
    assert response.get_json() == {
        "error": "New shortcode \"blank2\" is already used. If you want to override emoji use 'force' option"
    }
    response = client.patch(
        f"{P}/packs/files?name=test_pack", data=body | {"force": "true"}, headers=admin_headers
    )
    assert response.status_code == 200
    assert response.get_json() == {"blank2": "dir_2/blank_3.png"}


@pytest.mark.parametrize(
    ("name", "body", "status", "error"),
    [
        ("test_pack", {"shortcode": "blank", "new_filename": "x.png"}, 400, "Missing field: new_shortcode."),
        ("test_pack", {"shortcode": "blank", "new_shortcode": "x"}, 400, "Missing field: new_filename."),
        (
            "test_pack",
            {"shortcode": "blank", "new_shortcode": "", "new_filename": "x.png"},
            422,
            "new_shortcode or new_filename cannot be empty",
        ),
        (
            "test_pack",
            {"shortcode": "blank3", "new_shortcode": "b4", "new_filename": "x.png"},
            400,
            'Emoji "blank3" does not exist',
        ),
        (
            "test_pack",
            {"shortcode": "blank", "new_shortcode": "b4", "new_filename": "../x.png"},
            400,
            'Invalid file name "../x.png"',
        ),
        (
            "not_loaded",
            {"shortcode": "blank4", "new_shortcode": "blank3", "new_filename": "x.png"},
            404,
            'pack "not_loaded" is not found',
        ),
    ],
)
def test_update_file_errors(client, emoji_dir, admin_headers, name, body, status, error):
    before = tree(emoji_dir)
    response = client.patch(f"{P}/packs/files?name={name}", data=body, headers=admin_headers)
    assert (response.status_code, response.get_json()) == (status, {"error": error})
    assert tree(emoji_dir) == before


def test_update_file_filesystem_error_puts_the_file_back(client, emoji_dir, admin_headers, monkeypatch):
    from emoji_packs import files as pack_files

    def refuse(pack):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(pack_files, "save_pack", refuse)
    before = tree(emoji_dir)
    body = {"shortcode": "blank", "new_shortcode": "moved", "new_filename": "sub/moved.png"}
    response = client.patch(f"{P}/packs/files?name=test_pack", data=body, headers=admin_headers)
    assert response.status_code == 500
    assert response.get_json() == {"error": "Unexpected error occurred while updating. (Permission denied)"}
    assert tree(emoji_dir) == before


def test_update_file_whose_file_is_missing_on_disk(client, emoji_dir, admin_headers):
    (emoji_dir / "test_pack" / "blank2.png").unlink()
    body = {"shortcode": "blank2", "new_shortcode": "b", "new_filename": "b.png"}
    response = client.patch(f"{P}/packs/files?name=test_pack", data=body, headers=admin_headers)
    assert (response.status_code, response.get_json()) == (400, {"error": 'Emoji "blank2" does not exist'})


@pytest.mark.parametrize(
    ("query", "status", "error"),
    [
        ("name=not_loaded&shortcode=blank3", 404, 'pack "not_loaded" is not found'),
        ("name=not_loaded&shortcode=", 404, 'pack "not_loaded" is not found'),
        ("name=test_pack&shortcode=", 422, "pack name or shortcode cannot be empty"),
        ("name=test_pack&shortcode=blank3", 400, 'Emoji "blank3" does not exist'),
        ("name=test_pack", 400, "Missing field: shortcode."),
    ],
)
def test_delete_file_errors(client, emoji_dir, admin_headers, query, status, error):
    response = client.delete(f"{P}/packs/files?{query}", headers=admin_headers)
    assert (response.status_code, response.get_json()) == (status, {"error": error})


def test_delete_file_keeps_a_file_another_shortcode_uses(client, app, admin_headers):
    folder = copy_fixture_pack(app, "test_pack_for_import")
    (folder / "pack.json").write_text(json.dumps({"files": {"a": "blank.png", "b": "blank.png"}, "pack": {}}))
    response = client.delete(f"{P}/packs/files?name=test_pack_for_import&shortcode=a", headers=admin_headers)
    assert response.get_json() == {"b": "blank.png"} and (folder / "blank.png").is_file()
    client.delete(f"{P}/packs/files?name=test_pack_for_import&shortcode=b", headers=admin_headers)
    assert not (folder / "blank.png").exists()


# ---------------------------------------------------------------------------------------------
# Hostile archives: refused before anything is written, nothing lands outside the pack folder


def _symlink_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("ok.png", BLANK_PNG)
        link = zipfile.ZipInfo("link.png")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    return buffer.getvalue()


def _bomb_zip(size: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bomb.png", b"\0" * size)
    return buffer.getvalue()


def hostile_zips(tmp_path: Path) -> dict[str, bytes]:
    return {
        "dotdot": zip_bytes({"ok.png": BLANK_PNG, "../../escaped.png": BLANK_PNG}),
        "absolute": zip_bytes({"ok.png": BLANK_PNG, str(tmp_path / "escaped.png"): BLANK_PNG}),
        "symlink": _symlink_zip(),
        "bomb": _bomb_zip(4 * 1024 * 1024),
    }


@pytest.mark.parametrize(
    ("kind", "status", "error"),
    [
        ("dotdot", 400, "Refused archive: member '../../escaped.png' leaves the pack folder"),
        ("absolute", 400, "has an absolute path"),
        ("symlink", 400, "Refused archive: member 'link.png' is a symbolic link"),
        ("bomb", 413, "Refused archive: it unpacks to more than the allowed size"),
    ],
)
def test_add_file_refuses_hostile_zip(client, app, emoji_dir, admin_headers, tmp_path, kind, status, error):
    app.config["EMOJI_ARCHIVE_MAX_UNPACKED"] = 1024 * 1024
    before = tree(tmp_path)
    data = {"file": upload(hostile_zips(tmp_path)[kind], "pack.zip", "application/zip")}
    response = client.post(f"{P}/packs/files?name=test_pack", data=data, headers=admin_headers)
    assert response.status_code == status
    assert error in response.get_json()["error"]
    assert tree(tmp_path) == before
    assert not (tmp_path / "escaped.png").exists()
    assert pack_json(emoji_dir, "test_pack")["files"] == {"blank": "blank.png", "blank2": "blank2.png"}


def test_add_file_refuses_a_broken_zip(client, emoji_dir, admin_headers):
    data = {"file": upload(b"PK\x03\x04 not really a zip", "x.zip", "application/zip")}
    response = client.post(f"{P}/packs/files?name=test_pack", data=data, headers=admin_headers)
    assert response.status_code == 400 and response.get_json()["error"].startswith("Invalid zip archive")


# ---------------------------------------------------------------------------------------------
# Two servers: remote listing and download


class Features:
    """WSGI wrapper answering nodeinfo with chosen features; everything else is the real server."""

    def __init__(self, wsgi, features: list[str]) -> None:
        self.wsgi = wsgi
        self.features = features

    def __call__(self, environ, start_response):
        path = environ["PATH_INFO"]
        if path == "/.well-known/nodeinfo":
            host = environ["HTTP_HOST"]
            body = {"links": [{"rel": "x", "href": f"http://{host}/nodeinfo/2.1.json"}]}
        elif path == "/nodeinfo/2.1.json":
            body = {"metadata": {"features": self.features}}
        else:
            return self.wsgi(environ, start_response)
        data = json.dumps(body).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]


@pytest.fixture
def remote(live_server, app):
    """Another Kenoma with the fixture packs; the local app may fetch from loopback."""
    server = live_server()
    for name in PACKS:
        copy_fixture_pack(server.app, name)
    server.emoji_dir = Path(server.app.config["EMOJI_DIR"])
    app.config["ALLOW_PRIVATE_FETCH"] = True
    return server


def test_remote_lists_the_other_servers_packs(client, remote, admin_headers):
    response = client.get(f"{P}/packs/remote?url={remote.url}&page=2&page_size=1", headers=admin_headers)
    assert response.status_code == 200
    expected = remote.app.test_client().get(f"{P}/packs?page=2&page_size=1").get_json()
    assert response.get_json() == expected
    assert expected["count"] == 4 and list(expected["packs"]) == ["pack_bad_sha"]


def test_remote_refuses_instance_without_shareable_packs(client, remote, admin_headers):
    remote.app.wsgi_app = Features(remote.app.wsgi_app, ["pleroma_api"])
    response = client.get(f"{P}/packs/remote?url={remote.url}", headers=admin_headers)
    assert response.status_code == 500
    assert response.get_json() == {"error": "The requested instance does not support sharing emoji packs"}


def test_remote_network_failure_is_500_with_reason(client, app, admin_headers):
    app.config["ALLOW_PRIVATE_FETCH"] = True
    response = client.get(f"{P}/packs/remote?url=http://127.0.0.1:{free_port()}", headers=admin_headers)
    assert response.status_code == 500 and "Connection" in response.get_json()["error"]


def test_remote_private_address_refused_by_default(client, remote, app, admin_headers):
    app.config["ALLOW_PRIVATE_FETCH"] = False
    response = client.get(f"{P}/packs/remote?url={remote.url}", headers=admin_headers)
    assert response.status_code == 500 and "refused" in response.get_json()["error"]


@pytest.mark.parametrize(
    ("query", "error"), [("", "Missing field: url."), ("?url=ftp://x", "url must be an http(s) URL")]
)
def test_remote_bad_url(client, app, admin_headers, query, error):
    response = client.get(f"{P}/packs/remote{query}", headers=admin_headers)
    assert (response.status_code, response.get_json()) == (400, {"error": error})


def test_download_shared_pack_as_another_name(client, app, remote, admin_headers):
    body = {"url": remote.url, "name": "test_pack", "as": "test_pack2"}
    response = client.post(f"{P}/packs/download", data=body, headers=admin_headers)
    assert (response.status_code, response.get_json()) == (200, "ok")
    local = Path(app.config["EMOJI_DIR"]) / "test_pack2"
    assert sorted(p.name for p in local.iterdir()) == ["blank.png", "blank2.png", "pack.json"]
    shown = client.get(f"{P}/pack?name=test_pack2").get_json()
    assert shown["files"] == {"blank": "blank.png", "blank2": "blank2.png"}
    assert shown["pack"]["license"] == "Test license" and shown["pack"]["share-files"] is True
    assert client.get(P).get_json()["blank"]["image_url"] == "/emoji/test_pack2/blank.png"
    assert not any(p.name.startswith(".") for p in Path(app.config["EMOJI_DIR"]).iterdir())


def test_download_pack_with_more_files_than_one_page(client, app, remote, admin_headers):
    folder = remote.emoji_dir / "big"
    folder.mkdir()
    files = {f"e{i:02d}": f"e{i:02d}.png" for i in range(35)}
    for file in files.values():
        (folder / file).write_bytes(BLANK_PNG)
    (folder / "pack.json").write_text(json.dumps({"files": files, "pack": {"share-files": True}}))
    response = client.post(
        f"{P}/packs/download", json={"url": remote.url, "name": "big"}, headers=admin_headers
    )
    assert response.status_code == 200
    assert client.get(f"{P}/pack?name=big").get_json()["files_count"] == 35


def test_download_from_fallback_src(client, app, remote, admin_headers):
    pack = remote.emoji_dir / "test_pack_nonshared" / "pack.json"
    data = json.loads(pack.read_text())
    data["pack"]["fallback-src"] = f"{remote.url}/emoji/test_pack_nonshared/nonshared.zip"
    pack.write_text(json.dumps(data))
    body = {"url": remote.url, "name": "test_pack_nonshared", "as": "copy"}
    response = client.post(f"{P}/packs/download", data=body, headers=admin_headers)
    assert (response.status_code, response.get_json()) == (200, "ok")
    local = Path(app.config["EMOJI_DIR"]) / "copy"
    assert sorted(p.name for p in local.iterdir()) == ["blank.png", "pack.json"]  # only listed files
    saved = json.loads((local / "pack.json").read_text())
    assert saved["files"] == {"blank": "blank.png"}
    assert saved["pack"]["fallback-src-sha256"] == NONSHARED_SHA and "can-download" not in saved["pack"]


def _remote_pack(remote, name: str, meta: dict, files: dict | None = None) -> None:
    folder = remote.emoji_dir / name
    folder.mkdir()
    (folder / "pack.json").write_text(json.dumps({"files": files or {"blank": "blank.png"}, "pack": meta}))


def test_download_checksum_mismatch_leaves_nothing(client, app, remote, admin_headers):
    source = f"{remote.url}/emoji/pack_bad_sha/pack_bad_sha.zip"
    _remote_pack(remote, "bad", {"fallback-src": source, "fallback-src-sha256": "57482F30" + "0" * 56})
    before = tree(Path(app.config["EMOJI_DIR"]))
    response = client.post(
        f"{P}/packs/download", data={"url": remote.url, "name": "bad"}, headers=admin_headers
    )
    assert response.status_code == 500
    assert response.get_json() == {"error": "SHA256 for the pack doesn't match the one sent by the server"}
    assert tree(Path(app.config["EMOJI_DIR"])) == before


def test_download_without_any_source(client, remote, admin_headers):
    _remote_pack(remote, "private", {"share-files": False})
    response = client.post(
        f"{P}/packs/download", data={"url": remote.url, "name": "private"}, headers=admin_headers
    )
    assert response.status_code == 500
    assert response.get_json() == {
        "error": "The pack was not set as shared and there is no fallback src to download from"
    }


def test_download_refuses_existing_local_name(client, app, emoji_dir, remote, admin_headers):
    body = {"url": remote.url, "name": "test_pack"}
    response = client.post(f"{P}/packs/download", data=body, headers=admin_headers)
    assert (response.status_code, response.get_json()) == (
        409,
        {"error": 'A pack named "test_pack" already exists'},
    )


def test_download_refuses_non_shareable_instance(client, remote, admin_headers):
    remote.app.wsgi_app = Features(remote.app.wsgi_app, [])
    body = {"url": remote.url, "name": "test_pack", "as": "x"}
    response = client.post(f"{P}/packs/download", data=body, headers=admin_headers)
    assert response.status_code == 500
    assert response.get_json() == {"error": "The requested instance does not support sharing emoji packs"}


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"url": "http://x"}, 400, "Missing field: name."),
        ({"name": "x"}, 400, "Missing field: url."),
        ({"url": "http://x", "name": "x", "as": "../x"}, 400, "Invalid pack name"),
    ],
)
def test_download_bad_input(client, app, admin_headers, body, status, error):
    response = client.post(f"{P}/packs/download", json=body, headers=admin_headers)
    assert (response.status_code, response.get_json()) == (status, {"error": error})


def test_download_unknown_remote_pack_is_500(client, remote, admin_headers):
    response = client.post(
        f"{P}/packs/download", data={"url": remote.url, "name": "nope"}, headers=admin_headers
    )
    assert response.status_code == 500 and "404" in response.get_json()["error"]


@pytest.mark.parametrize(
    ("kind", "status"), [("dotdot", 400), ("absolute", 400), ("symlink", 400), ("bomb", 413)]
)
def test_download_refuses_hostile_archive(client, app, remote, admin_headers, tmp_path, kind, status):
    app.config["EMOJI_ARCHIVE_MAX_UNPACKED"] = 1024 * 1024
    payload = hostile_zips(tmp_path)[kind]
    zips = remote.emoji_dir / "zips"
    zips.mkdir()
    (zips / "hostile.zip").write_bytes(payload)
    meta = {
        "fallback-src": f"{remote.url}/emoji/zips/hostile.zip",
        "fallback-src-sha256": hashlib.sha256(payload).hexdigest(),
    }
    _remote_pack(remote, "hostile", meta, {"ok": "ok.png"})
    before = tree(tmp_path)
    response = client.post(
        f"{P}/packs/download", data={"url": remote.url, "name": "hostile"}, headers=admin_headers
    )
    assert response.status_code == status and response.get_json()["error"].startswith("Refused archive")
    assert tree(tmp_path) == before
    assert not (tmp_path / "escaped.png").exists()


def test_download_refuses_unsafe_remote_file_names(client, app, remote, admin_headers):
    _remote_pack(remote, "sneaky", {"share-files": True}, {"x": "../../x.png"})
    response = client.post(
        f"{P}/packs/download", data={"url": remote.url, "name": "sneaky"}, headers=admin_headers
    )
    assert response.status_code == 400
    assert response.get_json() == {"error": "Refused archive: member '../../x.png' is not a safe file name"}
    assert not (Path(app.config["EMOJI_DIR"]) / "sneaky").exists()
