"""emoji_packs: names and paths, the mtime-keyed emoji set, archives, zip member checks, and
the emoji lists of statuses and accounts."""

from __future__ import annotations

import io
import json
import shutil
import stat
import zipfile
from pathlib import Path

import pytest

import emoji_packs
import serializers
from emoji_packs import archives as pack_archives
from emoji_packs import loaded as pack_loaded
from services.statuses import NewStatus
from services.statuses import post_status
from tests.conftest import copy_fixture_pack


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("blobs", "blobs"), (" blobs.gg ", "blobs.gg"), ("a-b_c.1", "a-b_c.1")],
)
def test_check_pack_name_accepts_safe_names(raw, expected):
    assert emoji_packs.check_pack_name(raw) == expected


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("", emoji_packs.EmptyName),
        ("  ", emoji_packs.EmptyName),
        (None, emoji_packs.EmptyName),
        ("..", emoji_packs.InvalidName),
        (".", emoji_packs.InvalidName),
        (".hidden", emoji_packs.InvalidName),
        ("a/b", emoji_packs.InvalidName),
        ("a\\b", emoji_packs.InvalidName),
        ("blob cat", emoji_packs.InvalidName),
        ("ünï", emoji_packs.InvalidName),
    ],
)
def test_check_pack_name_refuses_others(raw, error):
    with pytest.raises(error):
        emoji_packs.check_pack_name(raw)


@pytest.mark.parametrize(
    ("path", "safe"),
    [
        ("blank.png", True),
        ("fox/blobfox.png", True),
        ("../x.png", False),
        ("a/../x.png", False),
        ("/etc/passwd", False),
        ("a//b.png", False),
        ("a\\b.png", False),
        ("", False),
        (None, False),
        ("./x.png", False),
    ],
)
def test_is_safe_relative(path, safe):
    assert emoji_packs.is_safe_relative(path) is safe


def test_emoji_set_is_read_once_until_a_pack_json_changes(app, monkeypatch):
    folder = copy_fixture_pack(app, "test_pack")
    loads = []
    real = pack_loaded._load_emoji
    monkeypatch.setattr(pack_loaded, "_load_emoji", lambda key: loads.append(key) or real(key))
    assert set(emoji_packs.loaded_emoji()) == {"blank", "blank2"}
    assert set(emoji_packs.loaded_emoji()) == {"blank", "blank2"}
    assert len(loads) == 1
    data = json.loads((folder / "pack.json").read_text())
    data["files"]["blank3"] = "blank.png"
    (folder / "pack.json").write_text(json.dumps(data))
    assert "blank3" in emoji_packs.loaded_emoji()
    assert len(loads) == 2


def test_emoji_set_is_checked_once_per_request(app, monkeypatch):
    copy_fixture_pack(app, "test_pack")
    scans = []
    real = pack_loaded._emoji_key
    monkeypatch.setattr(pack_loaded, "_emoji_key", lambda: scans.append(1) or real())
    with app.test_request_context("/"):
        for _ in range(20):
            emoji_packs.emoji_by_shortcode(["blank"])
    assert len(scans) == 1


def test_pack_folders_are_listed_again_when_the_emoji_folder_changes(app, monkeypatch):
    """The folder listing is kept while the folder's stat is unchanged (here kept at once: no
    racy window); a pack added or removed on disk changes it."""
    monkeypatch.setattr(pack_loaded, "_RACY_NS", -(10**12))
    copy_fixture_pack(app, "test_pack")
    root = app.config["EMOJI_DIR"]
    names = pack_loaded._pack_names(root)
    assert names == ["test_pack"]
    assert pack_loaded._pack_names(root) is names  # kept, not listed again
    copy_fixture_pack(app, "blobs.gg")
    assert pack_loaded._pack_names(root) == ["blobs.gg", "test_pack"]
    assert "blank" in emoji_packs.loaded_emoji()
    shutil.rmtree(Path(root) / "blobs.gg")
    shutil.rmtree(Path(root) / "test_pack")
    assert emoji_packs.loaded_emoji() == {}


def test_pack_folder_listing_just_after_a_change_is_not_kept(app):
    """Within the racy window a second change could leave the folder's stat as it was."""
    copy_fixture_pack(app, "test_pack")
    root = app.config["EMOJI_DIR"]
    assert pack_loaded._pack_names(root) == ["test_pack"]
    assert app.extensions["kenoma_emoji"].pack_listing is None


def test_emoji_by_shortcode_returns_entities_of_known_shortcodes(app):
    copy_fixture_pack(app, "test_pack")
    found = emoji_packs.emoji_by_shortcode(["blank2", "nope", "blank2"])
    assert found == {
        "blank2": {
            "shortcode": "blank2",
            "url": "http://127.0.0.1:5000/emoji/test_pack/blank2.png",
            "static_url": "http://127.0.0.1:5000/emoji/test_pack/blank2.png",
            "visible_in_picker": True,
        }
    }


def test_save_pack_is_atomic_and_leaves_no_temporary_file(app):
    folder = copy_fixture_pack(app, "test_pack")
    pack = emoji_packs.load_pack("test_pack")
    pack.files["x"] = "blank.png"
    emoji_packs.save_pack(pack)
    assert sorted(p.name for p in folder.iterdir()) == ["blank.png", "blank2.png", "pack.json"]
    assert emoji_packs.load_pack("test_pack").files["x"] == "blank.png"


def test_archive_is_deterministic_and_cached_on_disk(app):
    copy_fixture_pack(app, "test_pack")
    pack = emoji_packs.load_pack("test_pack")
    first = emoji_packs.archive(pack)
    assert first.path.read_bytes()[:4] == b"PK\x03\x04"
    # Forget every cache: a rebuild from the same files gives the same bytes (and sha256).
    app.extensions.pop("kenoma_emoji")
    shutil.rmtree(Path(app.instance_path) / "emoji_archives")
    again = emoji_packs.archive(pack)
    assert again.sha256 == first.sha256


def test_archive_cache_survives_a_restart(app, monkeypatch):
    copy_fixture_pack(app, "test_pack")
    pack = emoji_packs.load_pack("test_pack")
    first = emoji_packs.archive(pack)
    app.extensions.pop("kenoma_emoji")  # a new process: memory cache gone, disk cache kept
    monkeypatch.setattr(pack_archives, "_build_archive", lambda *a: pytest.fail("rebuilt"))
    assert emoji_packs.archive(pack) == first


def _zip(entries: list[zipfile.ZipInfo | tuple[str, bytes]]) -> zipfile.ZipFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for entry in entries:
            if isinstance(entry, zipfile.ZipInfo):
                archive.writestr(entry, b"target")
            else:
                archive.writestr(entry[0], entry[1])
    return zipfile.ZipFile(io.BytesIO(buffer.getvalue()))


def _link(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


@pytest.mark.parametrize(
    ("entries", "error"),
    [
        ([("../x.png", b"x")], emoji_packs.UnsafeArchive),
        ([("a/../../x.png", b"x")], emoji_packs.UnsafeArchive),
        ([("/tmp/x.png", b"x")], emoji_packs.UnsafeArchive),
        ([("C:/x.png", b"x")], emoji_packs.UnsafeArchive),
        ([("..\\x.png", b"x")], emoji_packs.UnsafeArchive),
        ([_link("x.png")], emoji_packs.UnsafeArchive),
        ([("x y.png", b"x")], emoji_packs.UnsafeArchive),
        ([("big.png", b"\0" * 2048)], emoji_packs.ArchiveTooLarge),
        ([(f"f{i}.png", b"") for i in range(11)], emoji_packs.ArchiveTooLarge),
    ],
)
def test_checked_members_refuses_hostile_archives(app, entries, error):
    app.config["EMOJI_ARCHIVE_MAX_UNPACKED"] = 1024
    app.config["EMOJI_ARCHIVE_MAX_MEMBERS"] = 10
    with pytest.raises(error):
        emoji_packs.checked_members(_zip(entries))


def test_checked_members_accepts_a_normal_pack(app):
    archive = _zip([("pack.json", b"{}"), ("fox/", b""), ("fox/blobfox.png", b"x"), ("blank.png", b"x")])
    assert [i.filename for i in emoji_packs.checked_members(archive)] == [
        "pack.json",
        "fox/blobfox.png",
        "blank.png",
    ]


def test_extract_counts_real_bytes(app, tmp_path):
    app.config["EMOJI_ARCHIVE_MAX_UNPACKED"] = 100
    archive = _zip([("a.png", b"\0" * 80), ("b.png", b"\0" * 80)])
    with pytest.raises(emoji_packs.ArchiveTooLarge):
        emoji_packs.extract_members(archive, archive.infolist(), tmp_path)


# ---------------------------------------------------------------------------------------------
# `emojis` of statuses and accounts (serializers use emoji_by_shortcode)


def test_status_emojis_list_known_shortcodes(app, account):
    copy_fixture_pack(app, "test_pack")
    status = post_status(account, NewStatus(text="hi :blank: and :nope: and :blank2:"))
    emojis = serializers.status_json(status, None)["emojis"]
    assert [e["shortcode"] for e in emojis] == ["blank", "blank2"]
    assert emojis[0]["url"] == "http://127.0.0.1:5000/emoji/test_pack/blank.png"


def test_statuses_page_loads_the_emoji_set_once(app, account, monkeypatch):
    copy_fixture_pack(app, "test_pack")
    statuses = [post_status(account, NewStatus(text=f":blank: {i}")) for i in range(10)]
    loads = []
    real = pack_loaded._load_emoji
    monkeypatch.setattr(pack_loaded, "_load_emoji", lambda key: loads.append(key) or real(key))
    emoji_packs.reload()
    rendered = serializers.statuses_json(statuses, None)
    assert all(r["emojis"][0]["shortcode"] == "blank" for r in rendered)
    assert len(loads) == 1


def test_account_emojis_from_display_name_and_bio(app, make_account, client, auth_headers):
    copy_fixture_pack(app, "test_pack")
    bob = make_account("bob", display_name="Bob :blank:", bio="likes :blank2: and :unknown:")
    data = serializers.account_json(bob)
    assert [e["shortcode"] for e in data["emojis"]] == ["blank", "blank2"]
    response = client.get("/api/v1/accounts/verify_credentials", headers=auth_headers(bob))
    assert [e["shortcode"] for e in response.get_json()["emojis"]] == ["blank", "blank2"]


def test_account_without_shortcodes_has_empty_emojis(app, account):
    copy_fixture_pack(app, "test_pack")
    assert serializers.account_json(account)["emojis"] == []
