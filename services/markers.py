"""Saving timeline markers (SPEC 26): one row per account and timeline, created on first save."""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update

from models import Account
from models import Marker
from models import Notification
from models import begin_write
from models import commit_keeping_loaded
from models import db
from models import utcnow


def save_markers(account: Account, last_read_ids: dict[str, str]) -> list[Marker]:
    """Set `last_read_id` of each timeline given; `version` goes up by one on every save of an
    existing marker (Mastodon's lock_version), a new marker starts at 0. Saving the notifications
    marker also marks the account's notifications up to it as seen, as Pleroma does (SPEC 20:
    `pleroma.is_seen` flips with the markers API too), so `pleroma.unread_count` counts the rest."""
    # Take the write lock before reading: two saves racing must not both insert the row.
    begin_write()
    found = {m.timeline: m for m in db.session.scalars(Marker.for_account(account, list(last_read_ids)))}
    now = utcnow()
    saved = []
    for timeline, last_read_id in last_read_ids.items():
        marker = found.get(timeline)
        if marker is None:
            marker = Marker(account_id=account.id, timeline=timeline, version=0)
            db.session.add(marker)
        else:
            marker.version += 1
        marker.last_read_id = last_read_id
        marker.updated_at = now
        saved.append(marker)
    read_up_to = Notification.parse_id(last_read_ids.get("notifications", ""))
    if read_up_to is not None:
        db.session.execute(
            update(Notification)
            .where(
                Notification.account_id == account.id,
                Notification.is_seen.is_(False),
                Notification.id <= read_up_to,
            )
            .values(is_seen=True)
        )
    db.session.flush()
    # Every column was set here, so the rows stay loaded for the answer.
    commit_keeping_loaded()
    return saved


def follow_read_notifications(account: Account) -> None:
    """Move the `notifications` marker to the newest notification `account` has seen, as Pleroma
    does whenever notifications are marked read (SPEC 14); one more `version`, as a save. The
    caller commits, so the marker moves in the same transaction as the notifications."""
    newest_id = db.session.scalar(
        select(func.max(Notification.id)).where(Notification.account_id == account.id, Notification.is_seen)
    )
    if newest_id is None:
        return
    newest_seen = str(newest_id)  # markers hold ids as strings, whatever the timeline
    # The notifications were updated first: this transaction already holds the write lock, so
    # two reads racing cannot both insert the marker.
    marker = db.session.scalars(Marker.for_account(account, ["notifications"])).first()
    if marker is None:
        marker = Marker(account_id=account.id, timeline="notifications", version=0)
        db.session.add(marker)
    elif marker.last_read_id == newest_seen:
        return
    else:
        marker.version += 1
    marker.last_read_id = newest_seen
    marker.updated_at = utcnow()
