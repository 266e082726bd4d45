"""Emoji pack files (SPEC 17): add (uploads, URLs, zips), update, delete, and hostile archives."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import copy_fixture_pack
from tests.emoji_fixtures import BLANK_PNG
from tests.emoji_fixtures import SHORTCODE_PNG
from tests.routes.pleroma.emoji_pack_helpers import P
from tests.routes.pleroma.emoji_pack_helpers import hostile_zips
from tests.routes.pleroma.emoji_pack_helpers import pack_json
from tests.routes.pleroma.emoji_pack_helpers import tree
from tests.routes.pleroma.emoji_pack_helpers import upload
from tests.routes.pleroma.emoji_pack_helpers import zip_bytes

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
