"""GET /emoji/<pack>/<file>: pack files served from KENOMA_EMOJI_DIR with ETag, Last-Modified, 304."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import copy_fixture_pack


@pytest.fixture
def pack(app) -> Path:
    return copy_fixture_pack(app, "test_pack")


def test_emoji_file_served_with_validators(client, pack):
    response = client.get("/emoji/test_pack/blank.png")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.data == (pack / "blank.png").read_bytes()
    assert response.headers["ETag"] and response.headers["Last-Modified"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]


def test_emoji_file_304_on_etag_and_date(client, pack):
    first = client.get("/emoji/test_pack/blank.png")
    by_etag = client.get("/emoji/test_pack/blank.png", headers={"If-None-Match": first.headers["ETag"]})
    assert by_etag.status_code == 304 and by_etag.data == b""
    by_date = client.get(
        "/emoji/test_pack/blank.png", headers={"If-Modified-Since": first.headers["Last-Modified"]}
    )
    assert by_date.status_code == 304


def test_emoji_file_in_a_sub_directory(client, pack):
    (pack / "fox").mkdir()
    shutil.copy(pack / "blank.png", pack / "fox" / "blobfox.png")
    assert client.get("/emoji/test_pack/fox/blobfox.png").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/emoji/test_pack/missing.png",
        "/emoji/nope/blank.png",
        "/emoji/test_pack/%2e%2e/%2e%2e/instance/kenoma.db",
        "/emoji/test_pack/..%2f..%2fsecret.txt",
        "/emoji/..%2fsecret.txt/x",
        "/emoji/test_pack/fox",  # a directory
    ],
)
def test_emoji_file_not_found_and_no_escape(client, app, pack, tmp_path, path):
    (tmp_path / "secret.txt").write_text("secret")
    (pack / "fox").mkdir()
    response = client.get(path)
    assert (response.status_code, response.get_json()) == (404, {"error": "Not found"})


def test_emoji_file_never_follows_a_link_out_of_the_folder(client, pack, tmp_path):
    (tmp_path / "secret.txt").write_text("secret")
    os.symlink(tmp_path / "secret.txt", pack / "link.png")
    assert client.get("/emoji/test_pack/link.png").status_code == 404
