"""GET /api/v1/custom_emojis (SPEC 9): every pack emoji, Mastodon shape, no auth."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import copy_fixture_pack


def test_custom_emojis_empty_without_packs(client):
    response = client.get("/api/v1/custom_emojis")
    assert (response.status_code, response.get_json()) == (200, [])


def test_custom_emojis_lists_every_emoji_with_category(client, app):
    copy_fixture_pack(app, "test_pack")
    copy_fixture_pack(app, "blobs.gg")
    body = client.get("/api/v1/custom_emojis/").get_json()
    assert [e["shortcode"] for e in body] == ["blank", "blank2"]  # sorted; the first pack wins a clash
    assert body[1] == {
        "shortcode": "blank2",
        "url": "http://127.0.0.1:5000/emoji/test_pack/blank2.png",
        "static_url": "http://127.0.0.1:5000/emoji/test_pack/blank2.png",
        "visible_in_picker": True,
        "tags": ["pack:test_pack"],
        "category": "pack:test_pack",
    }
    assert body[0]["category"] == "pack:blobs.gg"


def test_custom_emojis_ignores_folders_without_pack_json_and_unsafe_entries(client, app):
    folder = copy_fixture_pack(app, "test_pack")
    copy_fixture_pack(app, "test_pack_for_import")  # no pack.json: not loaded until imported
    data = json.loads((folder / "pack.json").read_text())
    data["files"]["evil"] = "../../etc/passwd"
    (folder / "pack.json").write_text(json.dumps(data))
    assert [e["shortcode"] for e in client.get("/api/v1/custom_emojis").get_json()] == ["blank", "blank2"]


def test_custom_emojis_follows_changes_on_disk(client, app):
    assert client.get("/api/v1/custom_emojis").get_json() == []
    folder = copy_fixture_pack(app, "test_pack")
    assert len(client.get("/api/v1/custom_emojis").get_json()) == 2
    (folder / "pack.json").write_text(json.dumps({"files": {"only": "blank.png"}, "pack": {}}))
    assert [e["shortcode"] for e in client.get("/api/v1/custom_emojis").get_json()] == ["only"]
    Path(folder / "pack.json").unlink()
    assert client.get("/api/v1/custom_emojis").get_json() == []
