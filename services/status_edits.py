"""Editing a status (SPEC 26, Mastodon's "Edit a status"): the same rules and rendering as
posting, a StatusEdit row per version, and `update` notifications to those who acted on it."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy import union

from errors import ApiError
from models import Account
from models import EmojiReaction
from models import Favourite
from models import Media
from models import Notification
from models import Poll
from models import PollVote
from models import Status
from models import StatusEdit
from models import StatusMention
from models import StatusTag
from models import db
from models import utcnow
from services import events
from services.notifications import add_notifications
from services.notifications import notification_values
from services.polls import check_new_poll
from services.polls import replace_poll
from services.polls import schedule_end
from services.statuses import NewStatus
from services.statuses import check_text
from services.statuses import owned_media
from services.statuses import render_text
from services.statuses import stored_content_type
from streaming import events as stream_events

MAX_DESCRIPTION = 1500  # Mastodon's limit on an attachment's description


@dataclass
class MediaChange:
    """One `media_attributes[]` entry: new metadata for an attachment the edit keeps."""

    id: str
    description: str | None = None
    focus: str | None = None


@dataclass
class StatusChange:
    """An edit as the client sent it. Like Mastodon the edit replaces the whole status: media
    and a poll not given are removed."""

    new: NewStatus
    media_changes: list[MediaChange] = field(default_factory=list)


def own_status(author: Account, status_id: str) -> Status:
    """The author's own status; someone else's (or a reblog) is 404, like a missing one."""
    status = db.session.get(Status, status_id)
    if status is None or status.account_id != author.id or status.is_reblog:
        raise ApiError(404, "Record not found")
    return status


def edit_status(author: Account, status: Status, change: StatusChange) -> Status:
    """Check everything first (nothing is written on a 422), then apply the edit, keep the
    versions and notify. An edit that changes nothing visible stores no version."""
    new = change.new
    new.content_type = stored_content_type(new.content_type)
    media = owned_media(author, new.media_ids, editing=status)
    check_text(new, media)
    if new.poll is not None:
        check_new_poll(new.poll, bool(media))
    updates = _media_updates(media, change.media_changes)
    before = snapshot(status, status.created_at)
    if not _changes_anything(status, new, media, updates, before):
        status.language = new.language
        db.session.commit()
        return status
    rendered = render_text(new)
    now = utcnow()
    if not db.session.scalar(select(StatusEdit.id).where(StatusEdit.status_id == status.id).limit(1)):
        db.session.add(before)  # the first edit keeps the original too
    status.source = new.text
    status.content = rendered.html
    status.content_type = new.content_type
    status.spoiler_text = new.spoiler_text
    status.is_sensitive = new.sensitive
    status.language = new.language
    status.emojis = rendered.shortcodes
    status.edited_at = now
    _remention(status, {m.account_id for m in rendered.mentions} - {author.id})
    db.session.execute(delete(StatusTag).where(StatusTag.status_id == status.id))
    db.session.add_all(StatusTag(status_id=status.id, name=name) for name in rendered.tags)
    _reattach(status, media, updates)
    poll_id = replace_poll(status, new.poll)
    db.session.flush()
    db.session.add(snapshot(status, now))
    _notify_update(status, author)
    stream_events.status_updated(status.id)
    events.emit(events.status_edited, status_id=status.id)
    db.session.commit()
    if poll_id is not None and new.poll is not None:
        schedule_end(poll_id, new.poll.expires_in)
    return status


@dataclass
class RemoteVersion:
    """A remote status as its author's Update says it reads now (SPEC 24.4)."""

    content: str
    spoiler_text: str
    sensitive: bool
    emoji_urls: dict[str, str]
    media: list[Media]  # new rows, not added to the session
    edited_at: datetime
    poll_options: list[str] | None = None  # a Question's options; its counts are refreshed apart


def apply_remote_edit(status: Status, version: RemoteVersion) -> bool:
    """Another server's edit of one of its statuses: the same versions and `update`
    notifications as a local edit. False, and nothing written, when the version is older than
    the one shown or changes nothing (one of the same moment may differ: Mastodon dates edits
    to the second)."""
    if status.edited_at is not None and version.edited_at < status.edited_at:
        return False
    attached = db.session.scalars(
        select(Media).where(Media.status_id == status.id).order_by(Media.position, Media.id)
    ).all()
    same_media = [(m.remote_url, m.description) for m in attached] == [
        (m.remote_url, m.description) for m in version.media
    ]
    unchanged = (status.content, status.spoiler_text, status.is_sensitive, status.emoji_urls or {}) == (
        version.content,
        version.spoiler_text,
        version.sensitive,
        version.emoji_urls,
    )
    poll = db.session.scalar(select(Poll).where(Poll.status_id == status.id))
    new_options = poll is not None and version.poll_options not in (None, list(poll.options))
    if unchanged and same_media and not new_options:
        return False
    if not db.session.scalar(select(StatusEdit.id).where(StatusEdit.status_id == status.id).limit(1)):
        db.session.add(snapshot(status, status.created_at))
    status.content = version.content
    status.spoiler_text = version.spoiler_text
    status.is_sensitive = version.sensitive
    status.emoji_urls = version.emoji_urls
    status.edited_at = version.edited_at
    if poll is not None and new_options:  # other choices: the votes were for the old ones
        db.session.execute(delete(PollVote).where(PollVote.poll_id == poll.id))
        poll.options = list(version.poll_options or [])
    if not same_media:
        for old in attached:
            old.status_id = None  # its columns stay in the history
        for position, item in enumerate(version.media):
            item.status_id, item.position = status.id, position
            db.session.add(item)
    db.session.flush()
    db.session.add(snapshot(status, version.edited_at))
    _notify_update(status, status.account)
    stream_events.status_updated(status.id)
    db.session.commit()
    return True


def history(status: Status) -> list[StatusEdit]:
    """The versions oldest first; a status never edited has one, itself (as Mastodon answers)."""
    edits = db.session.scalars(
        select(StatusEdit)
        .where(StatusEdit.status_id == status.id)
        .order_by(StatusEdit.created_at, StatusEdit.id)
    ).all()
    return list(edits) or [snapshot(status, status.created_at)]


def snapshot(status: Status, created_at: datetime) -> StatusEdit:
    """The status as it reads now, as a version (not added to the session)."""
    media = db.session.scalars(
        select(Media).where(Media.status_id == status.id).order_by(Media.position, Media.id)
    ).all()
    options = db.session.scalar(select(Poll.options).where(Poll.status_id == status.id))
    return StatusEdit(
        status_id=status.id,
        content=status.content,
        spoiler_text=status.spoiler_text,
        is_sensitive=status.is_sensitive,
        emojis=list(status.emojis or []),
        media=[_media_columns(m) for m in media],
        poll_options=list(options) if options is not None else None,
        created_at=created_at,
    )


def _media_columns(media: Media) -> dict:
    return {
        "id": media.id,
        "path": media.path,
        "mime_type": media.mime_type,
        "description": media.description,
        "focus": media.focus,
        "meta": media.meta or {},
        "remote_url": media.remote_url,
    }


def _media_updates(media: list[Media], changes: list[MediaChange]) -> dict[str, MediaChange]:
    """The metadata changes for attachments the edit keeps (others are ignored, as Mastodon)."""
    kept = {m.id for m in media}
    updates = {}
    for change in changes:
        if change.id not in kept:
            continue
        if change.description is not None and len(change.description) > MAX_DESCRIPTION:
            raise ApiError(422, "Validation failed: Description is too long")
        if change.focus is not None and not _valid_focus(change.focus):
            raise ApiError(422, "Validation failed: Invalid focus")
        updates[change.id] = change
    return updates


def _valid_focus(focus: str) -> bool:
    x, _, y = focus.partition(",")
    try:
        return all(-1.0 <= float(v) <= 1.0 for v in (x, y))
    except ValueError:
        return False


def _changes_anything(
    status: Status, new: NewStatus, media: list[Media], updates: dict[str, MediaChange], before: StatusEdit
) -> bool:
    current_poll = db.session.scalar(select(Poll).where(Poll.status_id == status.id))
    wanted_poll = (new.poll.options, new.poll.multiple) if new.poll is not None else None
    had_poll = (current_poll.options, current_poll.is_multiple) if current_poll is not None else None
    touched = any(
        (u.description is not None and u.description != m.description)
        or (u.focus is not None and u.focus != m.focus)
        for m in media
        if (u := updates.get(m.id)) is not None
    )
    return (
        new.text != status.source
        or new.content_type != status.content_type
        or new.spoiler_text != status.spoiler_text
        or new.sensitive != status.is_sensitive
        or [m.id for m in media] != [m["id"] for m in before.media]
        or wanted_poll != had_poll
        or (new.poll is not None and current_poll is not None)  # a new expiry or hide_totals
        or touched
    )


def _remention(status: Status, mentioned: set[str]) -> None:
    """The text's mentions after the edit. Like Mastodon, newly mentioned accounts are added
    without a `mention` notification, and ones no longer named stay addressed but unlisted
    (taking back access someone was already given would only confuse)."""
    rows = {
        row.account_id: row
        for row in db.session.scalars(select(StatusMention).where(StatusMention.status_id == status.id))
    }
    for account_id, row in rows.items():
        row.is_visible = account_id in mentioned
    for account_id in mentioned - rows.keys():
        db.session.add(StatusMention(status_id=status.id, account_id=account_id, is_visible=True))


def _reattach(status: Status, media: list[Media], updates: dict[str, MediaChange]) -> None:
    kept = {m.id for m in media}
    for old in db.session.scalars(select(Media).where(Media.status_id == status.id)):
        if old.id not in kept:
            old.status_id = None  # its columns stay in the history
    for position, item in enumerate(media):
        item.status_id = status.id
        item.position = position
        change = updates.get(item.id)
        if change is not None:
            if change.description is not None:
                item.description = change.description
            if change.focus is not None:
                item.focus = change.focus


def _notify_update(status: Status, author: Account) -> None:
    """One `update` notification to every local account that reblogged, favourited, reacted to
    or quoted the status; an earlier edit's notification is replaced, so each has one."""
    acted = union(
        select(Status.account_id).where(Status.reblog_of_id == status.id),
        select(Status.account_id).where(Status.quote_id == status.id),
        select(Favourite.account_id).where(Favourite.status_id == status.id),
        select(EmojiReaction.account_id).where(EmojiReaction.status_id == status.id),
    ).subquery()
    recipients = db.session.scalars(
        select(Account.id).where(
            Account.id.in_(select(acted.c[0])), Account.domain.is_(None), Account.id != author.id
        )
    ).all()
    db.session.execute(
        delete(Notification).where(Notification.status_id == status.id, Notification.type == "update")
    )
    rows = [
        v for v in (notification_values(r, author, "update", status) for r in recipients) if v is not None
    ]
    if rows:
        add_notifications(rows)
