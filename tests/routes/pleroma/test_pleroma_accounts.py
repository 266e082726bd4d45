from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from PIL import Image

from models import Account
from models import db
from services.media import media_root

VERIFY = "/api/v1/accounts/verify_credentials"
BASE = "http://127.0.0.1:5000"


def _png_bytes(size: int = 4) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), "blue").save(buffer, "PNG")
    return buffer.getvalue()


def _file(content: bytes, name: str = "pic.png") -> tuple[io.BytesIO, str]:
    return io.BytesIO(content), name


def _stored(url: str) -> Path:
    return media_root() / url.removeprefix(f"{BASE}/media/")


# ---------------------------------------------------------------------------------------------
# update_avatar / update_banner / update_background


@pytest.mark.parametrize(
    ("path", "param", "column", "shown"),
    [
        ("/api/v1/pleroma/accounts/update_avatar", "img", "avatar", ("avatar", "avatar_static")),
        ("/api/pleroma/accounts/update_banner", "banner", "header", ("header", "header_static")),
        ("/api/v1/pleroma/accounts/update_background", "img", "background", ()),
    ],
)
def test_update_image_sets_and_clears(client, account, auth_headers, path, param, column, shown):
    headers = auth_headers(account)
    response = client.patch(path, headers=headers, data={param: _file(_png_bytes())})
    assert response.status_code == 200
    url = response.get_json()["url"]
    assert url.startswith(f"{BASE}/media/") and url.endswith("pic.png")
    assert _stored(url).read_bytes() == _png_bytes()
    me = client.get(VERIFY, headers=headers).get_json()
    for key in shown:
        assert me[key] == url
    if column == "background":
        assert me["pleroma"]["background_image"] == url
    assert client.get(url.removeprefix(BASE)).status_code == 200

    cleared = client.patch(path, headers=headers, data={param: ""})
    assert cleared.status_code == 200
    assert cleared.get_json() == {"url": None}
    assert getattr(db.session.get(Account, account.id), column) is None
    assert not _stored(url).exists()  # the replaced file goes away
    me = client.get(VERIFY, headers=headers).get_json()
    if column == "avatar":
        assert me["avatar"] == f"{BASE}/images/avi.png"
    if column == "background":
        assert me["pleroma"]["background_image"] is None


def test_update_avatar_accepts_a_data_url_and_replaces_the_old_file(client, account, auth_headers):
    headers = auth_headers(account)
    first = client.patch(
        "/api/pleroma/accounts/update_avatar", headers=headers, data={"img": _file(_png_bytes())}
    )
    data_url = "data:image/png;base64," + base64.b64encode(_png_bytes(8)).decode()
    second = client.patch("/api/pleroma/accounts/update_avatar", headers=headers, json={"img": data_url})
    assert second.status_code == 200
    url = second.get_json()["url"]
    assert _stored(url).read_bytes() == _png_bytes(8)
    assert not _stored(first.get_json()["url"]).exists()
    assert client.get(VERIFY, headers=headers).get_json()["avatar"] == url


@pytest.mark.parametrize(
    "value", ["data:image/png;base64,%%%not-base64", "http://example.org/a.png", "data:text/html,hi"]
)
def test_update_avatar_rejects_bad_data_urls(client, account, auth_headers, value):
    response = client.patch(
        "/api/pleroma/accounts/update_avatar", headers=auth_headers(account), json={"img": value}
    )
    assert response.status_code == 400
    assert response.get_json() == {"error": "img - Invalid image."}


def test_update_image_errors(client, app, account, auth_headers):
    headers = auth_headers(account)
    missing = client.patch("/api/pleroma/accounts/update_banner", headers=headers, data={"img": ""})
    assert missing.status_code == 400
    assert missing.get_json() == {"error": "Missing field: banner."}
    not_image = client.patch(
        "/api/pleroma/accounts/update_avatar",
        headers=headers,
        data={"img": _file(b"%PDF-1.4 not an image", "a.pdf")},
    )
    assert not_image.status_code == 415
    assert not_image.get_json() == {"error": "File is not an image"}
    app.config["AVATAR_UPLOAD_LIMIT"] = 100
    too_large = client.patch(
        "/api/pleroma/accounts/update_avatar", headers=headers, data={"img": _file(_png_bytes(64))}
    )
    assert too_large.status_code == 413
    assert too_large.get_json() == {"error": "File is too large"}
    assert db.session.get(Account, account.id).avatar is None
    assert not [p for p in media_root().rglob("*") if p.is_file()]


def test_update_image_requires_write_accounts(client, account, auth_headers):
    path = "/api/pleroma/accounts/update_avatar"
    anonymous = client.patch(path, data={"img": ""})
    assert anonymous.status_code == 403
    assert anonymous.get_json() == {"error": "Invalid credentials."}
    wrong = client.patch(path, headers=auth_headers(account, "read write:statuses"), data={"img": ""})
    assert wrong.status_code == 403
    assert wrong.get_json() == {"error": "Insufficient permissions: write:accounts."}


# ---------------------------------------------------------------------------------------------
# confirmation_resend


@pytest.mark.parametrize(
    ("prefix", "data"),
    [
        ("/api/v1/pleroma", {"email": "alice@example.org"}),
        ("/api/pleroma", {"nickname": "alice"}),
        ("/api/v1/pleroma", {"email": "nobody@example.org"}),
        ("/api/pleroma", {}),
    ],
)
def test_confirmation_resend_is_always_204(client, account, prefix, data):
    response = client.post(f"{prefix}/accounts/confirmation_resend", data=data)
    assert response.status_code == 204
    assert response.get_data() == b""
