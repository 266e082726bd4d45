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
from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import delete
from sqlalchemy import select

import jobs
from errors import ApiError
from models import Account
from models import Backup
from models import Bookmark
from models import Favourite
from models import Media
from models import Status
from models import StatusMention
from models import StatusTag
from models import db
from models import utcnow
from serializers import iso
from serializers import media_url
from services.media import media_root

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
AS_PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
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
    """The account as an ActivityPub Person, pointing at the archive's other files."""
    actor: dict[str, Any] = {
        "@context": [AS_CONTEXT, "https://w3id.org/security/v1"],
        "id": account.ap_id,
        "type": account.actor_type,
        "preferredUsername": account.nickname,
        "name": account.display_name or account.nickname,
        "summary": account.note_html,
        "url": account.ap_id,
        "published": iso(account.created_at),
        "manuallyApprovesFollowers": account.is_locked,
        "discoverable": account.is_discoverable,
        "alsoKnownAs": list(account.also_known_as or []),
        "attachment": [
            {"type": "PropertyValue", "name": f.get("name", ""), "value": f.get("value", "")}
            for f in account.fields or []
        ],
        "followers": f"{account.ap_id}/followers",
        "following": f"{account.ap_id}/following",
        "inbox": f"{account.ap_id}/inbox",
        "outbox": "outbox.json",
        "likes": "likes.json",
        "bookmarks": "bookmarks.json",
    }
    for key, path in (("icon", account.avatar), ("image", account.header)):
        if path:
            actor[key] = {"type": "Image", "url": media_url(path)}
    if account.public_key:
        actor["publicKey"] = {
            "id": f"{account.ap_id}#main-key",
            "owner": account.ap_id,
            "publicKeyPem": account.public_key,
        }
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
    """Create (posts) and Announce (reblogs) activities, oldest first, a chunk at a time."""
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
        related = _ChunkData(statuses)
        yield from (related.activity(status, account) for status in statuses)
        last = statuses[-1].id


class _ChunkData:
    """Addressing, tags, attachments and the uris of related statuses for a chunk of statuses."""

    def __init__(self, statuses: list[Status]) -> None:
        ids = [s.id for s in statuses]
        self.mentions: dict[str, list[str]] = defaultdict(list)
        for status_id, ap_id in db.session.execute(
            select(StatusMention.status_id, Account.ap_id)
            .join(Account, Account.id == StatusMention.account_id)
            .where(StatusMention.status_id.in_(ids))
        ):
            self.mentions[status_id].append(ap_id)
        self.tags: dict[str, list[str]] = defaultdict(list)
        for status_id, name in db.session.execute(
            select(StatusTag.status_id, StatusTag.name).where(StatusTag.status_id.in_(ids))
        ):
            self.tags[status_id].append(name)
        self.media: dict[str, list[Media]] = defaultdict(list)
        for media in db.session.scalars(
            select(Media).where(Media.status_id.in_(ids)).order_by(Media.position)
        ):
            self.media[media.status_id or ""].append(media)
        linked = (
            {s.in_reply_to_id for s in statuses}
            | {s.reblog_of_id for s in statuses}
            | {s.quote_id for s in statuses}
        )
        linked.discard(None)
        self.uris = dict(db.session.execute(select(Status.id, Status.uri).where(Status.id.in_(linked))).all())

    def activity(self, status: Status, account: Account) -> dict:
        to, cc = self._addressing(status, account)
        published = iso(status.created_at)
        if status.reblog_of_id:
            return {
                "id": status.uri,
                "type": "Announce",
                "actor": account.ap_id,
                "published": published,
                "to": to,
                "cc": cc,
                "object": self.uris.get(status.reblog_of_id),
            }
        return {
            "id": f"{status.uri}/activity",
            "type": "Create",
            "actor": account.ap_id,
            "published": published,
            "to": to,
            "cc": cc,
            "object": self._note(status, account, to, cc),
        }

    def _note(self, status: Status, account: Account, to: list[str], cc: list[str]) -> dict:
        base = current_app.config["BASE_URL"]
        context = f"{base}/contexts/{status.context.uri}"
        return {
            "id": status.uri,
            "type": "Note",
            "attributedTo": account.ap_id,
            "content": status.content,
            "source": {"content": status.source, "mediaType": status.content_type},
            "summary": status.spoiler_text,
            "sensitive": status.is_sensitive,
            "published": iso(status.created_at),
            "updated": iso(status.edited_at),
            "to": to,
            "cc": cc,
            "inReplyTo": self.uris.get(status.in_reply_to_id) if status.in_reply_to_id else None,
            "quoteUrl": self.uris.get(status.quote_id) if status.quote_id else None,
            "context": context,
            "conversation": context,
            "url": f"{base}/notice/{status.id}",
            "tag": [
                {"type": "Hashtag", "name": f"#{name}", "href": f"{base}/tag/{name}"}
                for name in self.tags.get(status.id, [])
            ]
            + [{"type": "Mention", "href": ap_id} for ap_id in self.mentions.get(status.id, [])],
            "attachment": [
                {
                    "type": "Document",
                    "mediaType": m.mime_type,
                    "url": media_url(m.path),
                    "name": m.description or None,
                }
                for m in self.media.get(status.id, [])
            ],
        }

    def _addressing(self, status: Status, account: Account) -> tuple[list[str], list[str]]:
        """to/cc by visibility, the way Pleroma addresses each kind (SPEC 1.9)."""
        followers = f"{account.ap_id}/followers"
        mentioned = self.mentions.get(status.id, [])
        if status.visibility == "public":
            return [AS_PUBLIC], [followers, *mentioned]
        if status.visibility == "unlisted":
            return [followers], [AS_PUBLIC, *mentioned]
        if status.visibility == "local":
            return [f"{current_app.config['BASE_URL']}/#Public"], [followers, *mentioned]
        if status.visibility == "private":
            return [followers, *mentioned], []
        return list(mentioned), []
