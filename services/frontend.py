"""The served front-end (SPEC 27): where it lives, which of its files a path names, and installing
one from a zip file, a folder or a URL.

The folder is KENOMA_FRONTEND_DIR (default `<instance>/frontend`): a built single-page app with an
`index.html` at its top (Pleroma-FE's `dist/`). Installing never writes outside the staging folder
beside it, whatever the archive's member names say, and swaps the new build in only once it is
complete: a broken archive leaves the old front-end in place.
"""

from __future__ import annotations

import re
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from pathlib import PurePosixPath

from flask import current_app

MAX_ARCHIVE_BYTES = 128 * 1024 * 1024  # a downloaded build, compressed
MAX_UNPACKED_BYTES = 512 * 1024 * 1024  # all members together, uncompressed
MAX_MEMBERS = 20_000
DOWNLOAD_TIMEOUT = 300.0
_CHUNK = 64 * 1024
# Files the operator keeps in <instance>/static/ that win over the build's own (SPEC 27).
OVERRIDABLE = frozenset({"config.json", "terms-of-service.html"})
# A build tool's content hash in a file name (`app.3f9a1c2e.js`, `index-BwX3sZk1.css`): such a file
# never changes under its name, so browsers may keep it for a year.
_HASHED = re.compile(r"[.-](?=[A-Za-z0-9_]*\d)[A-Za-z0-9_]{8,}\.[A-Za-z0-9]+$")


class InstallError(Exception):
    """The source cannot be installed; the message says why (the old front-end is untouched)."""


def frontend_dir() -> Path:
    configured = current_app.config.get("FRONTEND_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "frontend"


def index_file() -> Path | None:
    """The installed front-end's index.html, or None when there is none (the landing page)."""
    index = frontend_dir() / "index.html"
    return index if index.is_file() else None


def inside(root: Path, relative: str) -> Path | None:
    """`root/relative` if it is a regular file within root (no `..`, no link out of it)."""
    parts = PurePosixPath(relative).parts
    if not parts or any(part in ("..", ".") or "\\" in part or "\x00" in part for part in parts):
        return None
    if parts[0] == "/":
        return None
    try:
        base = root.resolve()
        candidate = base.joinpath(*parts).resolve()
    except (OSError, RuntimeError, ValueError):
        return None
    if not candidate.is_relative_to(base) or not candidate.is_file():
        return None
    return candidate


def build_file(relative: str) -> Path | None:
    """A file of the installed build, by its path under the site root."""
    return inside(frontend_dir(), relative)


def static_file(relative: str) -> Path | None:
    """What `/static/<relative>` serves: the operator's override (config.json,
    terms-of-service.html from <instance>/static/), then the build's own static/ folder, then
    Kenoma's static/ folder (default avatars and images)."""
    if relative in OVERRIDABLE:
        override = inside(Path(current_app.instance_path) / "static", relative)
        if override is not None:
            return override
    found = inside(frontend_dir() / "static", relative)
    if found is None and current_app.root_path:
        found = inside(Path(current_app.root_path) / "static", relative)
    return found


def in_build(path: Path) -> bool:
    """Is this file the installed build's own (its scripts may run), not Kenoma's static folder or
    the operator's overrides (which may hold emoji packs fetched from other servers)?"""
    try:
        return path.is_relative_to(frontend_dir().resolve())
    except OSError:
        return False


def is_hashed(path: Path) -> bool:
    return bool(_HASHED.search(path.name))


# ---------------------------------------------------------------------------------------------
# Installing


Progress = Callable[[str], None]


def install(source: str, progress: Progress) -> Path:
    """Install the build found at `source` (a zip file, a folder, or an http(s) URL of a zip)
    into frontend_dir(); returns that folder."""
    target = frontend_dir()
    target.parent.mkdir(parents=True, exist_ok=True)
    with _staging(target.parent) as staging:
        unpacked = staging / "unpacked"
        unpacked.mkdir()
        if re.match(r"^https?://", source, re.IGNORECASE):
            _unzip(_download(source, staging, progress), unpacked, progress)
        elif Path(source).is_dir():
            _copy_folder(Path(source), unpacked, progress)
        elif Path(source).is_file():
            _unzip(Path(source), unpacked, progress)
        else:
            raise InstallError(f"{source}: no such file, folder or URL")
        _swap_in(_build_root(unpacked), target, staging)
    progress(f"installed the front-end in {target}")
    return target


@contextmanager
def _staging(parent: Path) -> Iterator[Path]:
    """A hidden folder beside the target (same filesystem: the final move is a rename)."""
    staging = Path(tempfile.mkdtemp(prefix=".frontend-staging-", dir=parent))
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _download(url: str, staging: Path, progress: Progress) -> Path:
    import outbound  # lazy: requests stays unloaded in the server until something is fetched

    progress(f"downloading {url}")
    try:
        # The operator names the URL on the command line: a build on the local network is fine.
        result = outbound.fetch(
            url, allow_private=True, max_bytes=MAX_ARCHIVE_BYTES, timeout=DOWNLOAD_TIMEOUT
        )
    except outbound.FetchError as error:
        raise InstallError(f"download failed: {error}") from error
    archive = staging / "download.zip"
    archive.write_bytes(result.content)
    progress(f"downloaded {len(result.content)} bytes")
    return archive


def _checked_members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """Every member passes before one byte is written: no absolute or `..` paths, no links, a
    bounded count and total size (a zip bomb is refused before it is inflated)."""
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise InstallError(f"the archive has more than {MAX_MEMBERS} members")
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        parts = name.rstrip("/").split("/")
        if name in seen:
            raise InstallError(f"{name!r} appears twice in the archive")
        seen.add(name)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise InstallError(f"{name!r} is a symbolic link")
        if name.startswith("/") or "\\" in name or re.match(r"^[A-Za-z]:", name) or "\x00" in name:
            raise InstallError(f"{name!r} has an absolute or odd path")
        if any(part in ("", ".", "..") for part in parts):
            raise InstallError(f"{name!r} leaves the front-end folder")
        total += info.file_size
    if total > MAX_UNPACKED_BYTES:
        raise InstallError("the archive unpacks to more than the limit")
    return [info for info in infos if not info.is_dir()]


def _unzip(path: Path, into: Path, progress: Progress) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            members = _checked_members(archive)
            budget = MAX_UNPACKED_BYTES
            for number, info in enumerate(members, 1):
                budget -= _extract(archive, info, into, budget)
                if number % 200 == 0 or number == len(members):
                    progress(f"unpacked {number}/{len(members)} files")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, RuntimeError, NotImplementedError) as error:
        raise InstallError(f"not a readable zip file: {error}") from error


def _extract(archive: zipfile.ZipFile, info: zipfile.ZipInfo, into: Path, budget: int) -> int:
    """Copy one member, counting real bytes (headers can lie); returns the bytes written."""
    dest = into.joinpath(*info.filename.split("/"))
    if not dest.resolve().is_relative_to(into.resolve()):
        raise InstallError(f"{info.filename!r} leaves the front-end folder")
    dest.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with archive.open(info) as source, dest.open("xb") as out:
        while chunk := source.read(_CHUNK):
            written += len(chunk)
            if written > budget:
                raise InstallError("the archive unpacks to more than the limit")
            out.write(chunk)
    return written


def _copy_folder(source: Path, into: Path, progress: Progress) -> None:
    progress(f"copying {source}")
    # Links stay links: one leading out of the build is never served (inside() refuses it), so a
    # stray link to a private file cannot publish that file's content.
    shutil.copytree(source, into, dirs_exist_ok=True, symlinks=True)
    progress(f"copied {sum(1 for p in into.rglob('*') if p.is_file())} files")


def _build_root(unpacked: Path) -> Path:
    """The folder holding index.html: the top, or a single folder the archive wraps it in
    (`dist/`, `pleroma-fe/`)."""
    for _ in range(3):
        if (unpacked / "index.html").is_file():
            return unpacked
        children = [child for child in unpacked.iterdir() if not child.name.startswith("__MACOSX")]
        if len(children) != 1 or not children[0].is_dir():
            break
        unpacked = children[0]
    raise InstallError("no index.html found: not a built front-end")


def _swap_in(build: Path, target: Path, staging: Path) -> None:
    """The old folder moves aside and the new one takes its name; the old one is removed last."""
    old = staging / "previous"
    if target.exists():
        target.rename(old)
    try:
        build.rename(target)
    except OSError:
        if old.exists():
            old.rename(target)
        raise
