"""Packs on disk: `<EMOJI_DIR>/<pack>/pack.json` plus the image files it lists. Read from disk on
every call (SPEC 17: the pack endpoints show the directory as it is); written atomically."""

from __future__ import annotations

import json
import logging
import os
import uuid
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import formatting
from emoji_packs.errors import BadSource
from emoji_packs.errors import PackError
from emoji_packs.errors import PackNotFound
from emoji_packs.errors import PackUnreadable
from emoji_packs.errors import ValueTooLong
from emoji_packs.names import PACK_JSON
from emoji_packs.names import _inside
from emoji_packs.names import _pack_dir
from emoji_packs.names import _regular_file
from emoji_packs.names import check_pack_name
from emoji_packs.names import emoji_dir
from emoji_packs.names import is_safe_name
from emoji_packs.names import is_safe_relative
from params import TRUTHY

log = logging.getLogger(__name__)

# Metadata a client shows as text, and the one it shows as a link.
TEXT_META_KEYS = ("license", "description")
META_VALUE_LIMIT = 5000  # characters of one metadata value
# The `pack` keys an admin may store; `can-download` / `download-sha256` are computed (SPEC 20.8).
META_KEYS = ("license", "homepage", "description", "fallback-src", "fallback-src-sha256", "share-files")
COMPUTED_KEYS = ("can-download", "download-sha256")


@dataclass
class Pack:
    name: str
    path: Path
    files: dict[str, str] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def pack_file(self) -> Path:
        return self.path / PACK_JSON

    def file_path(self, filename: str) -> Path | None:
        if not is_safe_relative(filename):
            return None
        return _inside(self.path, *filename.split("/"))


def _parse_pack_json(text: str) -> tuple[dict[str, str], dict[str, Any]]:
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("pack.json is not an object")
    files = data.get("files") if isinstance(data.get("files"), dict) else {}
    meta = data.get("pack") if isinstance(data.get("pack"), dict) else {}
    files = {k: v for k, v in files.items() if isinstance(k, str) and isinstance(v, str)}
    meta = {k: v for k, v in meta.items() if k not in COMPUTED_KEYS}
    return files, meta


def load_pack(raw_name: Any) -> Pack:
    name = check_pack_name(raw_name)
    path = _pack_dir(name)
    if path is None or not _regular_file(path / PACK_JSON):
        raise PackNotFound(name)
    try:
        files, meta = _parse_pack_json((path / PACK_JSON).read_text(encoding="utf-8"))
    except OSError as error:
        raise PackUnreadable(name, f"({error.strerror})") from error
    except ValueError as error:
        raise PackUnreadable(name, str(error)) from error
    return Pack(name, path, files, meta)


def save_pack(pack: Pack) -> None:
    """Write pack.json atomically: a temporary sibling, then os.replace."""
    document = {"files": pack.files, "pack": pack.meta}
    _write_atomic(pack.pack_file, json.dumps(document, indent=4, ensure_ascii=False) + "\n")


def _write_atomic(path: Path, text: str) -> None:
    part = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
    try:
        part.write_text(text, encoding="utf-8")
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)


def pack_names() -> list[str]:
    """Sorted names of the packs: safe-named real directories holding a pack.json."""
    root = emoji_dir()
    root.mkdir(parents=True, exist_ok=True)
    names = []
    with os.scandir(root) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False) and is_safe_name(entry.name):
                if _regular_file(Path(entry.path) / PACK_JSON):
                    names.append(entry.name)
    return sorted(names)


def page_of(items: list, page: int, page_size: int) -> list:
    start = (page - 1) * page_size
    return items[start : start + page_size]


def list_packs(page: int, page_size: int) -> tuple[int, list[Pack]]:
    """(total number of packs, the readable packs of the requested page)."""
    names = pack_names()
    packs = []
    for name in page_of(names, page, page_size):
        try:
            packs.append(load_pack(name))
        except PackError as error:
            log.warning("skipping emoji pack %s: %s", name, error)
    return len(names), packs


def is_downloadable(pack: Pack) -> bool:
    """Shared and complete: `share-files` is true and every listed file is on disk."""
    if pack.meta.get("share-files") is not True:
        return False
    return all(_regular_file(pack.file_path(f)) for f in pack.files.values())


def clean_metadata(metadata: dict) -> dict[str, Any]:
    """The storable part of a `metadata` param: known keys, share-files as a boolean."""
    clean: dict[str, Any] = {}
    for key in META_KEYS:
        if key not in metadata or metadata[key] is None:
            continue
        value = metadata[key]
        if key == "share-files":
            clean[key] = (
                value if isinstance(value, bool) else isinstance(value, (str, int)) and value in TRUTHY
            )
        elif len(str(value)) > META_VALUE_LIMIT:
            raise ValueTooLong(key, META_VALUE_LIMIT)
        elif key in TEXT_META_KEYS:
            clean[key] = formatting.strip_tags(str(value))
        else:
            clean[key] = str(value)
    # A homepage becomes a link in admin front-ends: only a web address (or nothing).
    homepage = clean.get("homepage", "").strip()
    if homepage and urlsplit(homepage).scheme.lower() not in ("http", "https"):
        raise BadSource("homepage")
    return clean
