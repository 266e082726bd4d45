"""Other servers: remote listing and download (SPEC 17, 1.10)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote
from urllib.parse import urlsplit

from flask import current_app

from emoji_packs.archives import DEFAULT_ARCHIVE_MAX_BYTES
from emoji_packs.archives import _limit
from emoji_packs.archives import extract_members
from emoji_packs.archives import open_archive
from emoji_packs.errors import BadSource
from emoji_packs.errors import ChecksumMismatch
from emoji_packs.errors import EmptyName
from emoji_packs.errors import NoDownloadSource
from emoji_packs.errors import NotShareable
from emoji_packs.errors import PackExists
from emoji_packs.errors import RemoteError
from emoji_packs.errors import UnsafeArchive
from emoji_packs.loaded import reload
from emoji_packs.names import PACK_JSON
from emoji_packs.names import check_pack_name
from emoji_packs.names import emoji_dir
from emoji_packs.names import is_safe_relative
from emoji_packs.staging import _staging_dir
from emoji_packs.store import Pack
from emoji_packs.store import _parse_pack_json
from emoji_packs.store import clean_metadata
from emoji_packs.store import save_pack

# A pack listing names every file of every pack on a page: larger than a federation document.
LISTING_MAX_BYTES = 4 * 1024 * 1024


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
        return outbound.fetch_json(url, allow_private=_allow_private(), max_bytes=LISTING_MAX_BYTES)
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
