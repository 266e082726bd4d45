"""`flask --app app frontend install SOURCE` (SPEC 27): a zip, a folder or a URL; atomic; nothing
written outside the staging folder whatever the archive's names say."""

from __future__ import annotations

import http.server
import io
import stat
import threading
import zipfile
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask

INDEX = b"<!doctype html><title>new</title>"


def _install(app: Flask, source: str | Path) -> Result:
    return app.test_cli_runner().invoke(args=["frontend", "install", str(source)])


def _zip(path: Path, members: dict[str, bytes], links: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return path


def _target(app: Flask) -> Path:
    return Path(app.instance_path) / "frontend"


def _old_build(app: Flask) -> Path:
    target = _target(app)
    target.mkdir(parents=True)
    (target / "index.html").write_text("old")
    return target


def test_install_a_zip_wrapped_in_dist(app: Flask, tmp_path: Path) -> None:
    _old_build(app)
    archive = _zip(
        tmp_path / "build.zip",
        {"dist/index.html": INDEX, "dist/static/js/app.1234abcd.js": b"js", "dist/static/config.json": b"{}"},
    )
    result = _install(app, archive)
    assert result.exit_code == 0, result.output
    assert "unpacked 3/3 files" in result.output and "installed the front-end" in result.output
    target = _target(app)
    assert (target / "index.html").read_bytes() == INDEX
    assert (target / "static" / "js" / "app.1234abcd.js").read_bytes() == b"js"
    # Nothing left beside it: no staging folder, no previous build.
    assert sorted(p.name for p in target.parent.iterdir() if p.name.startswith(".frontend")) == []
    assert app.test_client().get("/").data == INDEX


def test_install_a_folder(app: Flask, tmp_path: Path) -> None:
    source = tmp_path / "built"
    (source / "static").mkdir(parents=True)
    (source / "index.html").write_bytes(INDEX)
    (source / "static" / "app.css").write_text("body{}")
    secret = tmp_path / "secret.txt"
    secret.write_text("private")
    (source / "static" / "leak.txt").symlink_to(secret)
    result = _install(app, source)
    assert result.exit_code == 0, result.output
    assert (_target(app) / "static" / "app.css").read_text() == "body{}"
    client = app.test_client()
    assert client.get("/static/app.css").status_code == 200
    assert client.get("/static/leak.txt").status_code == 404  # a link out of the build is not served


@pytest.fixture
def file_server(tmp_path: Path) -> Iterator[str]:
    folder = tmp_path / "served"
    folder.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_install_from_a_url(app: Flask, tmp_path: Path, file_server: str) -> None:
    _zip(tmp_path / "served" / "fe.zip", {"index.html": INDEX})
    result = _install(app, f"{file_server}/fe.zip")
    assert result.exit_code == 0, result.output
    assert "downloading" in result.output
    assert (_target(app) / "index.html").read_bytes() == INDEX
    missing = _install(app, f"{file_server}/nothing.zip")
    assert missing.exit_code != 0 and "download failed" in missing.output


@pytest.mark.parametrize(
    ("members", "links", "message"),
    [
        ({"index.html": INDEX, "../escape.txt": b"x"}, None, "leaves the front-end folder"),
        ({"index.html": INDEX, "static/../../escape.txt": b"x"}, None, "leaves the front-end folder"),
        ({"index.html": INDEX, "/tmp/escape.txt": b"x"}, None, "absolute"),
        ({"index.html": INDEX, "C:/escape.txt": b"x"}, None, "absolute"),
        ({"index.html": INDEX, "static\\..\\..\\escape.txt": b"x"}, None, "absolute or odd"),
        ({"index.html": INDEX}, {"static/link": "/etc/passwd"}, "symbolic link"),
        ({"static/app.js": b"x"}, None, "no index.html"),
    ],
)
def test_unsafe_or_broken_archives_leave_the_old_build(
    app: Flask, tmp_path: Path, members: dict, links: dict | None, message: str
) -> None:
    _old_build(app)
    result = _install(app, _zip(tmp_path / "bad.zip", members, links))
    assert result.exit_code != 0
    assert message in result.output
    assert (_target(app) / "index.html").read_text() == "old"
    assert (
        not (tmp_path / "escape.txt").exists()
        and not (Path(app.instance_path).parent / "escape.txt").exists()
    )
    assert [p for p in _target(app).parent.iterdir() if p.name.startswith(".frontend")] == []


def test_not_a_zip_and_not_there(app: Flask, tmp_path: Path) -> None:
    _old_build(app)
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip at all")
    result = _install(app, junk)
    assert result.exit_code != 0 and "not a readable zip file" in result.output
    result = _install(app, tmp_path / "nowhere")
    assert result.exit_code != 0 and "no such file, folder or URL" in result.output
    assert (_target(app) / "index.html").read_text() == "old"


def test_a_zip_bomb_is_refused_before_inflating(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from services import frontend

    monkeypatch.setattr(frontend, "MAX_UNPACKED_BYTES", 1000)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("index.html", b"0" * 100_000)
    (tmp_path / "bomb.zip").write_bytes(buffer.getvalue())
    result = _install(app, tmp_path / "bomb.zip")
    assert result.exit_code != 0 and "more than the limit" in result.output
    assert not _target(app).exists()
