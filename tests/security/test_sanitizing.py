"""HTML and script in everything a user writes come back harmless: statuses in every content
type, display names, bios, profile fields, pack metadata. And update_credentials ignores the
fields a user must never set."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import pytest
from flask.testing import FlaskClient

from models import Account
from models import db
from tests.conftest import copy_fixture_pack
from tests.security.conftest import World
from tests.security.conftest import assert_json_error

PAYLOADS = (
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    "<svg onload=alert(1)>",
    '<a href="javascript:alert(1)">click</a>',
    '<a href="JaVaScRiPt:alert(1)">click</a>',
    '<a href="&#106;avascript:alert(1)">click</a>',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<p onmouseover="alert(1)">hover</p>',
    "[click](javascript:alert(1))",
    "<math><mi xlink:href=javascript:alert(1)>x</mi></math>",
    '"><script>alert(1)</script>',
    "<form action=javascript:alert(1)><input type=submit></form>",
    "<object data=javascript:alert(1)></object>",
    "<base href=javascript:alert(1)//>",
)
TAG = re.compile(r"<\s*[a-zA-Z!/?]")
BAD_TAGS = {
    "script",
    "iframe",
    "svg",
    "math",
    "object",
    "embed",
    "base",
    "form",
    "input",
    "style",
    "link",
    "meta",
}


class _Markup(HTMLParser):
    """Collects what a browser would act on: tags, attributes, URLs (entities decoded)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in BAD_TAGS:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            url = re.sub(r"[\x00-\x20]", "", value or "").lower()
            if name.startswith("on") or name == "style":
                self.problems.append(f"{tag} {name}=")
            if url.startswith(("javascript:", "vbscript:", "data:")):
                self.problems.append(f"{tag} {name}={value}")


def _clean(text: Any) -> None:
    """An HTML field: whatever markup is left is harmless (escaped text may say anything)."""
    parser = _Markup()
    parser.feed(str(text))
    parser.close()
    assert not parser.problems, (parser.problems, str(text)[:300])


def _plain(text: Any) -> None:
    """A plain-text field (display name, field name, spoiler): no markup at all survives."""
    assert not TAG.search(str(text)), str(text)[:300]


@pytest.mark.parametrize("content_type", ["text/plain", "text/markdown", "text/html", "text/bbcode"])
def test_status_content_is_sanitized_in_every_content_type(
    client: FlaskClient, world: World, content_type: str
) -> None:
    h = world.alice_h
    for payload in PAYLOADS:
        body = {"status": payload, "content_type": content_type, "spoiler_text": payload}
        response = client.post("/api/v1/statuses", json=body, headers=h)
        assert response.status_code == 200, response.get_json()
        status = response.get_json()
        shown = client.get(f"/api/v1/statuses/{status['id']}").get_json()
        for entity in (status, shown):
            _clean(entity["content"])
            _clean(entity["pleroma"]["content"].get("text/html", ""))
            _plain(entity["spoiler_text"])
            # pleroma.content["text/plain"] is the text itself, for clients that show text only.


def test_profile_text_is_sanitized(client: FlaskClient, world: World) -> None:
    h = world.alice_h
    for payload in PAYLOADS:
        body = {
            "display_name": payload[:100],
            "note": payload,
            "fields_attributes": [{"name": payload[:255], "value": payload}],
        }
        response = client.patch("/api/v1/accounts/update_credentials", json=body, headers=h)
        assert response.status_code == 200, response.get_json()
        for shown in (response.get_json(), client.get(f"/api/v1/accounts/{world.alice.id}").get_json()):
            _plain(shown["display_name"])
            _clean(shown["note"])
            for field in shown["fields"]:
                _plain(field["name"])
                _clean(field["value"])
        actor = client.get("/users/alice", headers={"Accept": "application/activity+json"}).get_json()
        _plain(actor["name"])
        _clean(actor["summary"])


def test_registration_text_is_sanitized(client: FlaskClient, oauth_app: dict) -> None:
    app_token = client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            **{k: oauth_app[k] for k in ("client_id", "client_secret")},
        },
    ).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {app_token}"}
    for index, payload in enumerate(PAYLOADS):
        body = {
            "username": f"user{index}",
            "password": "pw-123456",
            "email": f"user{index}@example.org",
            "agreement": "true",
            "fullname": payload[:100],
            "bio": payload,
        }
        response = client.post("/api/v1/accounts", json=body, headers=headers)
        assert response.status_code == 200, response.get_json()
        shown = client.get(f"/api/v1/accounts/user{index}").get_json()
        _plain(shown["display_name"])
        _clean(shown["note"])


def test_pack_metadata_is_sanitized(client: FlaskClient, app: Any, admin_headers: dict) -> None:
    copy_fixture_pack(app, "test_pack")
    for payload in PAYLOADS:
        metadata = {"description": payload, "license": payload, "homepage": "https://example.org/"}
        response = client.patch(
            "/api/v1/pleroma/emoji/pack",
            json={"name": "test_pack", "metadata": metadata},
            headers=admin_headers,
        )
        assert response.status_code == 200, response.get_json()
        _clean(response.get_json())
        _clean(client.get("/api/v1/pleroma/emoji/pack?name=test_pack").get_json()["pack"])
        _clean(client.get("/api/v1/pleroma/emoji/packs").get_json())


@pytest.mark.parametrize(
    "homepage",
    [
        "javascript:alert(1)",
        "JAVASCRIPT:alert(1)",
        " javascript:alert(1)",
        "data:text/html,<script>x</script>",
    ],
)
def test_pack_homepage_must_be_a_web_address(
    client: FlaskClient, app: Any, admin_headers: dict, unchanged: Callable[..., Any], homepage: str
) -> None:
    copy_fixture_pack(app, "test_pack")
    with unchanged():
        body = {"name": "test_pack", "metadata": {"homepage": homepage}}
        response = client.patch("/api/v1/pleroma/emoji/pack", json=body, headers=admin_headers)
        assert_json_error(response, 400, "homepage must be an http(s) URL")


def test_shortcodes_are_plain_names(
    client: FlaskClient, app: Any, admin_headers: dict, unchanged: Callable[..., Any]
) -> None:
    """A shortcode shows up in HTML (`:name:` in statuses, the emoji picker): only a plain name."""
    from tests.security.conftest import png_upload

    copy_fixture_pack(app, "test_pack")
    with unchanged():
        for shortcode in ('<img src=x onerror="alert(1)">', "a b", "x:y", "../x", "x\ny", "é", "x" * 300):
            data = {"name": "test_pack", "shortcode": shortcode, "filename": "ok.png", "file": png_upload()}
            response = client.post("/api/v1/pleroma/emoji/packs/files", data=data, headers=admin_headers)
            assert_json_error(response, 400, "Invalid shortcode")
            move = {
                "name": "test_pack",
                "shortcode": "blank",
                "new_shortcode": shortcode,
                "new_filename": "b.png",
            }
            response = client.patch("/api/v1/pleroma/emoji/packs/files", data=move, headers=admin_headers)
            assert_json_error(response, 400, "Invalid shortcode")


FORBIDDEN_FIELDS = {
    "is_admin": True,
    "is_moderator": True,
    "admin": True,
    "nickname": "root",
    "username": "root",
    "acct": "root",
    "password_hash": "x",
    "password": "new-password",
    "email": "mallory@example.org",
    "id": "AAAAAAAAAAAAAAAAAA",
    "ap_id": "https://evil.example/users/x",
    "uri": "https://evil.example/users/x",
    "url": "https://evil.example/users/x",
    "domain": "evil.example",
    "followers_count": 1_000_000,
    "following_count": 1_000_000,
    "statuses_count": 1_000_000,
    "is_active": False,
    "is_confirmed": True,
    "private_key": "x",
    "public_key": "x",
    "session_epoch": 99,
    "moved_to_id": "AAAAAAAAAAAAAAAAAA",
    "created_at": "2000-01-01T00:00:00Z",
}


@pytest.mark.parametrize("encoding", ["json", "form"])
def test_update_credentials_ignores_fields_a_user_must_not_set(
    client: FlaskClient, world: World, unchanged: Callable[..., Any], encoding: str
) -> None:
    before = {c.name: getattr(world.alice, c.name) for c in Account.__table__.columns}
    for key, value in FORBIDDEN_FIELDS.items():
        for sent in ({key: value}, {"pleroma": {key: value}}, {"source": {key: value}}):
            if encoding == "json":
                response = client.patch(
                    "/api/v1/accounts/update_credentials", json=sent, headers=world.alice_h
                )
            else:
                flat = {f"{k}[{key}]" if isinstance(v, dict) else k: str(value) for k, v in sent.items()}
                response = client.patch(
                    "/api/v1/accounts/update_credentials", data=flat, headers=world.alice_h
                )
            assert response.status_code in (200, 403), response.get_json()
    db.session.expire_all()
    alice = db.session.get(Account, world.alice.id)
    after = {c.name: getattr(alice, c.name) for c in Account.__table__.columns}
    changed = {k for k in before if before[k] != after[k] and k not in ("updated_at",)}
    assert not changed, changed
    assert client.get("/api/v1/accounts/verify_credentials", headers=world.alice_h).status_code == 200
