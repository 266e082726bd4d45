"""Uploads whose bytes are not what their name says, bodies over MAX_CONTENT_LENGTH and fields
over their length limit."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import copy_fixture_pack
from tests.security.conftest import PNG_1PX
from tests.security.conftest import World
from tests.security.conftest import assert_json_error

HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'
PHP = b"<?php system($_GET['c']); ?>"
POLYGLOT = PNG_1PX[:16] + HTML  # a PNG signature, then a page
DISGUISES = {
    "html-as-png": (HTML, "x.png", "image/png"),
    "svg-as-png": (SVG, "x.png", "image/png"),
    "svg-as-svg": (SVG, "x.svg", "image/svg+xml"),
    "html-as-gif": (HTML, "x.gif", "image/gif"),
    "php-as-jpg": (PHP, "x.jpg", "image/jpeg"),
    "html-as-html": (HTML, "x.html", "text/html"),
    "broken-png": (POLYGLOT, "x.png", "image/png"),
}


# A file that starts with a PNG signature is served as image/png (nosniff keeps browsers from
# reading the rest as a page); only what the bytes do not prove is judged here.
@pytest.mark.parametrize("kind", sorted(set(DISGUISES) - {"broken-png"}))
def test_media_is_never_served_as_what_its_name_claims(client: FlaskClient, world: World, kind: str) -> None:
    data, name, claimed = DISGUISES[kind]
    response = client.post(
        "/api/v1/media", data={"file": (io.BytesIO(data), name, claimed)}, headers=world.alice_h
    )
    assert response.status_code == 200
    attachment = response.get_json()
    assert attachment["type"] != "image", attachment
    served = client.get(attachment["url"].replace("http://127.0.0.1:5000", ""))
    assert served.status_code == 200
    assert served.mimetype not in ("image/png", "image/gif", "image/jpeg", "image/svg+xml", "text/html"), (
        served.mimetype
    )
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served.headers["Content-Security-Policy"]


def test_real_image_is_served_as_image(client: FlaskClient, world: World) -> None:
    response = client.post(
        "/api/v1/media",
        data={"file": (io.BytesIO(PNG_1PX), "x.bin", "application/octet-stream")},
        headers=world.alice_h,
    )
    attachment = response.get_json()
    assert attachment["type"] == "image"
    assert client.get(attachment["url"].replace("http://127.0.0.1:5000", "")).mimetype == "image/png"


@pytest.mark.parametrize("kind", sorted(DISGUISES))
def test_mascot_refuses_what_is_not_an_image(
    client: FlaskClient, world: World, unchanged: Callable[..., Any], kind: str
) -> None:
    data, name, claimed = DISGUISES[kind]
    with unchanged():
        response = client.put(
            "/api/v1/pleroma/mascot", data={"file": (io.BytesIO(data), name, claimed)}, headers=world.alice_h
        )
        assert_json_error(response, 415, "mascots can only be images")


@pytest.mark.parametrize("field", ["avatar", "header", "pleroma_background_image"])
def test_profile_images_that_are_not_images_are_refused(
    client: FlaskClient, world: World, unchanged: Callable[..., Any], field: str
) -> None:
    with unchanged():
        # broken-png starts with a PNG signature: taken as a (broken) picture and served as
        # image/png with nosniff, so not part of this list.
        for kind, (data, name, claimed) in DISGUISES.items():
            if kind == "broken-png":
                continue
            response = client.patch(
                "/api/v1/accounts/update_credentials",
                data={field: (io.BytesIO(data), name, claimed)},
                headers=world.alice_h,
            )
            assert_json_error(response, (403, 415, 422))


def test_emoji_files_that_are_not_images_are_refused(
    client: FlaskClient, app: Flask, admin_headers: dict, unchanged: Callable[..., Any]
) -> None:
    copy_fixture_pack(app, "test_pack")
    with unchanged():
        for index, (data, name, claimed) in enumerate(DISGUISES.values()):
            body = {"name": "test_pack", "shortcode": f"x{index}", "file": (io.BytesIO(data), name, claimed)}
            response = client.post("/api/v1/pleroma/emoji/packs/files", data=body, headers=admin_headers)
            assert_json_error(response, (400, 415))


# ---------------------------------------------------------------------------------------------
# Sizes


@pytest.fixture
def small(app: Flask) -> Flask:
    """Limits small enough to cross cheaply."""
    app.config.update(
        {
            "UPLOAD_LIMIT": 4096,
            "AVATAR_UPLOAD_LIMIT": 2048,
            "BANNER_UPLOAD_LIMIT": 2048,
            "BACKGROUND_UPLOAD_LIMIT": 2048,
            "MAX_CONTENT_LENGTH": 8192,
        }
    )
    return app


def test_bodies_over_max_content_length_are_413_json(
    client: FlaskClient, small: Flask, world: World, unchanged: Callable[..., Any]
) -> None:
    big = "x" * 9000
    h = world.alice_h
    with unchanged():
        calls = [
            client.post("/api/v1/statuses", json={"status": big}, headers=h),
            client.post("/api/v1/statuses", data={"status": big}, headers=h),
            client.post("/api/v1/media", data={"file": (io.BytesIO(b"x" * 9000), "x.bin")}, headers=h),
            client.patch("/api/v1/pleroma/settings/fe", json={"blob": big}, headers=h),
            client.post(
                "/api/v1/apps", data={"client_name": big, "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"}
            ),
            client.post("/oauth/token", data={"grant_type": "password", "username": big, "password": "x"}),
        ]
        for response in calls:
            assert_json_error(response, 413, "File is too large")


def test_uploads_over_their_own_limit_are_413(
    client: FlaskClient, small: Flask, world: World, unchanged: Callable[..., Any]
) -> None:
    h = world.alice_h
    blob = PNG_1PX + b"\0" * 5000  # under MAX_CONTENT_LENGTH, over UPLOAD_LIMIT and the image limits
    with unchanged():
        assert_json_error(
            client.post("/api/v1/media", data={"file": (io.BytesIO(blob), "x.png")}, headers=h),
            413,
            "File is too large",
        )
        assert_json_error(
            client.put("/api/v1/pleroma/mascot", data={"file": (io.BytesIO(blob), "x.png")}, headers=h), 413
        )
        for field in ("avatar", "header", "pleroma_background_image"):
            response = client.patch(
                "/api/v1/accounts/update_credentials",
                data={field: (io.BytesIO(blob[:3000]), "x.png")},
                headers=h,
            )
            assert_json_error(response, 413, "File is too large")


LONG = "x" * 100_000


def test_over_long_fields_are_refused(
    client: FlaskClient, app: Flask, world: World, unchanged: Callable[..., Any]
) -> None:
    """100k characters wherever a user writes text: a clear 4xx (SPEC's where it has one, 422
    otherwise), nothing stored."""
    h = world.alice_h
    copy_fixture_pack(app, "test_pack")
    status_id = world.ids["public_status"]
    cases = [
        # SPEC 3: update_credentials answers every rejected value with 403 "Invalid request".
        (client.patch, "/api/v1/accounts/update_credentials", {"display_name": LONG}, h, 403),
        (client.patch, "/api/v1/accounts/update_credentials", {"note": LONG}, h, 403),
        (
            client.patch,
            "/api/v1/accounts/update_credentials",
            {"fields_attributes": [{"name": "a", "value": LONG}]},
            h,
            403,
        ),
        (
            client.patch,
            "/api/v1/accounts/update_credentials",
            {"fields_attributes": [{"name": LONG}]},
            h,
            403,
        ),
        # SPEC 4: over-long status is 422.
        (client.post, "/api/v1/statuses", {"status": LONG}, h, 422),
        (client.post, "/api/v1/statuses", {"status": "x", "spoiler_text": LONG}, h, 422),
        (client.post, "/api/v1/pleroma/scrobble", {"title": LONG}, h, 422),
        (client.post, "/api/v1/pleroma/scrobble", {"title": "t", "artist": LONG}, h, 422),
        (client.post, "/api/v1/pleroma/bookmark_folders", {"name": LONG}, h, 422),
        (client.post, "/api/v1/reports", {"account_id": world.bob.id, "comment": LONG}, h, 422),
        (client.post, "/api/v1/media", {"file": (io.BytesIO(PNG_1PX), "x.png"), "description": LONG}, h, 422),
        (
            client.post,
            "/api/v1/apps",
            {"client_name": LONG, "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"},
            {},
            422,
        ),
        (client.post, "/api/v1/apps", {"client_name": "x", "redirect_uris": LONG}, {}, 422),
        (
            client.post,
            "/api/v1/apps",
            {"client_name": "x", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "website": LONG},
            {},
            422,
        ),
        (
            client.patch,
            "/api/v1/pleroma/emoji/pack",
            {"name": "test_pack", "metadata": {"description": LONG}},
            world.admin_h,
            422,
        ),
        (client.put, f"/api/v1/statuses/{status_id}/emoji_reactions/{'x' * 5000}", None, h, (400, 422)),
        (client.put, "/api/pleroma/aliases", {"alias": LONG}, h, (404, 422)),
        (client.patch, f"/api/v1/pleroma/settings/{'x' * 5000}", {"a": 1}, h, 422),
    ]
    with unchanged():
        for call, path, body, headers, status in cases:
            is_upload = body is not None and any(isinstance(v, tuple) for v in body.values())
            response = (
                call(path, data=body, headers=headers)
                if is_upload
                else call(path, json=body, headers=headers)
            )
            assert_json_error(response, status)
