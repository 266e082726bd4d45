from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image

from app import create_app
from models import Media
from models import db
from tests.conftest import BASE_URL
from tests.conftest import basic_headers


def png_bytes(width: int = 4, height: int = 3) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 10, 10)).save(out, format="PNG")
    return out.getvalue()


def upload(
    client,
    headers,
    content: bytes | None = None,
    filename: str = "cat.png",
    path: str = "/api/v1/media",
    **fields,
):
    data = dict(fields)
    data["file"] = (io.BytesIO(png_bytes() if content is None else content), filename)
    return client.post(path, data=data, headers=headers, content_type="multipart/form-data")


def media_dir(app: Flask) -> Path:
    return Path(app.instance_path) / "media"


def stored_files(app: Flask) -> list[Path]:
    return [p for p in media_dir(app).rglob("*") if p.is_file()] if media_dir(app).exists() else []


# --- POST /api/v1/media, /api/v2/media --------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/media", "/api/v2/media", "/api/v1/media/"])
def test_upload_media_returns_attachment(app, client, account, auth_headers, path):
    response = upload(client, auth_headers(account), path=path, description="a cat")

    assert response.status_code == 200
    body = response.get_json()
    assert body["type"] == "image"
    assert body["description"] == "a cat"
    assert body["pleroma"] == {"mime_type": "image/png"}
    assert body["url"] == f"{BASE_URL}/media/{body['id']}/cat.png"
    assert body["preview_url"] == body["url"]
    assert body["blurhash"] is None
    original = body["meta"]["original"]
    assert (original["width"], original["height"]) == (4, 3)
    assert original["aspect"] == pytest.approx(4 / 3)
    assert body["meta"]["small"]["width"] == 4
    assert (media_dir(app) / body["id"] / "cat.png").read_bytes() == png_bytes()
    media = db.session.get(Media, body["id"])
    assert media.account_id == account.id and media.status_id is None


def test_upload_media_with_basic_auth(client, account):
    response = upload(client, basic_headers("alice"))
    assert response.status_code == 200


def test_upload_media_without_auth(client):
    response = upload(client, {})
    assert response.status_code == 403
    assert response.get_json() == {"error": "Invalid credentials."}


def test_upload_media_wrong_scope(app, client, account, auth_headers):
    response = upload(client, auth_headers(account, "read"))
    assert response.status_code == 403
    assert response.get_json() == {"error": "Insufficient permissions: write:media."}
    assert stored_files(app) == []


def test_upload_media_granular_scope(client, account, auth_headers):
    assert upload(client, auth_headers(account, "write:media")).status_code == 200


def test_upload_media_missing_file(client, account, auth_headers):
    response = client.post("/api/v1/media", data={"description": "x"}, headers=auth_headers(account))
    assert response.status_code == 400
    assert response.get_json() == {"error": "Missing field: file."}


def test_upload_media_file_as_plain_field(client, account, auth_headers):
    response = client.post("/api/v1/media", data={"file": "not a file"}, headers=auth_headers(account))
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("file - ")


@pytest.mark.parametrize("focus", ["2,0", "0.5", "a,b", "0,-1.5"])
def test_upload_media_bad_focus(app, client, account, auth_headers, focus):
    response = upload(client, auth_headers(account), focus=focus)
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("focus - ")
    assert stored_files(app) == []


def test_upload_media_focus(client, account, auth_headers):
    response = upload(client, auth_headers(account), focus="0.5,-0.25")
    assert response.status_code == 200
    assert response.get_json()["meta"]["focus"] == {"x": 0.5, "y": -0.25}


def test_upload_media_description_too_long(client, account, auth_headers):
    response = upload(client, auth_headers(account), description="x" * 5001)
    assert response.status_code == 422  # over-long fields are 422 (params.Length)
    assert response.get_json()["error"].startswith("description - ")


def test_upload_media_sniffs_type_from_bytes(client, account, auth_headers):
    response = client.post(
        "/api/v1/media",
        data={"file": (io.BytesIO(png_bytes()), "cat.txt", "text/plain")},
        headers=auth_headers(account),
    )
    body = response.get_json()
    assert body["type"] == "image"
    assert body["pleroma"]["mime_type"] == "image/png"


def test_upload_media_unconfirmed_image_claim_is_opaque(client, account, auth_headers):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    response = client.post(
        "/api/v1/media",
        data={"file": (io.BytesIO(svg), "x.svg", "image/svg+xml")},
        headers=auth_headers(account),
    )
    body = response.get_json()
    assert body["type"] == "unknown"
    assert body["pleroma"]["mime_type"] == "application/octet-stream"
    assert body["meta"] == {}


def test_upload_media_keeps_client_type_for_non_images(client, account, auth_headers):
    response = client.post(
        "/api/v1/media",
        data={"file": (io.BytesIO(b"hello"), "note.txt", "text/plain")},
        headers=auth_headers(account),
    )
    body = response.get_json()
    assert body["type"] == "unknown"
    assert body["pleroma"]["mime_type"] == "text/plain"


def test_upload_media_corrupt_image_has_no_dimensions(client, account, auth_headers):
    response = upload(client, auth_headers(account), content=png_bytes()[:40])
    assert response.status_code == 200
    body = response.get_json()
    assert body["pleroma"]["mime_type"] == "image/png"
    assert body["meta"] == {}


@pytest.mark.parametrize(
    "filename,stored",
    [("../../etc/passwd.png", "etc_passwd.png"), ("..", "file"), ("ça va.png", "ca_va.png")],
)
def test_upload_media_sanitises_filename(app, client, account, auth_headers, filename, stored):
    response = upload(client, auth_headers(account), filename=filename)
    body = response.get_json()
    assert body["url"] == f"{BASE_URL}/media/{body['id']}/{stored}"
    assert (media_dir(app) / body["id"] / stored).is_file()


def test_upload_media_removes_file_when_commit_fails(app, client, account, auth_headers, monkeypatch):
    headers = auth_headers(account)

    def broken_commit() -> None:
        raise RuntimeError("database is gone")

    monkeypatch.setattr(db.session, "commit", broken_commit)
    response = upload(client, headers)
    monkeypatch.undo()

    assert response.status_code == 500
    assert stored_files(app) == []
    assert [p for p in media_dir(app).iterdir()] == []


# --- size limit ---------------------------------------------------------------------------------


@pytest.fixture
def small_app(tmp_path: Path) -> Iterator[Flask]:
    """An instance whose UPLOAD_LIMIT is 1000 bytes."""
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "small"),
            "BASE_URL": BASE_URL,
            "JOBS_IMMEDIATE": True,
            "RATELIMIT_ENABLED": False,
            "UPLOAD_LIMIT": 1000,
        }
    )
    with app.app_context():
        from services.accounts import create_local_account

        db.create_all()
        create_local_account("carol", "secret-pw", email="carol@example.org")
        yield app
        db.session.remove()
        db.engine.dispose()


def test_upload_media_too_large(small_app):
    client = small_app.test_client()

    response = upload(client, basic_headers("carol"), content=b"\x00" * 1001, filename="big.bin")

    assert response.status_code == 413
    assert response.get_json() == {"error": "File is too large"}
    assert stored_files(small_app) == []
    assert db.session.query(Media).count() == 0


def test_upload_media_at_the_limit(small_app):
    client = small_app.test_client()
    response = upload(client, basic_headers("carol"), content=b"\x00" * 1000, filename="ok.bin")
    assert response.status_code == 200


def test_upload_media_beyond_request_limit(small_app):
    """Bodies far past the limit are cut off by the request size cap, with the same answer."""
    client = small_app.test_client()
    response = upload(
        client, basic_headers("carol"), content=b"\x00" * (2 * 1024 * 1024), filename="huge.bin"
    )
    assert response.status_code == 413
    assert response.get_json() == {"error": "File is too large"}
    assert stored_files(small_app) == []


def test_instance_reports_the_configured_upload_limit(small_app):
    body = small_app.test_client().get("/api/v1/instance").get_json()
    assert body["upload_limit"] == 1000


# --- GET / PUT /api/v1/media/:id ---------------------------------------------------------------


@pytest.fixture
def uploaded(client, account, auth_headers) -> dict:
    response = upload(client, auth_headers(account), description="first")
    assert response.status_code == 200
    return response.get_json()


def test_get_media(client, account, auth_headers, uploaded):
    response = client.get(f"/api/v1/media/{uploaded['id']}", headers=auth_headers(account, "read"))
    assert response.status_code == 200
    assert response.get_json() == uploaded


def test_get_media_with_write_media_scope(client, account, auth_headers, uploaded):
    response = client.get(f"/api/v1/media/{uploaded['id']}", headers=auth_headers(account, "write:media"))
    assert response.status_code == 200


def test_get_media_wrong_scope(client, account, auth_headers, uploaded):
    response = client.get(f"/api/v1/media/{uploaded['id']}", headers=auth_headers(account, "read:statuses"))
    assert response.status_code == 403
    assert response.get_json() == {"error": "Insufficient permissions: read:media | write:media."}


def test_get_media_without_auth(client, uploaded):
    response = client.get(f"/api/v1/media/{uploaded['id']}")
    assert response.status_code == 403
    assert response.get_json() == {"error": "Invalid credentials."}


def test_get_media_of_someone_else_is_404(client, make_account, auth_headers, uploaded):
    bob = make_account("bob")
    response = client.get(f"/api/v1/media/{uploaded['id']}", headers=auth_headers(bob))
    assert response.status_code == 404
    assert response.get_json() == {"error": "Record not found"}


def test_get_media_unknown_is_404(client, account, auth_headers):
    response = client.get("/api/v1/media/000000000000000000", headers=auth_headers(account))
    assert response.status_code == 404
    assert response.get_json() == {"error": "Record not found"}


def test_update_media(client, account, auth_headers, uploaded):
    response = client.put(
        f"/api/v1/media/{uploaded['id']}",
        json={"description": "a red square", "focus": "-1,1"},
        headers=auth_headers(account, "write:media"),
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["description"] == "a red square"
    assert body["meta"]["focus"] == {"x": -1.0, "y": 1.0}
    assert body["meta"]["original"]["width"] == 4


def test_update_media_form_keeps_unsent_fields(client, account, auth_headers, uploaded):
    headers = auth_headers(account)
    client.put(f"/api/v1/media/{uploaded['id']}", data={"focus": "0,0.5"}, headers=headers)
    body = client.put(
        f"/api/v1/media/{uploaded['id']}", data={"description": "new"}, headers=headers
    ).get_json()
    assert body["description"] == "new"
    assert body["meta"]["focus"] == {"x": 0.0, "y": 0.5}
    body = client.put(f"/api/v1/media/{uploaded['id']}", data={"focus": ""}, headers=headers).get_json()
    assert "focus" not in body["meta"]


def test_update_media_bad_focus(client, account, auth_headers, uploaded):
    response = client.put(
        f"/api/v1/media/{uploaded['id']}", data={"focus": "1,2"}, headers=auth_headers(account)
    )
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("focus - ")


def test_update_media_of_someone_else_is_404(client, make_account, auth_headers, uploaded):
    bob = make_account("bob")
    response = client.put(
        f"/api/v1/media/{uploaded['id']}", data={"description": "mine"}, headers=auth_headers(bob)
    )
    assert response.status_code == 404
    assert response.get_json() == {"error": "Record not found"}
    assert db.session.get(Media, uploaded["id"]).description == "first"


def test_update_media_wrong_scope(client, account, auth_headers, uploaded):
    response = client.put(
        f"/api/v1/media/{uploaded['id']}", data={"description": "x"}, headers=auth_headers(account, "read")
    )
    assert response.status_code == 403
    assert response.get_json() == {"error": "Insufficient permissions: write:media."}


def test_update_media_without_auth(client, uploaded):
    response = client.put(f"/api/v1/media/{uploaded['id']}", data={"description": "x"})
    assert response.status_code == 403


# --- GET /media/<flake>/<name> -------------------------------------------------------------------


def test_media_file_is_served_with_etag(client, uploaded):
    path = uploaded["url"].removeprefix(BASE_URL)

    response = client.get(path)

    assert response.status_code == 200
    assert response.data == png_bytes()
    assert response.mimetype == "image/png"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    etag = response.headers["ETag"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304


@pytest.mark.parametrize("path", ["/media/nope/cat.png", "/media/../kenoma.db", "/media/%2e%2e/kenoma.db"])
def test_media_file_unknown_or_outside_is_json_404(client, uploaded, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.mimetype == "application/json"


def test_upload_media_ignores_a_part_with_a_malformed_name(client, account, auth_headers):
    """Found by the fuzzing: `name="\\"` leaves werkzeug a part without a name (500)."""
    boundary = "kenoma"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="\\"\r\n\r\n{{}}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="cat.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + png_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = client.post(
        "/api/v1/media",
        data=body,
        headers={**auth_headers(account), "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["type"] == "image"
