"""Uploaded files (SPEC 5): stored under <instance>/media/<flake>/<name>, described by a Media row."""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import filetype
from flask import current_app
from werkzeug.datastructures import FileStorage
from werkzeug.security import safe_join
from werkzeug.utils import secure_filename

from errors import ApiError
from models import Account
from models import Media
from models import db
from models import new_flake_id

DESCRIPTION_LIMIT = 5000
FILENAME_LIMIT = 255  # characters of an upload's file name, as most file systems allow
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class StoredFile:
    path: str  # relative to media_root(), the form Media.path and Account.avatar keep
    mime_type: str
    meta: dict


def media_root() -> Path:
    return Path(current_app.instance_path) / "media"


def parse_focus(value: str) -> str:
    """`"x,y"` with both in -1..1 (Mastodon focal point), normalised; ValueError otherwise."""
    x_text, sep, y_text = value.partition(",")
    if not sep:
        raise ValueError("focus must be x,y")
    x, y = float(x_text), float(y_text)
    if not (-1.0 <= x <= 1.0 and -1.0 <= y <= 1.0):
        raise ValueError("focus out of range")
    return f"{x:g},{y:g}"


def store_file(upload: FileStorage, limit: int, folder: str | None = None) -> StoredFile:
    """Copy an upload to <media>/<folder>/<safe name>; 413 past `limit` bytes.

    The body is streamed to a temporary file first and moved into place only when complete, so
    neither memory nor the media folder ever holds more than `limit` bytes of a refused upload.
    """
    if len(upload.filename or "") > FILENAME_LIMIT:
        # Longer than any file system's name: refused before a byte is stored.
        raise ApiError(422, f"File name is too long (at most {FILENAME_LIMIT} characters)")
    root = media_root()
    root.mkdir(parents=True, exist_ok=True)
    folder = folder or new_flake_id()
    name = secure_filename(upload.filename or "") or "file"
    part = root / f".{uuid.uuid4().hex}.part"
    try:
        _copy_limited(upload.stream, part, limit)
        mime_type = _sniff(part, upload.mimetype)
        meta = _image_meta(part) if mime_type.startswith("image/") else {}
        (root / folder).mkdir()
        os.replace(part, root / folder / name)
    finally:
        part.unlink(missing_ok=True)
    return StoredFile(f"{folder}/{name}", mime_type, meta)


def served_type(path: str) -> str:
    """Content type to serve a stored file with: sniffed from its bytes, else opaque."""
    target = safe_join(str(media_root()), path)
    kind = filetype.guess(target) if target and os.path.isfile(target) else None
    return kind.mime if kind is not None else "application/octet-stream"


def remove_file(path: str) -> None:
    """Delete a stored file and its folder (used when the transaction that records it fails)."""
    target = safe_join(str(media_root()), path)
    if target is None:
        return
    folder = Path(target).parent
    if folder != media_root() and folder.is_dir():
        shutil.rmtree(folder, ignore_errors=True)
    else:
        Path(target).unlink(missing_ok=True)


def save_upload(
    account: Account,
    upload: FileStorage,
    limit: int,
    description: str | None = None,
    focus: str | None = None,
) -> Media:
    """Store an upload and its Media row together: the file goes away if the commit fails."""
    media_id = new_flake_id()
    stored = store_file(upload, limit, folder=media_id)
    media = Media(
        id=media_id,
        account_id=account.id,
        path=stored.path,
        mime_type=stored.mime_type,
        meta=stored.meta,
        description=description or "",
        focus=focus or None,
    )
    try:
        db.session.add(media)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        remove_file(stored.path)
        raise
    return media


def update_media(media: Media, description: str | None = None, focus: str | None = None) -> Media:
    """Change the description and/or focal point; None leaves a field as it is, "" clears focus."""
    if description is not None:
        media.description = description
    if focus is not None:
        media.focus = focus or None
    db.session.commit()
    return media


def find_own(account: Account, media_id: str) -> Media:
    """The caller's media by id; someone else's is as unknown as a missing one (SPEC 5)."""
    media = db.session.get(Media, media_id)
    if media is None or media.account_id != account.id:
        raise ApiError(404, "Record not found")
    return media


def _copy_limited(source: IO[bytes], dest: Path, limit: int) -> None:
    written = 0
    with dest.open("wb") as out:
        while chunk := source.read(_CHUNK):
            written += len(chunk)
            if written > limit:
                raise ApiError(413, "File is too large")
            out.write(chunk)


def _sniff(path: Path, claimed: str | None) -> str:
    """The type the bytes say; the client's word only for what can't be an image.

    A client-declared image type that the bytes don't confirm (SVG, a renamed script) is stored
    as opaque data, so no client ever renders it inline as a picture.
    """
    kind = filetype.guess(str(path))
    if kind is not None:
        return kind.mime
    claimed = (claimed or "").split(";")[0].strip().lower()
    if claimed and "/" in claimed and not claimed.startswith("image/"):
        return claimed
    return "application/octet-stream"


def _image_meta(path: Path) -> dict:
    """Mastodon's `meta.original` / `meta.small`; {} when Pillow can't read the image."""
    from PIL import Image  # lazy: Pillow (~2 MB) only in the processes that take uploads

    try:
        with Image.open(path) as image:
            width, height = image.size
            image.verify()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return {}
    if not width or not height:
        return {}
    size = {"width": width, "height": height, "size": f"{width}x{height}", "aspect": width / height}
    return {"original": size, "small": dict(size)}
