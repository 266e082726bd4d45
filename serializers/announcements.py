"""Announcement (SPEC 26, Mastodon's Announcement entity) with its reactions."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func
from sqlalchemy import select

import formatting
from models import Account
from models import Announcement
from models import AnnouncementReaction
from models import AnnouncementRead
from models import db
from serializers.common import iso


def announcements_json(announcements: list[Announcement], viewer: Account) -> list[dict]:
    """The announcements as `viewer` sees them (`read`, `reactions[].me`): two queries for the
    whole list, whatever its length; custom emoji come from the loaded packs (no query)."""
    ids = [announcement.id for announcement in announcements]
    if not ids:
        return []
    read = set(
        db.session.scalars(
            select(AnnouncementRead.announcement_id).where(
                AnnouncementRead.account_id == viewer.id, AnnouncementRead.announcement_id.in_(ids)
            )
        )
    )
    mine = func.max(AnnouncementReaction.account_id == viewer.id)
    rows = db.session.execute(
        select(
            AnnouncementReaction.announcement_id,
            AnnouncementReaction.name,
            func.count(),
            mine,
            func.min(AnnouncementReaction.id),
        )
        .where(AnnouncementReaction.announcement_id.in_(ids))
        .group_by(AnnouncementReaction.announcement_id, AnnouncementReaction.name)
        # In the order the reactions were first given, as Mastodon lists them.
        .order_by(func.min(AnnouncementReaction.id))
    ).all()
    import emoji_packs

    shortcodes = [name for _, name, *_ in rows]
    for announcement in announcements:
        shortcodes += formatting.find_shortcodes(announcement.content_source)
    custom = emoji_packs.emoji_by_shortcode(shortcodes)
    reactions: dict[str, list[dict]] = defaultdict(list)
    for announcement_id, name, count, me, _ in rows:
        reactions[announcement_id].append(_reaction_json(name, count, bool(me), custom.get(name)))
    return [_announcement_json(a, a.id in read, reactions[a.id], custom) for a in announcements]


def _reaction_json(name: str, count: int, me: bool, custom: dict | None) -> dict:
    out: dict = {"name": name, "count": count, "me": me}
    if custom is not None:
        out["url"] = custom["url"]
        out["static_url"] = custom["static_url"]
    return out


def _announcement_json(announcement: Announcement, read: bool, reactions: list[dict], custom: dict) -> dict:
    shortcodes = formatting.find_shortcodes(announcement.content_source)
    return {
        "id": announcement.id,
        "content": announcement.content_html,
        "starts_at": iso(announcement.starts_at),
        "ends_at": iso(announcement.ends_at),
        "all_day": announcement.is_all_day,
        "published": True,
        "published_at": iso(announcement.published_at),
        "updated_at": iso(announcement.updated_at),
        "read": read,
        "mentions": [],
        "statuses": [],
        "tags": [],
        "emojis": [custom[sc] for sc in shortcodes if sc in custom],
        "reactions": reactions,
        "pleroma": {"raw_content": announcement.content_source},
    }
