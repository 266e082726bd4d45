"""Small Pleroma features: bookmark folders, the front-end settings store, the mascot, quotes,
endorsements and the health check (SPEC 10, 13, 18)."""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import Select
from sqlalchemy import exists
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import FileStorage

from errors import ApiError
from models import Account
from models import Block
from models import Bookmark
from models import BookmarkFolder
from models import Endorsement
from models import Mascot
from models import Media
from models import Status
from models import db
from services import media as media_service

# ---------------------------------------------------------------------------------------------
# Bookmark folders (SPEC 18.5)


def own_folder(account: Account, folder_id: str) -> BookmarkFolder:
    """The caller's folder; someone else's or a missing one is refused alike (SPEC 21 note 15)."""
    folder = db.session.get(BookmarkFolder, folder_id)
    if folder is None or folder.account_id != account.id:
        raise ApiError(403, "Access denied")
    return folder


def list_folders(account: Account) -> list[BookmarkFolder]:
    query = select(BookmarkFolder).where(BookmarkFolder.account_id == account.id)
    return list(db.session.scalars(query.order_by(BookmarkFolder.id)))


def create_folder(account: Account, name: str, emoji: str | None) -> BookmarkFolder:
    folder = BookmarkFolder(account_id=account.id, name=name)
    _set_emoji(folder, emoji)
    db.session.add(folder)
    _commit_unique_name()
    return folder


def update_folder(folder: BookmarkFolder, name: str | None, emoji: str | None) -> BookmarkFolder:
    if name is not None:
        folder.name = name
    if emoji is not None:
        _set_emoji(folder, emoji)
    _commit_unique_name()
    return folder


def delete_folder(folder: BookmarkFolder) -> None:
    """The folder goes; its bookmarks stay, unfiled (SPEC 18.5)."""
    db.session.execute(update(Bookmark).where(Bookmark.folder_id == folder.id).values(folder_id=None))
    db.session.delete(folder)
    db.session.commit()


def _commit_unique_name() -> None:
    try:
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        raise ApiError(422, "has already been taken") from error


def _set_emoji(folder: BookmarkFolder, value: str | None) -> None:
    """A single unicode emoji (fully qualified) or a local custom emoji (`blobcat`, `:blobcat:`);
    an empty value clears it."""
    import emoji as unicode_emoji  # lazy: its tables (~4 MB) only where a folder emoji is set

    value = (value or "").strip()
    if not value:
        folder.emoji, folder.emoji_url = None, None
        return
    if unicode_emoji.is_emoji(value):
        # demojize/emojize round trip gives the fully-qualified form (U+FE0F added where due).
        folder.emoji, folder.emoji_url = unicode_emoji.emojize(unicode_emoji.demojize(value)), None
        return
    shortcode = value.removeprefix(":").removesuffix(":")
    url = custom_emoji_url(shortcode) if shortcode and ":" not in shortcode else None
    if url is None:
        raise ApiError(422, "Invalid emoji")
    folder.emoji, folder.emoji_url = f":{shortcode}:", url


def custom_emoji_url(shortcode: str) -> str | None:
    """URL of a local custom emoji: `EMOJI_DIR/<pack>/pack.json` maps shortcodes to files."""
    root = Path(current_app.config["EMOJI_DIR"])
    if not root.is_dir():
        return None
    for manifest in sorted(root.glob("*/pack.json")):
        try:
            files = json.loads(manifest.read_text()).get("files") or {}
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(files, dict) and isinstance(files.get(shortcode), str):
            base = current_app.config["BASE_URL"]
            return f"{base}/emoji/{manifest.parent.name}/{files[shortcode]}"
    return None


# ---------------------------------------------------------------------------------------------
# Front-end settings store (SPEC 18.4): one JSON object per front-end name


def settings_for(account: Account, app_name: str) -> dict:
    stored = (account.settings_store or {}).get(app_name)
    return stored if isinstance(stored, dict) else {}


def merge_settings(account: Account, app_name: str, changes: dict) -> dict:
    merged = deep_merge(settings_for(account, app_name), changes)
    # A new dict, so SQLAlchemy sees the JSON column change.
    account.settings_store = {**(account.settings_store or {}), app_name: merged}
    db.session.commit()
    return merged


def deep_merge(stored: dict, changes: dict) -> dict:
    """Nested objects merge, `null` removes a key, anything else replaces."""
    result = dict(stored)
    for key, value in changes.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            current = result.get(key)
            result[key] = deep_merge(current if isinstance(current, dict) else {}, value)
        else:
            result[key] = value
    return result


# ---------------------------------------------------------------------------------------------
# Mascot (SPEC 18.1)


def mascot_of(account: Account) -> Media | None:
    mascot = db.session.get(Mascot, account.id)
    return mascot.media if mascot else None


def set_mascot(account: Account, upload: FileStorage) -> Media:
    """Store the upload like a media attachment and make it the mascot; images only (415)."""
    stored = media_service.store_file(upload, current_app.config["UPLOAD_LIMIT"])
    # The type comes from the bytes (filetype + Pillow in store_file), never the file name.
    if not stored.mime_type.startswith("image/") or not stored.meta:
        media_service.remove_file(stored.path)
        raise ApiError(415, "mascots can only be images")
    media = Media(
        id=stored.path.split("/", 1)[0],
        account_id=account.id,
        path=stored.path,
        mime_type=stored.mime_type,
        meta=stored.meta,
    )
    try:
        db.session.add(media)
        db.session.flush()
        db.session.merge(Mascot(account_id=account.id, media_id=media.id))
        db.session.commit()
    except BaseException:
        db.session.rollback()
        media_service.remove_file(stored.path)
        raise
    return media


# ---------------------------------------------------------------------------------------------
# Quotes and endorsements (SPEC 18.6, 13)


def visible_status_or_404(status_id: str, viewer: Account | None) -> Status:
    status = db.session.get(Status, status_id)
    if status is None or not status.is_visible_to(viewer):
        raise ApiError(404, "Record not found")
    return status


def quotes_of(status: Status, viewer: Account | None) -> Select:
    """Statuses quoting `status` that the reader may see, minus blocked authors either way."""
    query = Status.visible_to(viewer).where(Status.quote_id == status.id)
    if viewer is None:
        return query
    blocked = exists().where(
        or_(
            (Block.account_id == viewer.id) & (Block.target_id == Status.account_id),
            (Block.account_id == Status.account_id) & (Block.target_id == viewer.id),
        )
    )
    return query.where(~blocked)


def account_or_404(ref: str) -> Account:
    account = Account.by_id_or_nickname(ref)
    if account is None or not account.is_active:
        raise ApiError(404, "Record not found")
    return account


def endorsed_by(account: Account) -> list[Account]:
    query = (
        select(Account)
        .join(Endorsement, Endorsement.target_id == Account.id)
        .where(Endorsement.account_id == account.id, Account.is_active.is_(True))
        .order_by(Endorsement.id)
    )
    return list(db.session.scalars(query))


# ---------------------------------------------------------------------------------------------
# Health check (SPEC 10)


def health() -> dict[str, Any]:
    """Healthy when the database answers `SELECT 1`; pool figures come from SQLAlchemy's pool."""
    try:
        db.session.execute(text("SELECT 1"))
        healthy = True
    except SQLAlchemyError:
        db.session.rollback()
        healthy = False
    pool = db.engine.pool
    size = _pool_figure(pool, "size")
    active = _pool_figure(pool, "checkedout")
    return {
        "pool_size": size,
        "active": active,
        "idle": _pool_figure(pool, "checkedin"),
        "memory_used": _memory_mb(),
        "healthy": healthy,
        "job_queue_stats": _job_queue_stats(),
    }


def _pool_figure(pool: Any, name: str) -> int:
    method = getattr(pool, name, None)
    try:
        return int(method()) if callable(method) else 0
    except (TypeError, ValueError):
        return 0


def _memory_mb() -> float:
    """Peak resident memory of this process in MB (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    divisor = 1024 * 1024 if sys.platform == "darwin" else 1024
    return round(peak / divisor, 2)


def _job_queue_stats() -> dict[str, int]:
    jobs = current_app.extensions.get("kenoma_jobs")
    if jobs is None or jobs.huey.immediate:
        return {}
    try:
        return {"pending": int(jobs.huey.pending_count())}
    except Exception:  # noqa: BLE001 - a broken queue store must not break the health answer
        return {}
