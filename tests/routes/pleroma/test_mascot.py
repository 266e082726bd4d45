from __future__ import annotations

import io

import pytest
from PIL import Image

BASE = "/api/v1/pleroma/mascot"


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 40, 90)).save(buffer, "PNG")
    return buffer.getvalue()


def test_get_mascot_gives_kenomas_default(client, account, auth_headers):
    response = client.get(BASE, headers=auth_headers(account, "read:accounts"))
    assert response.status_code == 200
    url = "http://127.0.0.1:5000/images/mascot.png"
    assert response.get_json() == {
        "id": "default-mascot",
        "url": url,
        "preview_url": url,
        "pleroma": {"mime_type": "image/png"},
    }
    image = client.get("/images/mascot.png")
    assert image.status_code == 200
    assert Image.open(io.BytesIO(image.data)).format == "PNG"


@pytest.mark.parametrize("prefix", ["/api/v1/pleroma", "/api/pleroma"])
def test_put_mascot_stores_the_image(client, account, auth_headers, prefix):
    headers = auth_headers(account)
    # The name and declared type lie; the bytes decide.
    upload = {"file": (io.BytesIO(_png()), "mascot.txt", "text/plain")}
    response = client.put(
        f"{prefix}/mascot", data=upload, headers=headers, content_type="multipart/form-data"
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["type"] == "image"
    assert body["pleroma"]["mime_type"] == "image/png"
    assert body["url"].startswith("http://127.0.0.1:5000/media/")
    assert client.get(body["url"].removeprefix("http://127.0.0.1:5000")).data == _png()
    assert client.get(BASE, headers=headers).get_json()["id"] == body["id"]


def test_put_mascot_refuses_what_is_not_an_image(client, account, auth_headers):
    headers = auth_headers(account)
    upload = {"file": (io.BytesIO(b"<svg onload=alert(1)></svg>"), "mascot.png", "image/png")}
    response = client.put(BASE, data=upload, headers=headers, content_type="multipart/form-data")
    assert response.status_code == 415
    assert response.get_json() == {"error": "mascots can only be images"}
    assert client.get(BASE, headers=headers).get_json()["id"] == "default-mascot"


def test_put_mascot_requires_a_file(client, account, auth_headers):
    response = client.put(BASE, data={}, headers=auth_headers(account), content_type="multipart/form-data")
    assert response.status_code == 400
    assert response.get_json() == {"error": "Missing field: file."}


def test_mascot_needs_auth_and_scope(client, account, auth_headers):
    assert client.get(BASE).get_json() == {"error": "Invalid credentials."}
    response = client.get(BASE, headers=auth_headers(account, "write"))
    assert response.get_json() == {"error": "Insufficient permissions: read:accounts."}
    upload = {"file": (io.BytesIO(_png()), "m.png", "image/png")}
    response = client.put(
        BASE, data=upload, headers=auth_headers(account, "read"), content_type="multipart/form-data"
    )
    assert response.status_code == 403
    assert response.get_json() == {"error": "Insufficient permissions: write:accounts."}
    upload = {"file": (io.BytesIO(_png()), "m.png", "image/png")}
    assert client.put(BASE, data=upload, content_type="multipart/form-data").status_code == 403
