"""The emoji test packs, in the reference implementation's on-disk format, made on first use.

Built here rather than read from anywhere outside the repository, so that a clone of Kenoma alone
passes `make test`. Each test process builds them once into its own temporary folder: a shared
pack, a pack with a wrong `download-sha256`, a non-shared pack whose `fallback-src-sha256` names a
zip archive beside it, a folder without pack.json, and a loose image to upload."""

from __future__ import annotations

import atexit
import functools
import hashlib
import io
import json
import shutil
import tempfile
import zipfile
from pathlib import Path

from PIL import Image

META = {"description": "Test description", "homepage": "https://pleroma.social", "license": "Test license"}
ZIP_TIME = (2019, 8, 15, 8, 54, 0)  # fixed member dates: the archives' sha256 never changes


def _png(size: tuple[int, int], mode: str = "RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, format="PNG")
    return out.getvalue()


BLANK_PNG = _png((1, 1))
SHORTCODE_PNG = _png((128, 128), "1")


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=ZIP_TIME), data)
    return out.getvalue()


NONSHARED_ZIP = _zip({"blank.png": BLANK_PNG, "blank2.png": BLANK_PNG})
NONSHARED_SHA = hashlib.sha256(NONSHARED_ZIP).hexdigest().upper()


def _pack(folder: Path, pack: dict, files: dict[str, str], extra: dict[str, bytes]) -> None:
    folder.mkdir(parents=True)
    (folder / "pack.json").write_text(json.dumps({"files": files, "pack": pack}, indent=4))
    for name, data in extra.items():
        (folder / name).write_bytes(data)


def _build(root: Path) -> None:
    emoji = root / "emoji"
    blank = {"blank": "blank.png"}
    _pack(emoji / "blobs.gg", META | {"share-files": True}, blank, {"blank.png": BLANK_PNG})
    _pack(
        emoji / "test_pack",
        META | {"share-files": True},
        blank | {"blank2": "blank2.png"},
        {"blank.png": BLANK_PNG, "blank2.png": BLANK_PNG},
    )
    bad_sha = META | {"can-download": True, "share-files": True, "download-sha256": "57482F30" + "A" * 56}
    archive = {"pack_bad_sha.zip": _zip({"blank.png": BLANK_PNG})}
    _pack(emoji / "pack_bad_sha", bad_sha, blank, {"blank.png": BLANK_PNG} | archive)
    nonshared = META | {
        "fallback-src": "https://nonshared-pack",
        "fallback-src-sha256": NONSHARED_SHA,
        "share-files": False,
    }
    _pack(emoji / "test_pack_nonshared", nonshared, blank, {"nonshared.zip": NONSHARED_ZIP})
    (emoji / "test_pack_for_import").mkdir()
    (emoji / "test_pack_for_import" / "blank.png").write_bytes(BLANK_PNG)
    (root / "add").mkdir()
    (root / "add" / "shortcode.png").write_bytes(SHORTCODE_PNG)


@functools.cache
def fixture_packs() -> Path:
    """The folder holding `emoji/<pack>/` and `add/`, built once per test process."""
    root = Path(tempfile.mkdtemp(prefix="kenoma-emoji-fixtures-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    _build(root)
    return root
