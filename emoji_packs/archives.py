"""Pack zip archives: the outgoing one of each pack version (built once, kept on disk, streamed
by send_file, with its sha256 for `download-sha256` and the ETag) and the checks every incoming
archive passes before anything is written."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import time
import uuid
import zipfile
from collections.abc import Iterable
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from typing import BinaryIO

from flask import current_app
from zipstream import ZIP_STORED
from zipstream import ZipStream

from emoji_packs.errors import ArchiveTooLarge
from emoji_packs.errors import BadArchive
from emoji_packs.errors import NotDownloadable
from emoji_packs.errors import UnsafeArchive
from emoji_packs.names import PACK_JSON
from emoji_packs.names import _inside
from emoji_packs.names import check_pack_name
from emoji_packs.names import is_safe_relative
from emoji_packs.state import ArchiveInfo
from emoji_packs.state import _Checked
from emoji_packs.state import _state
from emoji_packs.store import Pack
from emoji_packs.store import _write_atomic
from emoji_packs.store import is_downloadable
from emoji_packs.store import load_pack
from emoji_packs.store import page_of

_CHUNK = 64 * 1024

# Limits for archives coming in (uploads, remote packs); config keys override them.
DEFAULT_ARCHIVE_MAX_BYTES = 64 * 1024 * 1024  # a downloaded archive, compressed
DEFAULT_ARCHIVE_MAX_UNPACKED = 256 * 1024 * 1024  # all members together, uncompressed
DEFAULT_ARCHIVE_MAX_MEMBERS = 10_000


# ---------------------------------------------------------------------------------------------
# Archives: built once per pack version, kept on disk, streamed by send_file


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


def open_downloadable_archive(raw_name: Any) -> tuple[ArchiveInfo, BinaryIO]:
    """The zip of a shared pack, opened for reading. Its checks (pack.json read, every path
    resolved inside the pack, ~100 realpath calls) run again only when the pack changed: the
    stats of the pack folder and pack.json (every request) and the lstat of every member (at
    most once a MEMBER_RECHECK_SECONDS) must all be as when they last passed, and the kept zip
    must still open (the open is its existence check; the download then stats the open file).
    Anything else is the full check."""
    info = _checked_archive(raw_name)
    if info is not None:
        try:
            return info, open(info.path, "rb")  # noqa: SIM115 - the response closes it
        except FileNotFoundError:  # removed by hand: built again below
            pass
    info = _full_check(raw_name)
    return info, open(info.path, "rb")  # noqa: SIM115 - the response closes it


def _checked_archive(raw_name: Any) -> ArchiveInfo | None:
    """The archive that last passed the full check, if nothing it was checked on changed."""
    name = check_pack_name(raw_name)
    checked = _state().checked_archives.get(name)
    if checked is None:
        return None
    signature = _pack_signature(name)
    if signature is None or checked.signature != signature:
        return None
    try:
        return checked.info if _members_unchanged(name, checked) else None
    except OSError:  # a member went away: the full path says what is wrong
        return None


def _full_check(raw_name: Any) -> ArchiveInfo:
    name = check_pack_name(raw_name)
    state = _state()
    signature = _pack_signature(name)
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
# The API form of a pack: `can-download` and `download-sha256` come from the archive


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
