"""Emoji reactions (SPEC 16): which emoji are accepted, and reacting / unreacting."""

from __future__ import annotations

from blinker import Signal
from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from errors import ApiError
from models import Account
from models import EmojiReaction
from models import Status
from models import commit_keeping_loaded
from models import db
from models import new_flake_id
from models import utcnow
from precompiled import Precompiled
from serializers.statuses import StatusAnswer
from services import events
from services.interactions import status_by_id
from services.notifications import add_notifications
from services.notifications import notification_values
from services.notifications import withdraw

_VS16 = "\ufe0f"
_REGIONAL_INDICATORS = range(0x1F1E6, 0x1F200)


def _fully_qualified(text: str) -> str | None:
    """The fully-qualified form of one RGI emoji (`⚠` → `⚠️`), or None if it is not one."""
    import emoji as emoji_data  # lazy: its tables (~4 MB) load in a worker on the first reaction

    if len(text) == 1 and ord(text) in _REGIONAL_INDICATORS:
        return text
    candidates = (text, text + _VS16, text[:1] + _VS16 + text[1:])
    for candidate in candidates:
        data = emoji_data.EMOJI_DATA.get(candidate)
        if data and data.get("status") == emoji_data.STATUS["fully_qualified"]:
            return candidate
    return None


def _custom(shortcode: str, status: Status) -> tuple[str, str] | None:
    """(name, url) of a custom emoji: local from the emoji packs, remote only if already used."""
    if "@" in shortcode:
        used = db.session.scalar(
            select(EmojiReaction.url).where(
                EmojiReaction.status_id == status.id, EmojiReaction.emoji == shortcode
            )
        )
        return (shortcode, used) if used else None
    import emoji_packs

    found = emoji_packs.emoji_by_shortcode([shortcode]).get(shortcode)
    return (shortcode, found["url"]) if found else None


def normalise(raw: str, status: Status | None) -> tuple[str, str | None] | None:
    """(stored name, url) for an accepted emoji, None when the rules of SPEC 16 refuse it."""
    text = raw.strip()
    if len(text) > 2 and text.startswith(":") and text.endswith(":"):
        return _custom(text[1:-1], status) if status is not None else None
    name = _fully_qualified(text)
    return (name, None) if name else None


def visible_status(status_id: str, viewer: Account | None) -> Status | None:
    return _reactable(status_by_id(status_id), viewer)


def _reactable(status: Status | None, viewer: Account | None) -> Status | None:
    if status is None or status.is_reblog or not status.is_visible_to(viewer):
        return None
    return status


# A second identical reaction is a no-op, decided by the unique (status, account, emoji) even
# when two requests race, so nothing needs to be read under the write lock.
# Run as its compiled SQL (precompiled.py), every column given.
_ADD_REACTION = Precompiled(
    sqlite_insert(EmojiReaction).on_conflict_do_nothing(
        index_elements=[EmojiReaction.status_id, EmojiReaction.account_id, EmojiReaction.emoji]
    )
)


def react(account: Account, status_id: str, raw: str) -> Status:
    status, name, url = accepted(account, status_by_id(status_id), raw)
    add(account, status, name, url)
    return status


def accepted(account: Account, found: Status | None, raw: str) -> tuple[Status, str, str | None]:
    """(the status, the stored name, its url) of a reaction `account` may add to the status as
    loaded; 400 otherwise. Nothing is written: add() does."""
    status = _reactable(found, account)
    normalised = normalise(raw, status) if status else None
    if status is None or normalised is None:
        raise ApiError(400, "Could not add reaction emoji")
    return status, normalised[0], normalised[1]


def react_answering(viewer: Account, found: Status | None, raw: str) -> dict:
    """The viewer's reaction to the status as loaded (interactions.account_and_status), answered
    with the status: Pleroma's PUT and Akkoma's share it. The answer's facts are read before
    the write (StatusAnswer: SQLite writers queue for one lock), nothing after the commit."""
    status, name, url = accepted(viewer, found, raw)
    answer = StatusAnswer(status, viewer)
    if add(viewer, status, name, url):
        answer.reacted(name, url)
    return answer.json()


def add(account: Account, status: Status, name: str, url: str | None) -> bool:
    """Store one reaction (already normalised) with its notification; True when it is new.
    Remote reactions come here straight: their custom emoji is `shortcode@host` with its URL."""
    # Every read comes first: SQLite writers queue for one lock, held here for two inserts only.
    # No BEGIN IMMEDIATE: nothing is read under the lock, and the first insert takes it, waiting
    # on busy_timeout as BEGIN IMMEDIATE would (the transaction had no snapshot to go stale).
    notification = notification_values(
        status.account_id, account, "pleroma:emoji_reaction", status=status, emoji=name, emoji_url=url
    )
    connection = db.session.connection()
    reaction = {"status_id": status.id, "account_id": account.id, "emoji": name, "url": url}
    added = _ADD_REACTION.execute(connection, reaction | {"id": new_flake_id(), "created_at": utcnow()})
    if added.rowcount and notification is not None:
        add_notifications([notification])
    if added.rowcount:
        _announce(events.reacted, account, status, name, url)
    commit_keeping_loaded()
    return bool(added.rowcount)


def _announce(signal: Signal, account: Account, status: Status, name: str, url: str | None) -> None:
    events.emit(
        signal,
        account_id=account.id,
        status_id=status.id,
        emoji=name,
        url=url,
        local=account.is_local,
        author_local=status.account.is_local,
    )


def unreact(account: Account, status_id: str, raw: str) -> Status:
    status = visible_status(status_id, account)
    accepted = normalise(raw, status) if status else None
    if status is None or accepted is None:
        raise ApiError(400, "Could not remove reaction emoji")
    if not remove(account, status, accepted[0]):
        raise ApiError(400, "Could not remove reaction emoji")
    return status


def remove(account: Account, status: Status, name: str) -> bool:
    """Take one reaction back with its notification; False when there was none."""
    removed = (
        db.session.connection()
        .execute(
            delete(EmojiReaction)
            .where(
                EmojiReaction.status_id == status.id,
                EmojiReaction.account_id == account.id,
                EmojiReaction.emoji == name,
            )
            .returning(EmojiReaction.url)  # the Undo renders the reaction again, image included
        )
        .all()
    )
    if not removed:
        return False
    withdraw("pleroma:emoji_reaction", account.id, status_id=status.id, emoji=name)
    _announce(events.unreacted, account, status, name, removed[0][0])
    commit_keeping_loaded()
    return True
