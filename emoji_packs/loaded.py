"""The loaded emoji set (for /api/v1/pleroma/emoji, custom_emojis, statuses, reactions):
re-read whenever a pack.json changed, checked once per request."""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import time
from collections.abc import Iterable
from typing import Any

from flask import current_app
from flask import has_request_context
from flask import request

from emoji_packs.errors import PackError
from emoji_packs.names import PACK_JSON
from emoji_packs.names import is_safe_name
from emoji_packs.names import is_safe_relative
from emoji_packs.state import Emoji
from emoji_packs.state import _state
from emoji_packs.store import load_pack

log = logging.getLogger(__name__)

_RACY_NS = 2_000_000_000


def _pack_names(root: str) -> list[str] | None:
    """The pack folders in the emoji folder, sorted; None when it cannot be read. The listing is
    kept while the folder's own stat is unchanged (adding, removing or renaming a pack changes its
    mtime and ctime), so a request stats the folder instead of reading it. A listing made within
    two seconds of the folder's last change is not kept: a second change in the same timestamp
    tick would leave the stat as it was (git's "racy" files)."""
    try:
        st = os.stat(root)
    except OSError:
        return None
    stamp = (root, st.st_ino, st.st_dev, st.st_mtime_ns, st.st_ctime_ns)
    state = _state()
    listed = state.pack_listing
    if listed is not None and listed[0] == stamp:
        return listed[1]
    try:
        with os.scandir(root) as scan:
            names = sorted(
                entry.name
                for entry in scan
                if entry.is_dir(follow_symlinks=False) and is_safe_name(entry.name)
            )
    except OSError:
        return None
    if time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) > _RACY_NS:
        state.pack_listing = (stamp, names)
    return names


def _emoji_key() -> tuple:
    root = os.fspath(current_app.config["EMOJI_DIR"])
    names = _pack_names(root)
    if names is None:
        return ()
    key = []
    for name in names:
        try:  # plain os calls: this runs on every request that shows emoji
            st = os.lstat(os.path.join(root, name, PACK_JSON))
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode):
            key.append((name, st.st_mtime_ns, st.st_size, st.st_ino))
    return tuple(key)


def _load_emoji(key: tuple) -> dict[str, Emoji]:
    found: dict[str, Emoji] = {}
    for name, *_ in key:  # sorted by pack name; on a shortcode clash the first pack wins
        try:
            pack = load_pack(name)
        except PackError as error:
            log.warning("emoji pack %s not loaded: %s", name, error)
            continue
        for shortcode, file in pack.files.items():
            if shortcode and is_safe_relative(file):
                found.setdefault(shortcode, Emoji(shortcode, name, file))
    return found


def loaded_emoji() -> dict[str, Emoji]:
    """Every emoji of every pack, re-read whenever a pack.json changed (its stat is the key).

    Within one request the set is checked once: serialising a page asks for it per account.
    """
    memo = request.environ if has_request_context() else None
    if memo is not None and "kenoma.emoji" in memo:
        return memo["kenoma.emoji"]
    state = _state()
    key = version()
    with state.lock:
        if key != state.emoji_key:
            state.emoji = _load_emoji(key)
            state.emoji_key = key
        emoji = state.emoji
    if memo is not None:
        memo["kenoma.emoji"] = emoji
    return emoji


def version() -> tuple:
    """The stats of every pack.json, checked once per request: what names the current set."""
    memo = request.environ if has_request_context() else None
    if memo is not None and "kenoma.emoji_key" in memo:
        return memo["kenoma.emoji_key"]
    key = _emoji_key()
    if memo is not None:
        memo["kenoma.emoji_key"] = key
    return key


def reload() -> None:
    """After a mutation: forget the set so the next lookup re-reads every pack.json."""
    state = _state()
    with state.lock:
        state.emoji_key = None
        state.pack_listing = None
    if has_request_context():
        request.environ.pop("kenoma.emoji", None)
        request.environ.pop("kenoma.emoji_key", None)


def has_shortcode(shortcode: str) -> bool:
    return shortcode in loaded_emoji()


def emoji_json(emoji: Emoji, with_category: bool = False) -> dict:
    """SPEC 20.7; `tags` and `category` only for /api/v1/custom_emojis."""
    url = current_app.config["BASE_URL"] + emoji.image_url
    data: dict[str, Any] = {
        "shortcode": emoji.shortcode,
        "url": url,
        "static_url": url,
        "visible_in_picker": True,
    }
    if with_category:
        data["tags"] = emoji.tags
        data["category"] = ",".join(t for t in emoji.tags if t != "Custom")
    return data


def emoji_by_shortcode(shortcodes: Iterable[str]) -> dict[str, dict]:
    """The SPEC 20.7 dicts of the known local shortcodes among `shortcodes` (no DB, no disk read
    unless a pack.json changed)."""
    emoji = loaded_emoji()
    return {sc: emoji_json(emoji[sc]) for sc in dict.fromkeys(shortcodes) if sc in emoji}


def custom_emojis() -> list[dict]:
    emoji = loaded_emoji()
    return [emoji_json(emoji[sc], with_category=True) for sc in sorted(emoji)]


def pleroma_emoji() -> dict[str, dict]:
    """`{shortcode: {image_url, tags}}` for GET /api/v1/pleroma/emoji (SPEC 10)."""
    emoji = loaded_emoji()
    return {sc: {"image_url": emoji[sc].image_url, "tags": emoji[sc].tags} for sc in sorted(emoji)}


def pleroma_emoji_answer() -> tuple[bytes, str]:
    """pleroma_emoji() encoded, and its ETag: built once per emoji set (a pack change makes a
    new set), so a request costs a stat of each pack.json and no encoding."""
    emoji = loaded_emoji()
    state = _state()
    cached = state.emoji_answer
    if cached is not None and cached[0] is emoji:
        return cached[1], cached[2]
    body = current_app.json.dumps(pleroma_emoji()).encode()
    etag = hashlib.sha256(body).hexdigest()[:32]
    state.emoji_answer = (emoji, body, etag)
    return body, etag
