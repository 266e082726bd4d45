"""Emoji packs on disk (SPEC 17, 20.7, 20.8): the one module that touches KENOMA_EMOJI_DIR.

Layout: `<EMOJI_DIR>/<pack>/pack.json` plus the image files it lists. Pack and file names are
limited to `^[A-Za-z0-9_.-]+$` (per path component) and every path is built with `safe_join`;
symlinks are never followed, so nothing read, served, written or extracted leaves the folder.

Two caches, both kept in `app.extensions` and both keyed by what invalidates them:
- the loaded emoji set (shortcode -> pack file), keyed by every pack.json's stat, so an edit made
  on disk is seen at the next request without a restart;
- one zip archive per pack version under `<instance>/emoji_archives/<pack>/<key>.zip`, keyed by
  pack.json and the listed files' stats, built once with zipstream-ng and streamed from disk.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import posixpath
import re
import shutil
import stat
import threading
import time
import uuid
import zipfile
from collections.abc import Iterable
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from typing import NamedTuple
from urllib.parse import quote
from urllib.parse import unquote
from urllib.parse import urlsplit

import filetype
from flask import current_app
from flask import has_request_context
from flask import request
from werkzeug.datastructures import FileStorage
from werkzeug.security import safe_join
from zipstream import ZIP_STORED
from zipstream import ZipStream

import formatting
from params import TRUTHY

log = logging.getLogger(__name__)

# `\Z`, not `$`: `$` also matches before a final newline. 255 is the filesystems' name limit.
SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,255}\Z")
MAX_RELATIVE_PATH = 1024  # a file path inside a pack, sub-folders included
# What `:shortcode:` in a post can name (formatting._SHORTCODE); new shortcodes must be one of these.
SHORTCODE = re.compile(r"^[A-Za-z0-9_+-]{1,128}\Z")
# Metadata a client shows as text, and the one it shows as a link.
TEXT_META_KEYS = ("license", "description")
META_VALUE_LIMIT = 5000  # characters of one metadata value
PACK_JSON = "pack.json"
# The `pack` keys an admin may store; `can-download` / `download-sha256` are computed (SPEC 20.8).
META_KEYS = ("license", "homepage", "description", "fallback-src", "fallback-src-sha256", "share-files")
COMPUTED_KEYS = ("can-download", "download-sha256")
IMAGE_EXTENSIONS = frozenset({".png", ".gif", ".jpg", ".jpeg", ".webp", ".avif", ".apng", ".bmp"})
IMPORT_EXTENSIONS = (".png", ".gif")  # what import_from_filesystem picks up without emoji.txt
_CHUNK = 64 * 1024

# Limits for archives coming in (uploads, remote packs); config keys override them.
DEFAULT_ARCHIVE_MAX_BYTES = 64 * 1024 * 1024  # a downloaded archive, compressed
DEFAULT_ARCHIVE_MAX_UNPACKED = 256 * 1024 * 1024  # all members together, uncompressed
DEFAULT_ARCHIVE_MAX_MEMBERS = 10_000


# ---------------------------------------------------------------------------------------------
# Errors: the routes turn these into SPEC 17's status codes and bodies.


class PackError(Exception):
    """Base of every refusal; str(error) is the client-facing message."""


class EmptyName(PackError):
    def __init__(self) -> None:
        super().__init__("pack name cannot be empty")


class InvalidName(PackError):
    def __init__(self) -> None:
        super().__init__("Invalid pack name")


class PackNotFound(PackError):
    def __init__(self, name: str) -> None:
        super().__init__(f"Pack {name} does not exist")
        self.name = name


class PackExists(PackError):
    def __init__(self, name: str) -> None:
        super().__init__(f'A pack named "{name}" already exists')


class PackUnreadable(PackError):
    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"Failed to get the contents of the `{name}` pack. {reason}".strip())


class EmptyValue(PackError):
    """A shortcode / filename given as an empty string; each endpoint words it differently."""


class InvalidShortcode(PackError):
    def __init__(self) -> None:
        super().__init__("Invalid shortcode")


class ValueTooLong(PackError):
    def __init__(self, key: str, limit: int) -> None:
        super().__init__(f"{key} is too long (at most {limit} characters)")


class InvalidFileName(PackError):
    def __init__(self, filename: str) -> None:
        super().__init__(f'Invalid file name "{filename}"')


class ShortcodeTaken(PackError):
    def __init__(self, shortcode: str) -> None:
        super().__init__(f'An emoji with the "{shortcode}" shortcode already exists')


class NewShortcodeTaken(PackError):
    def __init__(self, shortcode: str) -> None:
        super().__init__(
            f"New shortcode \"{shortcode}\" is already used. If you want to override emoji use 'force' option"
        )


class FileTaken(PackError):
    def __init__(self, filename: str) -> None:
        super().__init__(f'A file named "{filename}" already exists in the pack')


class EmojiNotFound(PackError):
    def __init__(self, shortcode: str) -> None:
        super().__init__(f'Emoji "{shortcode}" does not exist')


class NotAnImage(PackError):
    def __init__(self) -> None:
        super().__init__("Emoji files must be images")


class BadSource(PackError):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what} must be an http(s) URL")


class BadFileParam(PackError):
    def __init__(self) -> None:
        super().__init__("file must be an uploaded file or an http(s) URL")


class NotDownloadable(PackError):
    def __init__(self, name: str) -> None:
        super().__init__(
            f"Pack {name} cannot be downloaded from this instance, either pack sharing was disabled "
            "for this pack or some files are missing"
        )


class FallbackIncomplete(PackError):
    def __init__(self) -> None:
        super().__init__("The fallback archive does not have all files specified in pack.json")


class UnsafeArchive(PackError):
    def __init__(self, member: str, why: str) -> None:
        super().__init__(f"Refused archive: member {member!r} {why}")


class ArchiveTooLarge(PackError):
    def __init__(self) -> None:
        super().__init__("Refused archive: it unpacks to more than the allowed size")


class BadArchive(PackError):
    def __init__(self, reason: str = "") -> None:
        super().__init__(f"Invalid zip archive. {reason}".strip())


class NotShareable(PackError):
    def __init__(self) -> None:
        super().__init__("The requested instance does not support sharing emoji packs")


class NoDownloadSource(PackError):
    def __init__(self) -> None:
        super().__init__("The pack was not set as shared and there is no fallback src to download from")


class ChecksumMismatch(PackError):
    def __init__(self) -> None:
        super().__init__("SHA256 for the pack doesn't match the one sent by the server")


class RemoteError(PackError):
    """Another server failed us (network, status, bad document); the message is the reason."""


class NotWritable(PackError):
    def __init__(self) -> None:
        super().__init__("Error: emoji pack directory must be writable")


# ---------------------------------------------------------------------------------------------
# Names and paths


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


# ---------------------------------------------------------------------------------------------
# Packs: read from disk on every call (SPEC 17: the pack endpoints show the directory as it is)


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


def pack_json(pack: Pack, page: int | None = None, page_size: int | None = None) -> dict:
    """The API form of a pack (SPEC 20.8); `files` paged by sorted shortcode when asked."""
    files = pack.files
    if page is not None and page_size is not None:
        files = {k: files[k] for k in page_of(sorted(files), page, page_size)}
    meta = dict(pack.meta)
    if is_downloadable(pack):
        meta["can-download"] = True
        meta["download-sha256"] = archive(pack).sha256
    else:
        meta["can-download"] = False
    return {"files": files, "files_count": len(pack.files), "pack": meta}


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


# ---------------------------------------------------------------------------------------------
# The loaded emoji set (for /api/v1/pleroma/emoji, custom_emojis, statuses, reactions)


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


class _State:
    """Per-app caches (app.extensions["kenoma_emoji"]); each guarded by the key that invalidates it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.emoji_key: tuple | None = None
        self.emoji: dict[str, Emoji] = {}
        # The encoded /api/v1/pleroma/emoji answer and its ETag, for the `emoji` dict it was made of.
        self.emoji_answer: tuple[dict[str, Emoji], bytes, str] | None = None
        self.archives: dict[str, tuple[str, ArchiveInfo]] = {}
        # pack name -> (_pack_signature, member paths, _member_stats, archive) of the last check
        self.checked_archives: dict[str, _Checked] = {}


def _state() -> _State:
    return current_app.extensions.setdefault("kenoma_emoji", _State())


def _emoji_key() -> tuple:
    root = emoji_dir()
    key = []
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        return ()
    for entry in entries:
        if not entry.is_dir(follow_symlinks=False) or not is_safe_name(entry.name):
            continue
        try:  # plain os calls: this runs on every request that shows emoji
            st = os.lstat(os.path.join(entry.path, PACK_JSON))
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode):
            key.append((entry.name, st.st_mtime_ns, st.st_size, st.st_ino))
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


# ---------------------------------------------------------------------------------------------
# Archives: built once per pack version, kept on disk, streamed by send_file


@dataclass(frozen=True)
class ArchiveInfo:
    path: Path
    sha256: str  # upper-case hex, as `download-sha256` shows it


def _archive_members(pack: Pack) -> list[tuple[str, Path]]:
    """pack.json first, then each listed file once, in path order: a fixed order makes the
    archive byte-identical for an unchanged pack."""
    members = [(PACK_JSON, pack.pack_file)]
    for rel in sorted(set(pack.files.values())):
        path = pack.file_path(rel)
        assert path is not None  # is_downloadable checked every file
        members.append((rel, path))
    return members


def _archive_key(members: list[tuple[str, Path]]) -> str:
    parts = []
    for rel, path in members:
        st = path.lstat()
        parts.append(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def _archive_root() -> Path:
    return Path(current_app.instance_path) / "emoji_archives"


def archive(pack: Pack) -> ArchiveInfo:
    """The pack's zip on disk (built now if this version has none yet). Caller checked
    is_downloadable."""
    members = _archive_members(pack)
    key = _archive_key(members)
    state = _state()
    cached = state.archives.get(pack.name)
    if cached and cached[0] == key and cached[1].path.exists():
        return cached[1]
    with state.lock:
        info = _archive_from_disk(pack.name, key) or _build_archive(pack.name, key, members)
        state.archives[pack.name] = (key, info)
    return info


def _archive_from_disk(name: str, key: str) -> ArchiveInfo | None:
    folder = _archive_root() / name
    zip_path, sha_path = folder / f"{key}.zip", folder / f"{key}.sha256"
    try:
        sha = sha_path.read_text().strip()
    except OSError:
        return None
    return ArchiveInfo(zip_path, sha) if zip_path.is_file() and sha else None


def _build_archive(name: str, key: str, members: list[tuple[str, Path]]) -> ArchiveInfo:
    folder = _archive_root() / name
    folder.mkdir(parents=True, exist_ok=True)
    stream = ZipStream(compress_type=ZIP_STORED)  # emoji images are compressed already
    for rel, path in members:
        stream.add_path(str(path), rel, recurse=False)
    digest = hashlib.sha256()
    part = folder / f".{key}.{uuid.uuid4().hex}.part"
    try:
        with part.open("wb") as out:
            for chunk in stream:
                digest.update(chunk)
                out.write(chunk)
        sha = digest.hexdigest().upper()
        _write_atomic(folder / f"{key}.sha256", sha)
        os.replace(part, folder / f"{key}.zip")
    finally:
        part.unlink(missing_ok=True)
    for old in folder.iterdir():  # earlier versions of this pack
        if not old.name.startswith(f"{key}.") and not old.name.startswith("."):
            old.unlink(missing_ok=True)
    return ArchiveInfo(folder / f"{key}.zip", sha)


def _drop_archives(name: str) -> None:
    _state().archives.pop(name, None)
    _state().checked_archives.pop(name, None)
    shutil.rmtree(_archive_root() / name, ignore_errors=True)


def downloadable_archive(raw_name: Any) -> ArchiveInfo:
    """The zip of a shared pack. Its checks (pack.json read, every path resolved inside the
    pack, ~100 realpath calls) run again only when the pack changed: the stats of the pack
    folder and pack.json (every request) and the lstat of every member (at most once a
    MEMBER_RECHECK_SECONDS) must all be as when they last passed. Anything else is the full path
    below."""
    name = check_pack_name(raw_name)
    state = _state()
    checked = state.checked_archives.get(name)
    signature = _pack_signature(name)
    if checked is not None and signature is not None and checked.signature == signature:
        try:
            if _members_unchanged(name, checked) and os.path.exists(checked.info.path):
                return checked.info
        except OSError:  # a member went away: the full path says what is wrong
            pass
    pack = load_pack(raw_name)
    if not is_downloadable(pack):
        raise NotDownloadable(pack.name)
    info = archive(pack)
    paths = [str(path) for _, path in _archive_members(pack)]
    if signature is not None:
        state.checked_archives[name] = _Checked(
            signature, paths, _member_stats(paths), info, time.monotonic()
        )
    return info


# API changes rewrite pack.json, which the signature sees at once. A member file edited in place
# by hand changes neither the folder nor pack.json: its own lstat shows it, checked this often
# rather than on every download (fifty lstat calls cost more than the rest of the request).
MEMBER_RECHECK_SECONDS = 1.0


class _Checked(NamedTuple):
    signature: tuple
    paths: list[str]
    stats: list[tuple[int, int, int, int]]
    info: ArchiveInfo
    at: float  # time.monotonic() of the last member check


def _members_unchanged(name: str, checked: _Checked) -> bool:
    now = time.monotonic()
    if now - checked.at < MEMBER_RECHECK_SECONDS:
        return True
    if _member_stats(checked.paths) != checked.stats:
        return False
    _state().checked_archives[name] = checked._replace(at=now)
    return True


def _member_stats(paths: list[str]) -> list[tuple[int, int, int, int]]:
    """What _archive_key hashes, as plain values: an lstat per member and no hashing."""
    return [(st.st_ino, st.st_mode, st.st_mtime_ns, st.st_size) for st in map(os.lstat, paths)]


def _pack_signature(name: str) -> tuple | None:
    """lstat of the pack folder and of its pack.json (taken before reading them); plain string
    paths, as this runs on every archive download."""
    folder = os.path.join(current_app.config["EMOJI_DIR"], name)
    try:
        stats = (os.lstat(folder), os.lstat(os.path.join(folder, PACK_JSON)))
    except OSError:
        return None
    return tuple((st.st_ino, st.st_mode, st.st_mtime_ns, st.st_size) for st in stats)


# ---------------------------------------------------------------------------------------------
# Incoming zip archives: every member checked before anything is written


def _limit(name: str, default: int) -> int:
    return int(current_app.config.get(name, default))


def _is_link(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def checked_members(archive_file: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The archive's file members, once every member passed: no absolute or `..` paths, no links,
    only safe names, and a bounded count and total uncompressed size (a zip bomb is refused
    before a single byte is inflated)."""
    infos = archive_file.infolist()
    if len(infos) > _limit("EMOJI_ARCHIVE_MAX_MEMBERS", DEFAULT_ARCHIVE_MAX_MEMBERS):
        raise ArchiveTooLarge()
    total = 0
    files = []
    seen: set[str] = set()
    for info in infos:
        name = info.filename
        if name in seen:  # which copy wins depends on the unzip tool: refuse the ambiguity
            raise UnsafeArchive(name, "appears twice")
        seen.add(name)
        if _is_link(info):
            raise UnsafeArchive(name, "is a symbolic link")
        if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
            raise UnsafeArchive(name, "has an absolute path")
        if ".." in re.split(r"[\\/]", name):
            raise UnsafeArchive(name, "leaves the pack folder")
        if info.is_dir():
            if not is_safe_relative(name.rstrip("/")):
                raise UnsafeArchive(name, "has a name outside [A-Za-z0-9_.-]")
            continue
        if not is_safe_relative(name):
            raise UnsafeArchive(name, "has a name outside [A-Za-z0-9_.-]")
        total += info.file_size
        files.append(info)
    if total > _limit("EMOJI_ARCHIVE_MAX_UNPACKED", DEFAULT_ARCHIVE_MAX_UNPACKED):
        raise ArchiveTooLarge()
    return files


@contextmanager
def open_archive(path: Path) -> Iterator[tuple[zipfile.ZipFile, dict[str, zipfile.ZipInfo]]]:
    """Open a zip and check it; BadArchive for anything zipfile cannot read."""
    try:
        with zipfile.ZipFile(path) as archive_file:
            members = {info.filename: info for info in checked_members(archive_file)}
            yield archive_file, members
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as error:
        raise BadArchive(str(error)) from error


def _extract(archive_file: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path, budget: list[int]) -> None:
    """Copy one member, counting real bytes against the budget (headers can lie)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        with archive_file.open(info) as source, dest.open("xb") as out:
            while chunk := source.read(_CHUNK):
                budget[0] -= len(chunk)
                if budget[0] < 0:
                    raise ArchiveTooLarge()
                out.write(chunk)
    except (RuntimeError, NotImplementedError, zipfile.BadZipFile) as error:  # encrypted, odd method, CRC
        raise BadArchive(str(error)) from error


def extract_members(archive_file: zipfile.ZipFile, members: Iterable[zipfile.ZipInfo], into: Path) -> None:
    budget = [_limit("EMOJI_ARCHIVE_MAX_UNPACKED", DEFAULT_ARCHIVE_MAX_UNPACKED)]
    for info in members:
        dest = _inside(into, *info.filename.split("/"))
        if dest is None:
            raise UnsafeArchive(info.filename, "leaves the pack folder")
        _extract(archive_file, info, dest, budget)


# ---------------------------------------------------------------------------------------------
# Pack mutations. Each one ends with reload() so the emoji set follows (SPEC 17).


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
# Staging folders: downloads and uploads are unpacked in a hidden folder and moved into place
# only when complete. Each holds an flock while in use; the kernel drops it when its process
# dies, so a folder nobody holds is debris of a killed server and goes at the next start-up,
# while another worker's download in progress is left alone.

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


# ---------------------------------------------------------------------------------------------
# Pack files


def _check_filename(filename: str) -> None:
    if not is_safe_relative(filename):
        raise InvalidFileName(filename)


def _is_image(path: Path) -> bool:
    """Sniffed, not trusted by name: filetype must say image/* and Pillow must verify it."""
    from PIL import Image  # lazy: Pillow only in the processes that take uploads

    kind = filetype.guess(str(path))
    if kind is None or not kind.mime.startswith("image/"):
        return False
    try:
        with Image.open(path) as image:
            image.verify()
    except Exception:  # Pillow raises many types for broken images
        return False
    return True


def _is_zip_upload(upload: FileStorage) -> bool:
    head = upload.stream.read(4)
    upload.stream.seek(0)
    return head == b"PK\x03\x04" or upload.mimetype == "application/zip"


def _staging(pack: Pack, kind: str) -> Path:
    """A hidden scratch name inside the pack folder: same filesystem, so os.replace is atomic."""
    return pack.path / f".{kind}-{uuid.uuid4().hex}"


def add_file(pack: Pack, source: FileStorage | str, shortcode: str | None, filename: str | None) -> dict:
    """Add one emoji (an upload or a URL) or every new emoji of an uploaded zip."""
    if not isinstance(source, (FileStorage, str)):
        raise BadFileParam()
    if isinstance(source, FileStorage) and _is_zip_upload(source):
        return _add_zip(pack, source)
    if filename is None:
        filename = _default_filename(source)
    if shortcode is None:
        shortcode = posixpath.splitext(posixpath.basename(filename))[0]
    if not shortcode or not filename:
        raise EmptyValue("pack name, shortcode or filename cannot be empty")
    if not SHORTCODE.match(shortcode):
        raise InvalidShortcode()
    if isinstance(source, str) and urlsplit(source).scheme.lower() not in ("http", "https"):
        raise BadFileParam()
    _check_filename(filename)
    if has_shortcode(shortcode) or shortcode in pack.files:
        raise ShortcodeTaken(shortcode)
    if posixpath.splitext(filename)[1].lower() not in IMAGE_EXTENSIONS:
        raise NotAnImage()
    dest = pack.file_path(filename)
    if dest is None:
        raise InvalidFileName(filename)
    if dest.exists() or dest.is_symlink():
        raise FileTaken(filename)
    staged = _staging(pack, "upload")
    try:
        _receive(source, staged)
        if not _is_image(staged):
            raise NotAnImage()
        _place(pack, staged, dest)
    finally:
        staged.unlink(missing_ok=True)
    _commit_files(pack, {shortcode: filename}, [dest])
    return pack.files


def _default_filename(source: FileStorage | str) -> str:
    if isinstance(source, FileStorage):
        return posixpath.basename((source.filename or "").replace("\\", "/"))
    return unquote(posixpath.basename(urlsplit(source).path))


def _receive(source: FileStorage | str, staged: Path) -> None:
    limit = int(current_app.config["UPLOAD_LIMIT"])
    if isinstance(source, FileStorage):
        source.save(staged)  # the request size is already capped by MAX_CONTENT_LENGTH
        return
    _download(source, staged, max_bytes=limit)


def _place(pack: Pack, staged: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staged, dest)


def _commit_files(pack: Pack, added: dict[str, str], placed: list[Path]) -> None:
    """Record new entries; if pack.json cannot be written, take the placed files back out."""
    pack.files.update(added)
    try:
        save_pack(pack)
    except OSError:
        for path in placed:
            path.unlink(missing_ok=True)
            _remove_empty_dirs(pack, path.parent)
        raise
    reload()


def _add_zip(pack: Pack, upload: FileStorage) -> dict:
    """Every image member whose shortcode (file name without extension) is still free."""
    with _staging_dir(_staging(pack, "zip")) as scratch:
        upload.save(scratch / "upload.zip")
        with open_archive(scratch / "upload.zip") as (archive_file, members):
            taken = set(loaded_emoji()) | set(pack.files)
            plan: dict[str, zipfile.ZipInfo] = {}
            for rel, info in sorted(members.items()):
                shortcode = posixpath.splitext(posixpath.basename(rel))[0]
                target = pack.file_path(rel)
                if shortcode in taken or shortcode in plan or target is None or target.exists():
                    continue
                if not SHORTCODE.match(shortcode):  # a name `:x:` could never use: skipped
                    continue
                if posixpath.splitext(rel)[1].lower() in IMAGE_EXTENSIONS:
                    plan[shortcode] = info
            extract_members(archive_file, plan.values(), scratch / "files")
        added, placed = {}, []
        try:
            for shortcode, info in plan.items():
                staged = scratch / "files" / info.filename
                dest = pack.file_path(info.filename)
                if dest is None or not _is_image(staged):
                    continue  # not an image after all: skipped, like a taken shortcode
                _place(pack, staged, dest)
                placed.append(dest)
                added[shortcode] = info.filename
        except OSError:
            for path in placed:
                path.unlink(missing_ok=True)
            raise
        if added:
            _commit_files(pack, added, placed)
        return pack.files


def _existing_file(pack: Pack, shortcode: str) -> tuple[str, Path]:
    filename = pack.files.get(shortcode)
    path = pack.file_path(filename) if filename else None
    if filename is None or not _regular_file(path):
        raise EmojiNotFound(shortcode)
    assert path is not None
    return filename, path


def update_file(pack: Pack, shortcode: str, new_shortcode: str, new_filename: str, force: bool) -> dict:
    """Rename an emoji and/or move its file (SPEC 17, PATCH packs/files)."""
    if not shortcode or not new_shortcode or not new_filename:
        raise EmptyValue("new_shortcode or new_filename cannot be empty")
    if not SHORTCODE.match(new_shortcode):
        raise InvalidShortcode()
    filename, old_path = _existing_file(pack, shortcode)
    taken = new_shortcode != shortcode and (has_shortcode(new_shortcode) or new_shortcode in pack.files)
    if taken and not force:
        raise NewShortcodeTaken(new_shortcode)
    _check_filename(new_filename)
    new_path = pack.file_path(new_filename)
    if new_path is None:
        raise InvalidFileName(new_filename)
    moved = new_filename != filename
    if moved:
        if (new_path.exists() or new_path.is_symlink()) and not force:
            raise FileTaken(new_filename)
        new_path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(old_path, new_path)
    del pack.files[shortcode]
    pack.files[new_shortcode] = new_filename
    try:
        save_pack(pack)
    except OSError:
        if moved:  # pack.json still names the old file: put it back
            os.replace(new_path, old_path)
            _remove_empty_dirs(pack, new_path.parent)
        raise
    if moved:
        _remove_empty_dirs(pack, old_path.parent)
    reload()
    return pack.files


def delete_file(pack: Pack, shortcode: str) -> dict:
    if not shortcode:
        raise EmptyValue("pack name or shortcode cannot be empty")
    filename, path = _existing_file(pack, shortcode)
    del pack.files[shortcode]
    save_pack(pack)
    # Imported packs may point two shortcodes at one file: keep it while another uses it.
    if filename not in pack.files.values():
        path.unlink(missing_ok=True)
        _remove_empty_dirs(pack, path.parent)
    reload()
    return pack.files


def _remove_empty_dirs(pack: Pack, folder: Path) -> None:
    """Remove sub-directories of the pack left empty, innermost first."""
    while folder != pack.path and pack.path in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


# ---------------------------------------------------------------------------------------------
# Other servers: remote listing and download (SPEC 17, 1.10)


def _allow_private() -> bool:
    return bool(current_app.config["ALLOW_PRIVATE_FETCH"])


def instance_root(url: Any) -> str:
    """`scheme://host[:port]` of the instance URL an admin gave."""
    parts = urlsplit(url.strip() if isinstance(url, str) else "")
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise BadSource("url")
    return f"{parts.scheme.lower()}://{parts.netloc}"


def _fetch_json(url: str) -> Any:
    import outbound  # lazy: requests and urllib3 (~5 MB) only where a remote is fetched

    try:
        return outbound.fetch_json(url, allow_private=_allow_private())
    except outbound.FetchError as error:
        raise RemoteError(str(error)) from error


def _download(url: str, target: Path, max_bytes: int | None = None) -> str:
    import outbound  # lazy: as in _fetch_json

    limit = max_bytes or _limit("EMOJI_ARCHIVE_MAX_BYTES", DEFAULT_ARCHIVE_MAX_BYTES)
    try:
        return outbound.stream_to_file(url, target, allow_private=_allow_private(), max_bytes=limit)
    except outbound.FetchError as error:
        raise RemoteError(str(error)) from error


def _require_shareable(root: str) -> None:
    """Nodeinfo (the last link) must list `shareable_emoji_packs`."""
    links = _fetch_json(f"{root}/.well-known/nodeinfo")
    try:
        href = links["links"][-1]["href"]
        features = _fetch_json(href)["metadata"]["features"]
    except (KeyError, IndexError, TypeError) as error:
        raise NotShareable() from error
    if not isinstance(features, list) or "shareable_emoji_packs" not in features:
        raise NotShareable()


def list_remote(url: Any, page: int, page_size: int) -> Any:
    root = instance_root(url)
    _require_shareable(root)
    return _fetch_json(f"{root}/api/v1/pleroma/emoji/packs?page={page}&page_size={page_size}")


def _remote_pack(root: str, name: str) -> tuple[dict[str, str], dict[str, Any]]:
    """The remote pack's complete `files` and its `pack` metadata."""
    url = f"{root}/api/v1/pleroma/emoji/pack?name={quote(name, safe='')}"
    remote = _fetch_json(url)
    if isinstance(remote, dict) and isinstance(remote.get("files_count"), int):
        if remote["files_count"] > len(remote.get("files") or {}):  # `files` is paged (SPEC 17)
            remote = _fetch_json(f"{url}&page_size={remote['files_count']}")
    if not isinstance(remote, dict) or not isinstance(remote.get("files"), dict):
        raise RemoteError("The remote pack has no file list")
    files = remote["files"]
    for file in files.values():
        if not is_safe_relative(file):
            raise UnsafeArchive(str(file), "is not a safe file name")
    meta = remote.get("pack") if isinstance(remote.get("pack"), dict) else {}
    return files, meta


def download_pack(url: Any, raw_name: Any, raw_as: Any = None) -> None:
    """Copy another server's pack: its archive when shared, else its fallback-src, sha256 checked.

    Everything lands in a hidden staging folder first, renamed into place only when complete,
    so a failed download leaves no partial pack behind.
    """
    name = raw_name.strip() if isinstance(raw_name, str) else ""
    if not name:
        raise EmptyName()
    local = check_pack_name(raw_as if raw_as not in (None, "") else name)
    target = emoji_dir() / local
    if target.exists() or target.is_symlink():
        raise PackExists(local)
    remote_root = instance_root(url)
    _require_shareable(remote_root)
    files, meta = _remote_pack(remote_root, name)
    source, sha, fallback = _download_source(remote_root, name, meta)
    with _staging_dir(target.with_name(f".download-{uuid.uuid4().hex}")) as stage:
        _fill_stage(stage, local, files, meta, source, sha, fallback)
        if target.exists() or target.is_symlink():
            raise PackExists(local)
        os.rename(stage, target)
    reload()


def _download_source(root: str, name: str, meta: dict) -> tuple[str, str, bool]:
    sha = meta.get("download-sha256")
    if meta.get("share-files") is True and meta.get("can-download") is True and isinstance(sha, str):
        return f"{root}/api/v1/pleroma/emoji/packs/archive?name={quote(name, safe='')}", sha, False
    source, sha = meta.get("fallback-src"), meta.get("fallback-src-sha256")
    if isinstance(source, str) and source and isinstance(sha, str):
        return source, sha, True
    raise NoDownloadSource()


def _fill_stage(
    stage: Path, local: str, files: dict[str, str], meta: dict, source: str, sha: str, fallback: bool
) -> None:
    archive_path = stage / ".archive.zip"
    if _download(source, archive_path).upper() != sha.strip().upper():
        raise ChecksumMismatch()
    # A fallback archive cannot hold pack.json (its sha256 would depend on itself): write a fresh one.
    wanted = sorted(set(files.values())) + ([] if fallback else [PACK_JSON])
    with open_archive(archive_path) as (archive_file, members):
        missing = [w for w in wanted if w not in members]
        if missing:
            raise RemoteError(f"The archive does not contain {missing[0]}")
        extract_members(archive_file, [members[w] for w in wanted], stage)
    archive_path.unlink()
    if not fallback:
        try:
            _, meta = _parse_pack_json((stage / PACK_JSON).read_text(encoding="utf-8"))
        except ValueError as error:
            raise RemoteError("The archive's pack.json is not valid") from error
    save_pack(Pack(local, stage, dict(files), clean_metadata(meta)))
