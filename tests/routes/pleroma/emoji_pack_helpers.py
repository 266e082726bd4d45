"""Helpers shared by the emoji pack test modules: paths, archives made in memory, folder trees."""

from __future__ import annotations

import io
import json
import stat
import zipfile
from pathlib import Path

from tests.emoji_fixtures import BLANK_PNG

P = "/api/v1/pleroma/emoji"
PACKS = ("blobs.gg", "pack_bad_sha", "test_pack", "test_pack_nonshared")
NOT_DOWNLOADABLE = (
    "Pack {} cannot be downloaded from this instance, either pack sharing was disabled for this pack "
    "or some files are missing"
)


def pack_json(emoji_dir: Path, name: str) -> dict:
    return json.loads((emoji_dir / name / "pack.json").read_text())


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name), data)
    return buffer.getvalue()


def upload(data: bytes, filename: str, content_type: str = "application/octet-stream") -> tuple:
    return (io.BytesIO(data), filename, content_type)


def tree(root: Path) -> set[str]:
    """Every path under root except the instance folder (database, caches) and live servers."""
    found = set()
    for path in root.rglob("*"):
        rel = path.relative_to(root).as_posix()
        if not rel.startswith(("instance", "live-")):
            found.add(rel)
    return found


def _symlink_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("ok.png", BLANK_PNG)
        link = zipfile.ZipInfo("link.png")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    return buffer.getvalue()


def _bomb_zip(size: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bomb.png", b"\0" * size)
    return buffer.getvalue()


def hostile_zips(tmp_path: Path) -> dict[str, bytes]:
    return {
        "dotdot": zip_bytes({"ok.png": BLANK_PNG, "../../escaped.png": BLANK_PNG}),
        "absolute": zip_bytes({"ok.png": BLANK_PNG, str(tmp_path / "escaped.png"): BLANK_PNG}),
        "symlink": _symlink_zip(),
        "bomb": _bomb_zip(4 * 1024 * 1024),
    }
