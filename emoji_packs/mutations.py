"""Pack mutations: create, delete, replace the metadata, import the folders put there by hand.
Each one ends with reload() so the emoji set follows (SPEC 17)."""

from __future__ import annotations

import os
import posixpath
import re
import shutil
import uuid
import zipfile
from pathlib import Path
from typing import Any

from flask import current_app

from emoji_packs.archives import _drop_archives
from emoji_packs.errors import FallbackIncomplete
from emoji_packs.errors import NotWritable
from emoji_packs.errors import PackExists
from emoji_packs.errors import PackNotFound
from emoji_packs.loaded import reload
from emoji_packs.names import PACK_JSON
from emoji_packs.names import _inside
from emoji_packs.names import _pack_dir
from emoji_packs.names import _regular_file
from emoji_packs.names import check_pack_name
from emoji_packs.names import emoji_dir
from emoji_packs.names import is_safe_name
from emoji_packs.names import is_safe_relative
from emoji_packs.remote import _download
from emoji_packs.staging import _staging_dir
from emoji_packs.store import Pack
from emoji_packs.store import clean_metadata
from emoji_packs.store import load_pack
from emoji_packs.store import save_pack

IMPORT_EXTENSIONS = (".png", ".gif")  # what import_from_filesystem picks up without emoji.txt


def create_pack(raw_name: Any) -> None:
    name = check_pack_name(raw_name)
    root = emoji_dir()
    root.mkdir(parents=True, exist_ok=True)
    path = _inside(root, name)
    assert path is not None  # a safe name cannot leave the folder
    try:
        path.mkdir()
    except FileExistsError as error:
        raise PackExists(name) from error
    try:
        save_pack(Pack(name, path))
    except OSError:
        shutil.rmtree(path, ignore_errors=True)
        raise
    reload()


def delete_pack(raw_name: Any) -> None:
    name = check_pack_name(raw_name)
    path = _pack_dir(name)
    if path is None:
        raise PackNotFound(name)
    shutil.rmtree(path)
    _drop_archives(name)
    reload()


def update_metadata(raw_name: Any, metadata: dict) -> dict[str, Any]:
    """Replace the `pack` section; a new fallback-src is fetched, checked and its sha256 stored."""
    pack = load_pack(raw_name)
    meta = clean_metadata(metadata)
    source = meta.get("fallback-src")
    if source and source != pack.meta.get("fallback-src"):
        meta["fallback-src-sha256"] = _fallback_sha256(source, pack.files)
    pack.meta = meta
    save_pack(pack)
    reload()
    return meta


def _fallback_sha256(url: str, files: dict[str, str]) -> str:
    with _staging_dir(_scratch_root() / f".download-{uuid.uuid4().hex}") as scratch:
        target = scratch / "fallback.zip"
        sha = _download(url, target)
        try:
            with zipfile.ZipFile(target) as archive_file:
                names = set(archive_file.namelist())
        except (zipfile.BadZipFile, OSError) as error:
            raise FallbackIncomplete() from error
        if not set(files.values()) <= names:
            raise FallbackIncomplete()
        return sha


def _scratch_root() -> Path:
    return Path(current_app.instance_path) / "tmp"


# ---------------------------------------------------------------------------------------------
# Folders put in the emoji folder by hand (SPEC 17, packs/import)


def import_from_filesystem() -> list[str]:
    """Write a pack.json for every pack folder that has none (SPEC 17, packs/import)."""
    root = emoji_dir()
    root.mkdir(parents=True, exist_ok=True)
    if not os.access(root, os.R_OK | os.W_OK | os.X_OK):
        raise NotWritable()
    created = []
    for name in sorted(os.listdir(root)):
        path = root / name
        if not is_safe_name(name) or path.is_symlink() or not path.is_dir():
            continue
        if (path / PACK_JSON).exists():
            continue
        save_pack(Pack(name, path, _files_from_folder(name, path)))
        created.append(name)
    reload()
    return created


def _files_from_folder(name: str, path: Path) -> dict[str, str]:
    listing = path / "emoji.txt"
    if _regular_file(listing):
        return _files_from_emoji_txt(name, listing.read_text(encoding="utf-8", errors="replace"))
    files: dict[str, str] = {}
    for folder, dirs, names in os.walk(path):  # os.walk does not follow directory links
        dirs.sort()
        for file in sorted(names):
            full = Path(folder) / file
            rel = full.relative_to(path).as_posix()
            if full.suffix.lower() in IMPORT_EXTENSIONS and is_safe_relative(rel) and _regular_file(full):
                files.setdefault(full.stem, rel)
    return files


def _files_from_emoji_txt(name: str, text: str) -> dict[str, str]:
    """`shortcode, path[, tags…]` lines; URL-style paths of old pack managers
    (`/emoji/<pack>/x.png`, `<pack>/x.png`) keep only the file name."""
    files: dict[str, str] = {}
    for line in text.splitlines():
        fields = re.split(r",\s*", line.strip())
        if len(fields) < 2 or not fields[0]:
            continue
        shortcode, file = fields[0], fields[1]
        folder = posixpath.dirname(file)
        if folder and posixpath.basename(folder.rstrip("/")) == name:
            file = posixpath.basename(file)
        if is_safe_relative(file):
            files[shortcode] = file
    return files
