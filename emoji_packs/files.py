"""Pack files: add (an upload, a URL, or every new image of an uploaded zip), rename or move,
and delete one emoji. Each ends with reload() so the emoji set follows (SPEC 17)."""

from __future__ import annotations

import os
import posixpath
import uuid
import zipfile
from pathlib import Path
from urllib.parse import unquote
from urllib.parse import urlsplit

import filetype
from flask import current_app
from werkzeug.datastructures import FileStorage

from emoji_packs.archives import extract_members
from emoji_packs.archives import open_archive
from emoji_packs.errors import BadFileParam
from emoji_packs.errors import EmojiNotFound
from emoji_packs.errors import EmptyValue
from emoji_packs.errors import FileTaken
from emoji_packs.errors import InvalidFileName
from emoji_packs.errors import InvalidShortcode
from emoji_packs.errors import NewShortcodeTaken
from emoji_packs.errors import NotAnImage
from emoji_packs.errors import ShortcodeTaken
from emoji_packs.loaded import has_shortcode
from emoji_packs.loaded import loaded_emoji
from emoji_packs.loaded import reload
from emoji_packs.names import SHORTCODE
from emoji_packs.names import _regular_file
from emoji_packs.names import is_safe_relative
from emoji_packs.remote import _download
from emoji_packs.staging import _staging_dir
from emoji_packs.store import Pack
from emoji_packs.store import save_pack

IMAGE_EXTENSIONS = frozenset({".png", ".gif", ".jpg", ".jpeg", ".webp", ".avif", ".apng", ".bmp"})


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
