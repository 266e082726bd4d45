"""Markers (SPEC 26): where the account stopped reading its home timeline and notifications."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import false
from sqlalchemy import func
from sqlalchemy import select

from models import Account
from models import Marker
from models import Notification
from models import db
from serializers.common import iso


def marker_json(marker: Marker, unread_count: int = 0) -> dict:
    """One marker. The notifications marker always carries Pleroma's `pleroma.unread_count`:
    megalodon fails on a notifications marker without it."""
    out: dict = {
        "last_read_id": marker.last_read_id,
        "version": marker.version,
        "updated_at": iso(marker.updated_at),
    }
    if marker.timeline == "notifications":
        out["pleroma"] = {"unread_count": unread_count}
    return out


def markers_json(markers: Iterable[Marker], owner: Account) -> dict:
    """`{timeline: Marker}` for the markers given; the unread count is loaded once, and only
    when a notifications marker is among them."""
    markers = list(markers)
    unread = 0
    if any(marker.timeline == "notifications" for marker in markers):
        # Pleroma counts every unseen notification of the account, as the account's own
        # `pleroma.unread_notifications_count` does.
        unread = db.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.account_id == owner.id, Notification.is_seen == false())
        )
    return {marker.timeline: marker_json(marker, unread or 0) for marker in markers}
