"""Account backups (SPEC 18.2): a zip of ActivityStreams documents — actor.json, outbox.json,
likes.json, bookmarks.json — built by a job into <instance>/media/backups/ and served from there
like any upload."""

from __future__ import annotations

import io
import json
import os
import secrets
import string
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import delete
from sqlalchemy import select

import jobs
from errors import ApiError
from federation import documents
from models import Account
from models import Backup
from models import Bookmark
from models import Favourite
from models import Status
from models import db
from models import utcnow
from services.media import media_root

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
_CHUNK = 200
_ALPHABET = string.ascii_letters + string.digits


def backups_dir() -> Path:
    return media_root() / "backups"


def list_backups(account: Account) -> list[Backup]:
    query = select(Backup).where(Backup.account_id == account.id).order_by(Backup.id.desc())
    return list(db.session.scalars(query))


def request_backup(account: Account) -> list[Backup]:
    """Record a backup, let a job build it, and answer with all of the account's backups."""
    _check_limit(account)
    stamp = utcnow().strftime("%Y%m%dT%H%M%S")
    random_part = "".join(secrets.choice(_ALPHABET) for _ in range(22))
    backup = Backup(account_id=account.id, file_name=f"archive-{account.nickname}-{stamp}-{random_part}.zip")
    db.session.add(backup)
    db.session.commit()
    jobs.enqueue("build_backup", backup_id=backup.id)
    # An inline job (tests, immediate mode) wrote through its own session: read its result.
    db.session.expire_all()
    return list_backups(account)


def _check_limit(account: Account) -> None:
    days = current_app.config["BACKUP_LIMIT_DAYS"]
    last = db.session.scalar(
        select(Backup.created_at).where(Backup.account_id == account.id).order_by(Backup.id.desc()).limit(1)
    )
    if last is not None and last > utcnow() - timedelta(days=days):
        span = "a day" if days == 1 else f"{days} days"
        raise ApiError(400, f"Last export was less than {span} ago")


@jobs.job
def build_backup(backup_id: int) -> None:
    """Write the archive next to its final name, move it into place, then mark it processed."""
    backup = db.session.get(Backup, backup_id)
    if backup is None:
        return
    account = db.session.get(Account, backup.account_id)
    if account is None:
        return
    final = backups_dir() / backup.file_name
    try:
        _write_archive(account, final)
    except Exception:
        # A failed export must not count against the rate limit: drop it so the user can retry.
        db.session.rollback()
        db.session.delete(backup)
        db.session.commit()
        raise
    backup.file_size = final.stat().st_size
    backup.is_processed = True
    _purge_older(backup)
    db.session.commit()


def _write_archive(account: Account, final: Path) -> None:
    final.parent.mkdir(parents=True, exist_ok=True)
    part = final.with_name(f".{final.name}.part")
    try:
        with zipfile.ZipFile(part, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            _write_json(archive, "actor.json", actor_document(account))
            _write_collection(archive, "outbox.json", _outbox_items(account))
            _write_collection(archive, "likes.json", _object_ids(Favourite, account))
            _write_collection(archive, "bookmarks.json", _object_ids(Bookmark, account))
        os.replace(part, final)
    finally:
        part.unlink(missing_ok=True)


def _purge_older(newest: Backup) -> None:
    """Only the newest archive is kept (SPEC 18.2 allows purging the older ones)."""
    older = db.session.scalars(
        select(Backup).where(Backup.account_id == newest.account_id, Backup.id < newest.id)
    ).all()
    for backup in older:
        (backups_dir() / backup.file_name).unlink(missing_ok=True)
    if older:
        db.session.execute(delete(Backup).where(Backup.id.in_([b.id for b in older])))


# ---------------------------------------------------------------------------------------------
# The documents


def actor_document(account: Account) -> dict[str, Any]:
    """The account's actor (federation's one renderer), pointing at the archive's other files."""
    actor = documents.actor(account)
    actor.update({"outbox": "outbox.json", "likes": "likes.json", "bookmarks": "bookmarks.json"})
    return actor


def _write_json(archive: zipfile.ZipFile, name: str, document: dict) -> None:
    archive.writestr(name, json.dumps(document, ensure_ascii=False, indent=2))


def _write_collection(archive: zipfile.ZipFile, name: str, items: Iterator[Any]) -> None:
    """An OrderedCollection written item by item, so a long history never sits in memory."""
    with io.TextIOWrapper(archive.open(name, "w"), encoding="utf-8") as out:
        out.write(
            f'{{"@context": "{AS_CONTEXT}", "id": "{name}", "type": "OrderedCollection", "orderedItems": ['
        )
        count = 0
        for item in items:
            out.write(("," if count else "") + "\n" + json.dumps(item, ensure_ascii=False))
            count += 1
        out.write(f'\n], "totalItems": {count}}}\n')


def _object_ids(model: type[Favourite] | type[Bookmark], account: Account) -> Iterator[str]:
    """ids of the objects the account liked or bookmarked, oldest first."""
    last = ""
    while True:
        rows = db.session.execute(
            select(model.id, Status.uri)
            .join(Status, Status.id == model.status_id)
            .where(model.account_id == account.id, model.id > last)
            .order_by(model.id)
            .limit(_CHUNK)
        ).all()
        if not rows:
            return
        yield from (uri for _, uri in rows)
        last = rows[-1][0]


def _outbox_items(account: Account) -> Iterator[dict]:
    """Create (posts) and Announce (reblogs) activities, oldest first, a chunk at a time; each
    chunk loads what its documents need in a few queries (federation's NoteBatch)."""
    last = ""
    while True:
        statuses = db.session.scalars(
            select(Status)
            .where(Status.account_id == account.id, Status.id > last)
            .order_by(Status.id)
            .limit(_CHUNK)
        ).all()
        if not statuses:
            return
        original_ids = {s.reblog_of_id for s in statuses if s.reblog_of_id}
        originals = {}
        if original_ids:
            originals = {
                s.id: s for s in db.session.scalars(select(Status).where(Status.id.in_(original_ids)))
            }
        batch = documents.NoteBatch([s for s in statuses if not s.reblog_of_id])
        for status in statuses:
            if status.reblog_of_id is None:
                yield documents.without_context(documents.create(status, batch=batch))
            elif status.reblog_of_id in originals:
                yield documents.without_context(documents.announce(status, originals[status.reblog_of_id]))
        last = statuses[-1].id
