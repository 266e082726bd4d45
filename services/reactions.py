"""Emoji reactions (SPEC 16): which emoji are accepted, and reacting / unreacting."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy import select

from errors import ApiError
from models import Account
from models import EmojiReaction
from models import Status
from models import begin_write
from models import db
from services.notifications import notify
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
            select(EmojiReaction.url).where(EmojiReaction.status_id == status.id, EmojiReaction.emoji == shortcode)
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
    status = db.session.get(Status, status_id)
    if status is None or status.is_reblog or not status.is_visible_to(viewer):
        return None
    return status


def react(account: Account, status_id: str, raw: str) -> Status:
    status = visible_status(status_id, account)
    accepted = normalise(raw, status) if status else None
    if status is None or accepted is None:
        raise ApiError(400, "Could not add reaction emoji")
    name, url = accepted
    begin_write()  # two racing reactions must not both find none and both insert one
    exists = db.session.scalar(
        select(EmojiReaction.id).where(
            EmojiReaction.status_id == status.id, EmojiReaction.account_id == account.id, EmojiReaction.emoji == name
        )
    )
    if exists is None:  # reacting twice with the same emoji changes nothing
        db.session.add(EmojiReaction(status_id=status.id, account_id=account.id, emoji=name, url=url))
        notify(status.account_id, account, "pleroma:emoji_reaction", status=status, emoji=name, emoji_url=url)
        db.session.commit()
    return status


def unreact(account: Account, status_id: str, raw: str) -> Status:
    status = visible_status(status_id, account)
    accepted = normalise(raw, status) if status else None
    if status is None or accepted is None:
        raise ApiError(400, "Could not remove reaction emoji")
    name, _ = accepted
    removed = db.session.execute(
        delete(EmojiReaction).where(
            EmojiReaction.status_id == status.id, EmojiReaction.account_id == account.id, EmojiReaction.emoji == name
        )
    )
    if not removed.rowcount:
        raise ApiError(400, "Could not remove reaction emoji")
    withdraw("pleroma:emoji_reaction", account.id, status_id=status.id, emoji=name)
    db.session.commit()
    return status
