"""Path traversal in every file and pack name: pack names, emoji file names, the emoji and media
file routes, backup URLs, upload file names. Each attempt is a clear 4xx and nothing is read from
or written to outside the folder it belongs in."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import copy_fixture_pack
from tests.security.conftest import PNG_1PX
from tests.security.conftest import World
from tests.security.conftest import assert_json_error
from tests.security.conftest import png_upload

P = "/api/v1/pleroma/emoji"
SECRET = b"TOP SECRET outside every served folder"

BAD_PACK_NAMES = (
    "..",
    ".",
    "../test_pack",
    "../../instance",
    "test_pack/..",
    "test_pack/../test_pack",
    "/etc",
    "/tmp",
    "..\\test_pack",
    "test_pack\\..",
    ".hidden",
    ".download-x",
    "a/b",
    "%2e%2e",
    "test_pack\x00",
    "~root",
    "pack name",
    "é",
    "x" * 300,
    "x" * 100_000,
)
BAD_FILE_NAMES = (
    "../x.png",
    "../../x.png",
    "../../../instance/x.png",
    "sub/../../x.png",
    "/x.png",
    "/tmp/x.png",
    "./x.png",
    "sub/./x.png",
    "..\\x.png",
    "sub\\..\\..\\x.png",
    "C:\\x.png",
    ".hidden.png",
    "sub/.hidden/x.png",
    "sub//x.png",
    "x.png/",
    "x.png\x00.txt",
    "%2e%2e/x.png",
    "x y.png",
    "ü.png",
    ("x" * 300) + ".png",
    "/".join(["d"] * 3000) + "/x.png",
)


@pytest.fixture
def packs(app: Flask) -> Path:
    copy_fixture_pack(app, "test_pack")
    copy_fixture_pack(app, "test_pack_nonshared")
    return Path(app.config["EMOJI_DIR"])


@pytest.fixture
def secret(root: Path) -> Path:
    """A file beside the served folders that no request may read or touch."""
    path = root / "instance" / "secret.txt"
    path.write_bytes(SECRET)
    (root / "secret.png").write_bytes(PNG_1PX)
    return path


def _no_secret(response: Any) -> None:
    assert SECRET not in response.get_data()


def test_pack_names_cannot_leave_the_emoji_folder(
    client: FlaskClient, world: World, packs: Path, secret: Path, unchanged: Callable[..., Any]
) -> None:
    h = world.admin_h
    tried = 0
    with unchanged():
        for name in BAD_PACK_NAMES:
            calls = [
                client.get(P + "/pack", query_string={"name": name}),
                client.get(P + "/packs/archive", query_string={"name": name}),
                client.post(P + "/pack", data={"name": name}, headers=h),
                client.patch(P + "/pack", json={"name": name, "metadata": {"license": "x"}}, headers=h),
                client.delete(P + "/pack", data={"name": name}, headers=h),
                client.post(P + "/packs/files", data={"name": name, "file": png_upload()}, headers=h),
                client.patch(
                    P + "/packs/files",
                    data={"name": name, "shortcode": "blank", "new_shortcode": "b", "new_filename": "b.png"},
                    headers=h,
                ),
                client.delete(P + "/packs/files", data={"name": name, "shortcode": "blank"}, headers=h),
                client.post(
                    P + "/packs/download",
                    data={"url": "https://example.invalid", "name": "test_pack", "as": name},
                    headers=h,
                ),
            ]
            for response in calls:
                tried += 1
                body = assert_json_error(response, (400, 404))
                assert body["error"] in ("Invalid pack name", f"Pack {name.strip()} does not exist") or body[
                    "error"
                ].startswith(('pack "', "pack name")), body
                _no_secret(response)
    assert tried == len(BAD_PACK_NAMES) * 9


def test_legacy_archive_path_cannot_leave_the_emoji_folder(
    client: FlaskClient, packs: Path, secret: Path, unchanged: Callable[..., Any]
) -> None:
    with unchanged():
        for name in ("..", ".", "%2e%2e", "..%2f..%2finstance", ".hidden", "x" * 300):
            response = client.get(f"{P}/packs/{name}/download_shared")
            assert_json_error(response, (400, 404))
            _no_secret(response)


def test_emoji_file_names_cannot_leave_the_pack(
    client: FlaskClient, world: World, packs: Path, secret: Path, unchanged: Callable[..., Any]
) -> None:
    h = world.admin_h
    with unchanged():
        for filename in BAD_FILE_NAMES:
            add = {"name": "test_pack", "shortcode": "evil", "filename": filename, "file": png_upload()}
            body = assert_json_error(client.post(P + "/packs/files", data=add, headers=h), 400)
            assert body["error"].startswith("Invalid file name"), (filename[:40], body)
            move = {
                "name": "test_pack",
                "shortcode": "blank",
                "new_shortcode": "evil",
                "new_filename": filename,
            }
            body = assert_json_error(client.patch(P + "/packs/files", data=move, headers=h), 400)
            assert body["error"].startswith("Invalid file name"), (filename[:40], body)


@pytest.mark.parametrize("filename", ["../../evil.png", "..\\..\\evil.png", "/tmp/evil.png"])
def test_emoji_upload_name_counts_only_by_its_last_part(
    client: FlaskClient, world: World, packs: Path, root: Path, filename: str
) -> None:
    """Without `filename` the upload's own name is the default, reduced to its base name."""
    before = set(root.rglob("*"))
    add = {"name": "test_pack", "file": (io.BytesIO(PNG_1PX), filename, "image/png")}
    response = client.post(P + "/packs/files", data=add, headers=world.admin_h)
    if response.status_code == 400:  # what is left is still not a safe name: refused outright
        assert response.get_json()["error"].startswith(("Invalid file name", "Invalid shortcode"))
        assert set(root.rglob("*")) == before
        return
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["evil"] == "evil.png"
    assert set(root.rglob("*")) - before == {packs / "test_pack" / "evil.png"}


def _refused(client: FlaskClient, path: str) -> Any:
    """GET path; a 308 that only merges doubled slashes is followed (it stays under its prefix)."""
    response = client.get(path)
    if response.status_code == 308:
        location = response.headers["Location"]
        assert location.split("://", 1)[-1].split("/", 1)[1].startswith(path.split("/")[1] + "/"), location
        response = client.get(location)
    assert response.status_code in (400, 404), (path[:60], response.status_code)
    assert response.mimetype == "application/json"
    _no_secret(response)
    return response


def test_emoji_files_route_serves_only_pack_files(
    client: FlaskClient, packs: Path, secret: Path, root: Path, unchanged: Callable[..., Any]
) -> None:
    # A link inside a pack to a file outside it, as an operator's mistake might leave.
    os.symlink(secret, packs / "test_pack" / "link.png")
    os.symlink(root / "instance", packs / "test_pack" / "linkdir")
    assert client.get("/emoji/test_pack/blank.png").status_code == 200
    paths = (
        "/emoji/test_pack/link.png",
        "/emoji/test_pack/linkdir/secret.txt",
        "/emoji/test_pack/../../instance/secret.txt",
        "/emoji/test_pack/%2e%2e/%2e%2e/instance/secret.txt",
        "/emoji/test_pack/..%2f..%2finstance%2fsecret.txt",
        "/emoji/..%2finstance/secret.txt",
        "/emoji/%2e%2e/secret.png",
        "/emoji/test_pack/.%2e/.%2e/secret.png",
        "/emoji/test_pack//etc/passwd",
        "/emoji/test_pack/%2fetc%2fpasswd",
        "/emoji/test_pack/..\\..\\instance\\secret.txt",
        "/emoji/test_pack/pack.json/..",
        "/emoji/test_pack/blank.png%00.txt",
        "/emoji/.hidden/x.png",
        "/emoji/test_pack/" + "a/" * 2000 + "x.png",
    )
    with unchanged():
        for path in paths:
            _refused(client, path)


def test_media_route_serves_only_uploads(
    client: FlaskClient, world: World, secret: Path, unchanged: Callable[..., Any]
) -> None:
    url = client.get(f"/api/v1/media/{world.ids['bob_media']}", headers=world.bob_h).get_json()["url"]
    folder = url.split("/media/", 1)[1].split("/")[0]
    assert client.get(f"/media/{folder}/pixel.png").status_code == 200
    paths = (
        "/media/../secret.txt",
        "/media/../kenoma.db",
        "/media/%2e%2e/secret.txt",
        "/media/..%2fsecret.txt",
        "/media/%2e%2e%2fkenoma.db",
        f"/media/{folder}/../../secret.txt",
        f"/media/{folder}/%2e%2e/%2e%2e/kenoma.db",
        "/media/backups/../../secret.txt",
        "/media/backups/..%2f..%2fkenoma.db",
        "/media//etc/passwd",
        "/media/%2fetc%2fpasswd",
        "/media/..\\secret.txt",
        "/media/secret.txt%00.png",
        f"/media/{folder}",
        "/media/",
        "/media/" + "a/" * 2000 + "x.png",
    )
    with unchanged():
        for path in paths:
            assert b"SQLite format" not in _refused(client, path).get_data()


def test_images_and_static_routes_stay_in_their_folders(
    client: FlaskClient, secret: Path, unchanged: Callable[..., Any]
) -> None:
    with unchanged():
        for prefix in ("/images", "/static"):
            for rest in (
                "../app.py",
                "%2e%2e/app.py",
                "..%2fapp.py",
                "../../instance/secret.txt",
                "/etc/passwd",
            ):
                assert b"create_app" not in _refused(client, f"{prefix}/{rest}").get_data()


@pytest.mark.parametrize(
    "filename",
    [
        "../../../escaped.png",
        "..\\..\\escaped.png",
        "/tmp/escaped.png",
        "../instance/kenoma.db",
        ".htaccess",
        "",
    ],
)
def test_upload_file_names_never_leave_the_media_folder(
    client: FlaskClient, world: World, root: Path, filename: str
) -> None:
    """Uploads are stored under a safe name inside <instance>/media/<flake>/, whatever they say."""
    before = set(root.rglob("*"))
    h = world.alice_h
    answers = [
        client.post("/api/v1/media", data={"file": (io.BytesIO(PNG_1PX), filename, "image/png")}, headers=h),
        client.put(
            "/api/v1/pleroma/mascot", data={"file": (io.BytesIO(PNG_1PX), filename, "image/png")}, headers=h
        ),
        client.patch(
            "/api/v1/accounts/update_credentials",
            data={"avatar": (io.BytesIO(PNG_1PX), filename, "image/png")},
            headers=h,
        ),
    ]
    media_root = root / "instance" / "media"
    for response in answers:
        assert response.status_code == 200, response.get_json()
    for path in set(root.rglob("*")) - before:
        assert media_root in path.parents, path
        assert not path.name.startswith(".") or path.is_dir(), path
    assert not (root / "escaped.png").exists() and not Path("/tmp/escaped.png").exists()
    for url in (answers[0].get_json()["url"], answers[1].get_json()["url"], answers[2].get_json()["avatar"]):
        assert ".." not in url and "\\" not in url
