"""Announcements (SPEC 26): made, listed and deleted by admins with the CLI; read (dismissed)
and reacted to by accounts through the API."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

import formatting
import models
from errors import ApiError
from models import Account
from models import Announcement
from models import AnnouncementReaction
from models import AnnouncementRead
from models import db
from models import new_flake_id
from services.accounts import mention_resolver
from services.reactions import normalise

NOT_FOUND = "Record not found"


def create(text: str, starts_at: datetime | None, ends_at: datetime | None, all_day: bool) -> Announcement:
    """A published announcement; `text` is plain text, linked and sanitised as a status is."""
    if not text.strip():
        raise ApiError(422, "Text can't be blank")
    if starts_at and ends_at and ends_at <= starts_at:
        raise ApiError(422, "The end must come after the start")
    rendered = formatting.render_status(
        text, "text/plain", current_app.config["BASE_URL"], mention_resolver()
    )
    now = models.utcnow()
    announcement = Announcement(
        content_source=text,
        content_html=rendered.html,
        starts_at=starts_at,
        ends_at=ends_at,
        is_all_day=all_day,
        published_at=now,
        updated_at=now,
    )
    db.session.add(announcement)
    db.session.commit()
    return announcement


def remove(announcement_id: str) -> bool:
    """Delete one announcement (its reads and reactions go with it); False if there is none."""
    deleted = db.session.execute(delete(Announcement).where(Announcement.id == announcement_id)).rowcount
    db.session.commit()
    return bool(deleted)


def active(now: datetime | None = None) -> list[Announcement]:
    return list(db.session.scalars(Announcement.active(now or models.utcnow())))


def active_or_404(announcement_id: str) -> Announcement:
    """An announcement the API may act on: only the active ones exist for accounts."""
    found = db.session.scalars(
        Announcement.active(models.utcnow()).where(Announcement.id == announcement_id)
    ).first()
    if found is None:
        raise ApiError(404, NOT_FOUND)
    return found


def dismiss(account: Account, announcement_id: str) -> None:
    """Mark the announcement read for `account`; doing it again changes nothing."""
    announcement = active_or_404(announcement_id)
    db.session.execute(
        sqlite_insert(AnnouncementRead)
        .values(
            id=new_flake_id(),
            account_id=account.id,
            announcement_id=announcement.id,
            created_at=models.utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["account_id", "announcement_id"])
    )
    db.session.commit()


def reaction_name(raw: str) -> str:
    """The stored name of a reaction: a fully-qualified unicode emoji, or a local custom emoji's
    shortcode (given bare, as Mastodon's clients send it, or between colons); else 422."""
    text = raw.strip()
    shortcode = text[1:-1] if len(text) > 2 and text.startswith(":") and text.endswith(":") else text
    if shortcode and "@" not in shortcode:
        import emoji_packs

        if emoji_packs.emoji_by_shortcode([shortcode]):
            return shortcode
    found = normalise(text, None)
    if found is None:
        raise ApiError(422, "Validation failed: Name is not a recognized emoji")
    return found[0]


def react(account: Account, announcement_id: str, raw: str) -> None:
    """Add `account`'s reaction; adding it again changes nothing."""
    announcement = active_or_404(announcement_id)
    name = reaction_name(raw)
    db.session.execute(
        sqlite_insert(AnnouncementReaction)
        .values(
            id=new_flake_id(),
            account_id=account.id,
            announcement_id=announcement.id,
            name=name,
            created_at=models.utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["announcement_id", "name", "account_id"])
    )
    db.session.commit()


def unreact(account: Account, announcement_id: str, raw: str) -> None:
    """Take `account`'s reaction back; when there is none, nothing changes."""
    announcement = active_or_404(announcement_id)
    name = reaction_name(raw)
    db.session.execute(
        delete(AnnouncementReaction).where(
            AnnouncementReaction.announcement_id == announcement.id,
            AnnouncementReaction.name == name,
            AnnouncementReaction.account_id == account.id,
        )
    )
    db.session.commit()


def all_announcements() -> list[Announcement]:
    return list(db.session.scalars(select(Announcement).order_by(Announcement.id)))
