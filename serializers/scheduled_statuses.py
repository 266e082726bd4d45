"""The ScheduledStatus entity (SPEC 26, Mastodon's ScheduledStatus): the status's `params` as the
client sent them, and the media reserved for it."""

from __future__ import annotations

from sqlalchemy import select

from models import Media
from models import ScheduledStatus
from models import db
from serializers.common import iso
from serializers.media import attachment_json


def scheduled_statuses_json(rows: list[ScheduledStatus]) -> list[dict]:
    """Several scheduled statuses; their media in one query."""
    media: dict[str, list[Media]] = {row.id: [] for row in rows}
    if rows:
        reserved = select(Media).where(Media.scheduled_status_id.in_(list(media)))
        for item in db.session.scalars(reserved):
            media[item.scheduled_status_id or ""].append(item)
    return [_render(row, media.get(row.id, [])) for row in rows]


def scheduled_status_json(row: ScheduledStatus) -> dict:
    return scheduled_statuses_json([row])[0]


def _render(row: ScheduledStatus, media: list[Media]) -> dict:
    order = {media_id: i for i, media_id in enumerate(row.params.get("media_ids") or [])}
    media = sorted(media, key=lambda item: order.get(item.id, len(order)))
    return {
        "id": row.id,
        "scheduled_at": iso(row.scheduled_at),
        "params": row.params,
        "media_attachments": [attachment_json(item) for item in media],
    }
