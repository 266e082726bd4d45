"""Staging folders: downloads and uploads are unpacked in a hidden folder and moved into place
only when complete. Each holds an flock while in use; the kernel drops it when its process
dies, so a folder nobody holds is debris of a killed server and goes at the next start-up,
while another worker's download in progress is left alone."""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from emoji_packs.names import is_safe_name

log = logging.getLogger(__name__)

STAGING_PREFIXES = (".download-", ".zip-")


@contextmanager
def _staging_dir(path: Path) -> Iterator[Path]:
    """Create `path`, hold its lock while the caller fills it, and remove whatever is left."""
    path.mkdir(parents=True)
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)  # gone already when renamed into place
        os.close(fd)


def _remove_if_abandoned(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False  # a live process is filling it
    else:
        shutil.rmtree(path, ignore_errors=True)
        return True
    finally:
        os.close(fd)


def clean_staging(emoji_root: Path, scratch_root: Path) -> list[Path]:
    """Remove the staging folders a killed process left behind (called at start-up)."""
    candidates: list[Path] = []
    for root in (scratch_root, emoji_root):
        if not root.is_dir():
            continue
        for entry in root.iterdir():
            if entry.name.startswith(STAGING_PREFIXES):
                candidates.append(entry)
            elif (
                root == emoji_root and is_safe_name(entry.name) and entry.is_dir() and not entry.is_symlink()
            ):
                candidates += [p for p in entry.iterdir() if p.name.startswith(STAGING_PREFIXES)]
    removed = [p for p in candidates if _remove_if_abandoned(p)]
    for path in removed:
        log.warning("removed staging folder left by an interrupted operation: %s", path)
    return removed
