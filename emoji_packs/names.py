"""Pack and file names, and the paths built from them.

Pack and file names are limited to `^[A-Za-z0-9_.-]+$` (per path component) and every path is
built with `safe_join`; symlinks are never followed, so nothing read, served, written or
extracted leaves the emoji folder.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

from flask import current_app
from werkzeug.security import safe_join

from emoji_packs.errors import EmptyName
from emoji_packs.errors import InvalidName

# `\Z`, not `$`: `$` also matches before a final newline. 255 is the filesystems' name limit.
SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,255}\Z")
MAX_RELATIVE_PATH = 1024  # a file path inside a pack, sub-folders included
# What `:shortcode:` in a post can name (formatting._SHORTCODE); new shortcodes must be one of these.
SHORTCODE = re.compile(r"^[A-Za-z0-9_+-]{1,128}\Z")
PACK_JSON = "pack.json"


def emoji_dir() -> Path:
    return Path(current_app.config["EMOJI_DIR"])


def is_safe_name(name: str) -> bool:
    """One path component from the safe set; hidden names are ours (staging folders)."""
    return isinstance(name, str) and bool(SAFE_NAME.match(name)) and not name.startswith(".")


def is_safe_relative(path: Any) -> bool:
    """A pack-relative file path: safe, non-hidden components separated by '/', nothing else
    (so never `.`, `..`, an absolute path, or a name the staging files could use)."""
    if not isinstance(path, str) or not path or len(path) > MAX_RELATIVE_PATH:
        return False
    return all(is_safe_name(part) for part in path.split("/"))


def check_pack_name(raw: Any) -> str:
    """The trimmed pack name, or EmptyName / InvalidName (SPEC 17, storage rules)."""
    name = raw.strip() if isinstance(raw, str) else ""
    if not name:
        raise EmptyName()
    if not is_safe_name(name):
        raise InvalidName()
    return name


def _inside(root: Path, *parts: str) -> Path | None:
    """safe_join, then refuse anything that resolves elsewhere (a symlink on the way)."""
    joined = safe_join(str(root), *parts)
    if joined is None:
        return None
    real_root = os.path.realpath(root)
    real = os.path.realpath(joined)
    if real != real_root and not real.startswith(real_root + os.sep):
        return None
    return Path(joined)


def _regular_file(path: Path | None) -> os.stat_result | None:
    if path is None:
        return None
    try:
        st = path.lstat()
    except OSError:
        return None
    return st if stat.S_ISREG(st.st_mode) else None


def _pack_dir(name: str) -> Path | None:
    """The pack's directory if it is a real directory (not a link) inside the emoji folder."""
    path = _inside(emoji_dir(), name)
    if path is None:
        return None
    try:
        return path if stat.S_ISDIR(path.lstat().st_mode) else None
    except OSError:
        return None


def emoji_file(pack: str, file: str) -> Path | None:
    """The on-disk file behind `/emoji/<pack>/<file>`, or None."""
    if not is_safe_name(pack) or not is_safe_relative(file):
        return None
    path = _inside(emoji_dir(), pack, *file.split("/"))
    return path if _regular_file(path) else None
