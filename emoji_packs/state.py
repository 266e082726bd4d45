"""The per-app caches of emoji_packs, one object in app.extensions["kenoma_emoji"], and the
records they hold.

Two caches, both keyed by what invalidates them:
- the loaded emoji set (shortcode -> pack file), keyed by every pack.json's stat, so an edit made
  on disk is seen at the next request without a restart (loaded.py);
- one zip archive per pack version under `<instance>/emoji_archives/<pack>/<key>.zip`, keyed by
  pack.json and the listed files' stats, built once with zipstream-ng and streamed from disk
  (archives.py).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote

from flask import current_app


@dataclass(frozen=True)
class Emoji:
    shortcode: str
    pack: str
    file: str

    @property
    def image_url(self) -> str:
        """Relative, as Pleroma's /api/v1/pleroma/emoji gives it."""
        return f"/emoji/{quote(self.pack)}/{quote(self.file)}"

    @property
    def tags(self) -> list[str]:
        return [f"pack:{self.pack}"]


@dataclass(frozen=True)
class ArchiveInfo:
    path: Path
    sha256: str  # upper-case hex, as `download-sha256` shows it


# What archives.open_downloadable_archive last found passing for a pack, and when.
class _Checked(NamedTuple):
    signature: tuple
    paths: list[str]
    stats: list[tuple[int, int, int, int]]
    info: ArchiveInfo
    at: float  # time.monotonic() of the last member check


class _State:
    """Per-app caches (app.extensions["kenoma_emoji"]); each guarded by the key that invalidates it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.emoji_key: tuple | None = None
        self.emoji: dict[str, Emoji] = {}
        # (the emoji folder's stat, its pack folders' names): loaded._pack_names
        self.pack_listing: tuple[tuple, list[str]] | None = None
        # The encoded /api/v1/pleroma/emoji answer and its ETag, for the `emoji` dict it was made of.
        self.emoji_answer: tuple[dict[str, Emoji], bytes, str] | None = None
        self.archives: dict[str, tuple[str, ArchiveInfo]] = {}
        # pack name -> (_pack_signature, member paths, _member_stats, archive) of the last check
        self.checked_archives: dict[str, _Checked] = {}


def _state() -> _State:
    # get first: setdefault would build (and drop) a _State, lock included, on every call, and
    # this runs several times per request.
    state = current_app.extensions.get("kenoma_emoji")
    if state is None:
        state = current_app.extensions.setdefault("kenoma_emoji", _State())
    return state
