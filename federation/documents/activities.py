"""Activities (SPEC 24.5), each a top-level document with `@context`. Their ids come from the
caller (delivery decides them, `BASE_URL/activities/<uuid>`), except where a row already is the
activity: a reblog's uri is its Announce's id, and a status' Create is `<uri>/activity`."""

from __future__ import annotations

from typing import Any

from federation.documents.actors import actor_object
from federation.documents.actors import emoji_tags
from federation.documents.actors import instance_actor_id
from federation.documents.actors import media_type
from federation.documents.common import PUBLIC
from federation.documents.common import addressing
from federation.documents.common import followers_of
from federation.documents.common import tombstone
from federation.documents.common import with_context
from federation.documents.common import without_context
from federation.documents.notes import NoteBatch
from models import Account
from models import ChatMessage
from models import Media
from models import Status
from models import db
from serializers.common import iso


def create_id(status: Status) -> str:
    return f"{status.uri}/activity"


def create(status: Status, activity_id: str | None = None, batch: NoteBatch | None = None) -> dict:
    """Create of a local status; `batch` when a page of them is rendered at once."""
    note = (batch or NoteBatch([status])).note_object(status)
    return with_context(
        {
            "id": activity_id or create_id(status),
            "type": "Create",
            "actor": status.account.ap_id,
            "published": note["published"],
            "to": note["to"],
            "cc": note["cc"],
            "object": note,
        }
    )


def poll_vote(voter: Account, poll_status: Status, choice: str, object_id: str, activity_id: str) -> dict:
    """A vote on a poll, as Mastodon and Pleroma send it: Create of a Note whose `name` is the
    chosen option, in reply to the poll, to its author only (one per chosen option)."""
    author = poll_status.account.ap_id
    vote = {
        "id": object_id,
        "type": "Note",
        "attributedTo": voter.ap_id,
        "name": choice,
        "inReplyTo": poll_status.uri,
        "to": [author],
        "cc": [],
    }
    return with_context(
        {"id": activity_id, "type": "Create", "actor": voter.ap_id, "to": [author], "cc": [], "object": vote}
    )


def update_note(status: Status, activity_id: str) -> dict:
    """Update of an edited local status: the whole new Note."""
    note = NoteBatch([status]).note_object(status)
    return with_context(
        {
            "id": activity_id,
            "type": "Update",
            "actor": status.account.ap_id,
            "published": iso(status.edited_at or status.created_at),
            "to": note["to"],
            "cc": note["cc"],
            "object": note,
        }
    )


def chat_message(
    message: ChatMessage, author: Account, recipient: Account, object_id: str, activity_id: str
) -> dict:
    """Create of a Pleroma ChatMessage: to its one recipient, never public."""
    data: dict[str, Any] = {
        "id": object_id,
        "type": "ChatMessage",
        "attributedTo": author.ap_id,
        "to": [recipient.ap_id],
        "content": message.content,
        "published": iso(message.created_at),
        "tag": emoji_tags(message.emojis or []),
    }
    media = db.session.get(Media, message.media_id) if message.media_id else None
    if media is not None:
        data["attachment"] = [NoteBatch._attachment(media)]
    return with_context(
        {
            "id": activity_id,
            "type": "Create",
            "actor": author.ap_id,
            "to": [recipient.ap_id],
            "cc": [],
            "published": data["published"],
            "object": data,
        }
    )


def announce(reblog: Status, original: Status | None = None) -> dict:
    """Announce of a reblog row (its uri is the activity's id); `original` when already loaded."""
    if original is None:
        original = db.session.get(Status, reblog.reblog_of_id)
    author = original.account.ap_id if original is not None else None
    to, cc = addressing(reblog, [author] if author else [])
    return with_context(
        {
            "id": reblog.uri,
            "type": "Announce",
            "actor": reblog.account.ap_id,
            "published": iso(reblog.created_at),
            "to": to,
            "cc": cc,
            "object": original.uri if original is not None else None,
        }
    )


def delete(
    object_ap_id: str,
    actor: Account,
    activity_id: str,
    to: list[str] | None = None,
    cc: list[str] | None = None,
) -> dict:
    """Delete of an object (a Tombstone stands for it) or, when `object_ap_id` is the actor's
    own id, of the account itself."""
    is_actor = object_ap_id == actor.ap_id
    return with_context(
        {
            "id": activity_id,
            "type": "Delete",
            "actor": actor.ap_id,
            "to": to if to is not None else [PUBLIC],
            "cc": cc if cc is not None else [followers_of(actor)],
            "object": object_ap_id if is_actor else tombstone(object_ap_id),
        }
    )


def _interaction_addressing(account: Account, status: Status) -> tuple[list[str], list[str]]:
    # As Pleroma: the author and the actor's followers; public only when the status is.
    to = [followers_of(account), status.account.ap_id]
    return to, [PUBLIC] if status.visibility in ("public", "unlisted") else []


def like(account: Account, status: Status, activity_id: str) -> dict:
    to, cc = _interaction_addressing(account, status)
    return with_context(
        {"id": activity_id, "type": "Like", "actor": account.ap_id, "object": status.uri, "to": to, "cc": cc}
    )


def emoji_react(
    account: Account, status: Status, emoji: str, custom_emoji_url: str | None, activity_id: str
) -> dict:
    """EmojiReact (Pleroma's): `content` is the emoji; a custom one is `:shortcode:` with its
    image in `tag`. `emoji` may be given as `shortcode`, `:shortcode:` or `shortcode@host`."""
    to, cc = _interaction_addressing(account, status)
    data: dict[str, Any] = {
        "id": activity_id,
        "type": "EmojiReact",
        "actor": account.ap_id,
        "object": status.uri,
        "content": emoji,
        "to": to,
        "cc": cc,
    }
    if custom_emoji_url is not None:
        name = f":{emoji.strip(':').split('@', 1)[0]}:"
        data["content"] = name
        data["tag"] = [
            {
                "id": custom_emoji_url,
                "type": "Emoji",
                "name": name,
                "icon": {"type": "Image", "mediaType": media_type(custom_emoji_url), "url": custom_emoji_url},
            }
        ]
    return with_context(data)


def follow(follower: Account, followee: Account, activity_id: str) -> dict:
    return with_context(
        {
            "id": activity_id,
            "type": "Follow",
            "actor": follower.ap_id,
            "object": followee.ap_id,
            "to": [followee.ap_id],
            "cc": [],
        }
    )


def _answer(
    kind: str, followee: Account, follow_activity: dict | str, activity_id: str, follower: str | None
) -> dict:
    inner = without_context(follow_activity) if isinstance(follow_activity, dict) else follow_activity
    if follower is None and isinstance(inner, dict):
        follower = inner.get("actor") if isinstance(inner.get("actor"), str) else None
    return with_context(
        {
            "id": activity_id,
            "type": kind,
            "actor": followee.ap_id,
            "object": inner,
            "to": [follower] if follower else [],
            "cc": [],
        }
    )


def accept(
    followee: Account, follow_activity: dict | str, activity_id: str, follower: str | None = None
) -> dict:
    """Accept of a Follow, given as the received activity or its id (then `follower`'s ap_id
    addresses the answer)."""
    return _answer("Accept", followee, follow_activity, activity_id, follower)


def reject(
    followee: Account, follow_activity: dict | str, activity_id: str, follower: str | None = None
) -> dict:
    return _answer("Reject", followee, follow_activity, activity_id, follower)


def undo(actor: Account, inner: dict, activity_id: str) -> dict:
    """Undo of one of the actor's activities, embedded whole, addressed as it was."""
    body = without_context(inner)
    return with_context(
        {
            "id": activity_id,
            "type": "Undo",
            "actor": actor.ap_id,
            "object": body,
            "to": list(body.get("to") or []),
            "cc": list(body.get("cc") or []),
        }
    )


def block(blocker: Account, target: Account, activity_id: str) -> dict:
    return with_context(
        {
            "id": activity_id,
            "type": "Block",
            "actor": blocker.ap_id,
            "object": target.ap_id,
            "to": [target.ap_id],
            "cc": [],
        }
    )


def update_actor(account: Account, activity_id: str) -> dict:
    """Update of a profile: the whole actor, to the account's followers."""
    return with_context(
        {
            "id": activity_id,
            "type": "Update",
            "actor": account.ap_id,
            "to": [PUBLIC],
            "cc": [followers_of(account)],
            "object": actor_object(account),
        }
    )


def move(account: Account, target: Account, activity_id: str) -> dict:
    """Move of an account to `target`, which lists it in alsoKnownAs (SPEC 11)."""
    return with_context(
        {
            "id": activity_id,
            "type": "Move",
            "actor": account.ap_id,
            "object": account.ap_id,
            "target": target.ap_id,
            "to": [followers_of(account)],
            "cc": [PUBLIC],
        }
    )


def flag(
    reporter: Account | None, target: Account, statuses: list[Status], comment: str, activity_id: str
) -> dict:
    """Flag of an account and some of its statuses; `reporter` None: the instance actor reports
    (how a forwarded report hides who made it)."""
    return with_context(
        {
            "id": activity_id,
            "type": "Flag",
            "actor": reporter.ap_id if reporter is not None else instance_actor_id(),
            "content": comment,
            "object": [target.ap_id, *(s.uri for s in statuses)],
            "to": [target.ap_id],
            "cc": [],
        }
    )


def _featured_change(kind: str, account: Account, status: Status, activity_id: str) -> dict:
    return with_context(
        {
            "id": activity_id,
            "type": kind,
            "actor": account.ap_id,
            "object": status.uri,
            "target": f"{account.ap_id}/collections/featured",
            "to": [PUBLIC],
            "cc": [followers_of(account)],
        }
    )


def add(account: Account, status: Status, activity_id: str) -> dict:
    """Add of a pinned status to the account's featured collection."""
    return _featured_change("Add", account, status, activity_id)


def remove(account: Account, status: Status, activity_id: str) -> dict:
    """Remove of an unpinned status from the featured collection."""
    return _featured_change("Remove", account, status, activity_id)
