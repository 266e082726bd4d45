"""Emoji packs between two servers (SPEC 17): remote listing and download. The other server is a
second Kenoma on 127.0.0.1 (the `live_server` fixture), never a mock."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.conftest import copy_fixture_pack
from tests.conftest import free_port
from tests.emoji_fixtures import BLANK_PNG
from tests.emoji_fixtures import NONSHARED_SHA
from tests.routes.pleroma.emoji_pack_helpers import PACKS
from tests.routes.pleroma.emoji_pack_helpers import P
from tests.routes.pleroma.emoji_pack_helpers import hostile_zips
from tests.routes.pleroma.emoji_pack_helpers import tree

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
