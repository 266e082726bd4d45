"""The served front-end, /static/ and the landing page (SPEC 27)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from models import Account
from services.statuses import NewStatus
from services.statuses import post_status

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
INDEX = "<!doctype html><title>app</title><div id=app></div>"


@pytest.fixture
def build(app: Flask, tmp_path: Path) -> Path:
    """A built front-end in its own folder (KENOMA_FRONTEND_DIR)."""
    folder = tmp_path / "build"
    (folder / "static" / "js").mkdir(parents=True)
    (folder / "index.html").write_text(INDEX)
    (folder / "favicon.ico").write_bytes(b"icon")
    (folder / "static" / "js" / "app.3f9a1c2e.js").write_text("console.log(1)")
    (folder / "static" / "config.json").write_text('{"theme": "build"}')
    (folder / "static" / "terms-of-service.html").write_text("<p>build terms</p>")
    app.config["FRONTEND_DIR"] = str(folder)
    return folder


def test_index_at_root_and_for_browser_paths(client: FlaskClient, build: Path) -> None:
    for path in (
        "/",
        "/main/all",
        "/users/nobody/extra",
        "/settings/profile",
        "/@alice",
        "/bob@social.example",
        "/index.html",
    ):
        response = client.get(path, headers=BROWSER)
        assert response.status_code == 200, path
        assert response.get_data(as_text=True) == INDEX
        assert response.headers["Cache-Control"] == "no-cache"
        assert response.mimetype == "text/html"
        # Its own policy, not the strict one of Kenoma's pages: the app runs its scripts.
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Frame-Options"] == "DENY"


def test_api_paths_always_win(client: FlaskClient, build: Path) -> None:
    assert client.get("/api/v1/instance", headers=BROWSER).get_json()["uri"]
    for path in (
        "/api/v1/nothing",
        "/oauth/nothing",
        "/.well-known/nothing",
        "/nodeinfo/9.9",
        "/objects/1",
    ):
        response = client.get(path, headers=BROWSER)
        assert response.status_code == 404, path
        assert response.is_json, path
    # A method the route lacks is still a 405, not the app.
    assert client.get("/api/v1/apps", headers=BROWSER).status_code == 405
    assert client.get("/inbox", headers=BROWSER).status_code == 405
    assert client.post("/main/all", headers=BROWSER).status_code in (404, 405)


def test_no_index_for_api_clients_or_files(client: FlaskClient, build: Path) -> None:
    assert client.get("/main/all", headers={"Accept": "application/json"}).status_code == 404
    assert client.get("/main/all", headers={"Accept": "application/activity+json"}).status_code == 404
    for path in ("/favicon.png", "/instance/panel.html", "/static/missing.js", "/sw.js"):
        response = client.get(path, headers=BROWSER)
        assert response.status_code == 404, path
        assert response.get_json() == {"error": "Not found"}


def test_build_files_and_cache_headers(client: FlaskClient, build: Path) -> None:
    hashed = client.get("/static/js/app.3f9a1c2e.js")
    assert hashed.status_code == 200 and hashed.get_data(as_text=True) == "console.log(1)"
    assert hashed.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.data == b"icon"
    assert icon.headers["Cache-Control"] == "no-cache"
    again = client.get("/favicon.ico", headers={"If-None-Match": icon.headers["ETag"]})
    assert again.status_code == 304


def test_static_override_then_build_then_kenoma(app: Flask, client: FlaskClient, build: Path) -> None:
    assert client.get("/static/config.json").get_json() == {"theme": "build"}
    overrides = Path(app.instance_path) / "static"
    overrides.mkdir()
    (overrides / "config.json").write_text('{"theme": "instance"}')
    (overrides / "terms-of-service.html").write_text("<p>our terms</p>")
    (overrides / "other.js").write_text("not served")
    assert client.get("/static/config.json").get_json() == {"theme": "instance"}
    assert client.get("/static/terms-of-service.html").get_data(as_text=True) == "<p>our terms</p>"
    assert client.get("/static/other.js").status_code == 404  # only the two named files
    assert "script-src 'self'" in client.get("/static/js/app.3f9a1c2e.js").headers["Content-Security-Policy"]
    # Kenoma's own images when the build has none of that name, and the overrides: never the
    # app's policy (emoji packs fetched from other servers live there), always sandboxed.
    image = client.get("/static/images/avi.png")
    assert image.status_code == 200 and image.mimetype == "image/png"
    for response in (image, client.get("/static/config.json")):
        policy = response.headers["Content-Security-Policy"]
        assert "sandbox" in policy and "script-src" not in policy


@pytest.mark.parametrize(
    "path",
    [
        "/static/../app.py",
        "/static/%2e%2e/app.py",
        "/static/..%2fapp.py",
        "/static//etc/passwd",
        "/..%2fapp.py",
    ],
)
def test_no_file_outside_the_folders(client: FlaskClient, build: Path, path: str) -> None:
    response = client.get(path, headers=BROWSER, follow_redirects=True)
    assert response.status_code == 404
    assert b"create_app" not in response.data


def test_a_link_out_of_the_build_is_not_followed(client: FlaskClient, build: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    (build / "static" / "leak.txt").symlink_to(secret)
    assert client.get("/static/leak.txt").status_code == 404


def test_landing_page_without_a_front_end(
    client: FlaskClient, make_account: Callable[..., Account], tmp_path: Path, app: Flask
) -> None:
    app.config["FRONTEND_DIR"] = str(tmp_path / "none")
    alice = make_account("alice", display_name="Alice Example")
    post_status(alice, NewStatus(text="hello <b>world</b> from the landing page", visibility="public"))
    post_status(alice, NewStatus(text="a private thought", visibility="private"))
    response = client.get("/", headers=BROWSER)
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "Kenoma" in html and "A small Pleroma-compatible server" in html
    assert "Alice Example" in html and "@alice" in html
    assert "hello" in html and "a private thought" not in html
    assert "<b>world</b>" not in html  # statuses are rendered from their sanitised HTML
    for link in (
        "/openapi.json",
        "/docs",
        "/api/v1/apps",
        "/oauth/authorize",
        "/oauth/token",
        "/static/landing.css",
    ):
        assert link in html
    assert "<script" not in html
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    css = client.get("/static/landing.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    # Without a front-end, browser paths are 404s.
    assert client.get("/main/all", headers=BROWSER).status_code == 404
