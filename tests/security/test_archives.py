"""Hostile zip archives for emoji packs, beyond the cases tests/routes/pleroma/test_emoji_packs.py
already covers (`..`, absolute paths, a symlink, a deflate bomb, each through an upload and a
fallback-src download): more ways out of the folder, too many members, encrypted members, and the
shared-archive download path, where the other server serves the zip itself."""

from __future__ import annotations

import hashlib
import io
import json
import stat
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import copy_fixture_pack
from tests.security.conftest import PNG_1PX
from tests.security.conftest import assert_json_error

P = "/api/v1/pleroma/emoji"


def _zip(members: list[tuple[zipfile.ZipInfo | str, bytes]], compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name": two archives mean it
        for info, data in members:
            archive.writestr(info if isinstance(info, zipfile.ZipInfo) else zipfile.ZipInfo(info), data)
    return buffer.getvalue()


def _link(name: str, target: str) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target.encode()


def _dir_link(name: str) -> tuple[zipfile.ZipInfo, bytes]:
    info, data = _link(name, "/")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16 | 0x10
    return info, data


def _encrypted() -> bytes:
    data = bytearray(_zip([("ok.png", PNG_1PX)]))
    # Set the "encrypted" flag bit in the local and the central header: zipfile then wants a password.
    data[6] |= 1
    central = data.rfind(b"PK\x01\x02")
    data[central + 8] |= 1
    return bytes(data)


OK = ("ok.png", PNG_1PX)
# name -> (archive bytes, status, start of the error)
HOSTILE: dict[str, tuple[bytes, int, str]] = {
    "backslash-dotdot": (_zip([OK, ("..\\..\\escaped.png", PNG_1PX)]), 400, "Refused archive"),
    "nested-dotdot": (_zip([OK, ("sub/../../escaped.png", PNG_1PX)]), 400, "Refused archive"),
    "dot-segment": (_zip([OK, ("./sub/./ok2.png", PNG_1PX)]), 400, "Refused archive"),
    "drive-letter": (_zip([OK, ("C:/escaped.png", PNG_1PX)]), 400, "Refused archive"),
    "drive-backslash": (_zip([OK, ("C:\\escaped.png", PNG_1PX)]), 400, "Refused archive"),
    "unc-path": (_zip([OK, ("\\\\server\\share\\escaped.png", PNG_1PX)]), 400, "Refused archive"),
    "hidden-member": (_zip([OK, (".staging.png", PNG_1PX)]), 400, "Refused archive"),
    "newline-name": (_zip([OK, ("ok\n.png", PNG_1PX)]), 400, "Refused archive"),
    # zipfile cuts a name at NUL, so this one reads as a second ok.png.
    "nul-name": (_zip([OK, ("ok.png\x00.txt", PNG_1PX)]), 400, "Refused archive"),
    "duplicate": (_zip([OK, OK]), 400, "Refused archive"),
    "long-name": (_zip([OK, ("x" * 5000 + ".png", PNG_1PX)]), 400, "Refused archive"),
    "link-to-parent": (_zip([OK, _link("up.png", "../../../instance/kenoma.db")]), 400, "Refused archive"),
    "dir-link": (_zip([_dir_link("sub/"), ("sub/escaped.png", PNG_1PX)]), 400, "Refused archive"),
    "many-members": (_zip([(f"m{i}.png", b"") for i in range(60)]), 413, "Refused archive"),
    "deflate-bomb": (_zip([("bomb.png", b"\0" * (3 << 20))], zipfile.ZIP_DEFLATED), 413, "Refused archive"),
    "many-small-bombs": (
        _zip([(f"b{i}.png", b"\0" * (300 << 10)) for i in range(8)], zipfile.ZIP_DEFLATED),
        413,
        "Refused archive",
    ),
    "encrypted": (_encrypted(), 400, "Invalid zip archive"),
    "truncated": (_zip([OK, ("ok2.png", PNG_1PX)])[:-30], 400, "Invalid zip archive"),
}
LIMITS = {"EMOJI_ARCHIVE_MAX_UNPACKED": 1 << 20, "EMOJI_ARCHIVE_MAX_MEMBERS": 50}


@pytest.fixture
def pack(app: Flask) -> Path:
    app.config.update(LIMITS)
    return copy_fixture_pack(app, "test_pack")


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_uploaded_hostile_zip_is_refused_whole(
    client: FlaskClient, admin_headers: dict, pack: Path, root: Path, unchanged: Callable[..., Any], kind: str
) -> None:
    payload, status, error = HOSTILE[kind]
    with unchanged():
        data = {"name": "test_pack", "file": (io.BytesIO(payload), "pack.zip", "application/zip")}
        body = assert_json_error(client.post(f"{P}/packs/files", data=data, headers=admin_headers), status)
        assert body["error"].startswith(error), body
    assert not list(root.rglob("escaped*")) and not list(root.rglob("ok.png"))


class SharedArchive:
    """Another server (WSGI in front of a live Kenoma) that shares pack `hostile` as `payload`."""

    def __init__(self, wsgi: Any, payload: bytes) -> None:
        self.wsgi = wsgi
        self.payload = payload

    def __call__(self, environ: dict, start_response: Callable[..., Any]) -> Any:
        path, query = environ["PATH_INFO"], environ.get("QUERY_STRING", "")
        if path == "/api/v1/pleroma/emoji/pack" and "name=hostile" in query:
            sha = hashlib.sha256(self.payload).hexdigest()
            meta = {"share-files": True, "can-download": True, "download-sha256": sha}
            body = json.dumps({"files": {"ok": "ok.png"}, "files_count": 1, "pack": meta}).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
        if path == "/api/v1/pleroma/emoji/packs/archive" and "name=hostile" in query:
            start_response("200 OK", [("Content-Type", "application/zip")])
            return [self.payload]
        return self.wsgi(environ, start_response)


# The members the download wants (ok.png, pack.json) are there too: only the hostile one differs.
SHARED = {
    "dotdot": _zip([OK, ("pack.json", b"{}"), ("../../escaped.png", PNG_1PX)]),
    "absolute": _zip([OK, ("pack.json", b"{}"), ("/tmp/escaped.png", PNG_1PX)]),
    "symlink-pack-json": _zip([OK, _link("pack.json", "/etc/passwd")]),
    "symlink-member": _zip([_link("ok.png", "../../../instance/kenoma.db"), ("pack.json", b"{}")]),
    "backslash": _zip([OK, ("pack.json", b"{}"), ("..\\escaped.png", PNG_1PX)]),
    "bomb": _zip([("ok.png", b"\0" * (3 << 20)), ("pack.json", b"{}")], zipfile.ZIP_DEFLATED),
    "many-members": _zip([OK, ("pack.json", b"{}")] + [(f"m{i}.png", b"") for i in range(60)]),
}


@pytest.mark.parametrize("kind", sorted(SHARED))
def test_shared_pack_download_refuses_hostile_archive(
    app: Flask,
    client: FlaskClient,
    admin_headers: dict,
    root: Path,
    live_server: Callable[..., Any],
    unchanged: Callable[..., Any],
    kind: str,
) -> None:
    app.config.update(LIMITS | {"ALLOW_PRIVATE_FETCH": True})
    remote = live_server()
    remote.app.wsgi_app = SharedArchive(remote.app.wsgi_app, SHARED[kind])
    before = {p for p in root.rglob("*") if "live-" not in p.as_posix()}
    with unchanged():
        body = {"url": remote.url, "name": "hostile", "as": "copy"}
        response = client.post(f"{P}/packs/download", data=body, headers=admin_headers)
        error = assert_json_error(response, (400, 413))["error"]
        assert error.startswith("Refused archive"), error
    after = {p for p in root.rglob("*") if "live-" not in p.as_posix()}
    assert after == before  # no half-written pack, no staging folder left
    assert not Path("/tmp/escaped.png").exists()


def test_shared_pack_download_refuses_an_archive_over_the_byte_limit(
    app: Flask,
    client: FlaskClient,
    admin_headers: dict,
    live_server: Callable[..., Any],
    unchanged: Callable[..., Any],
) -> None:
    payload = _zip([OK, ("pack.json", b"{}"), ("pad.png", bytes(range(256)) * 4096)])
    app.config.update({"ALLOW_PRIVATE_FETCH": True, "EMOJI_ARCHIVE_MAX_BYTES": 64 << 10})
    remote = live_server()
    remote.app.wsgi_app = SharedArchive(remote.app.wsgi_app, payload)
    with unchanged():
        body = {"url": remote.url, "name": "hostile", "as": "copy"}
        response = client.post(f"{P}/packs/download", data=body, headers=admin_headers)
        # SPEC 17: a failed remote download is a 500 with the reason.
        assert "too large" in assert_json_error(response, 500)["error"]
