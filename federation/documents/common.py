"""What every ActivityPub document shares: the JSON-LD context, addressing (SPEC 24.2) and the
collection shapes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from models import Account
from models import Status
from serializers.common import base_url
from serializers.common import iso

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
# The spellings of the public collection other servers send (compacted against the AS context).
PUBLIC_ALIASES = frozenset({PUBLIC, "as:Public", "Public"})

# The two W3C contexts, then the extension terms Kenoma's documents use that they do not define
# (Mastodon's toot:, Pleroma's litepub:, schema.org for profile fields, OStatus' conversation).
CONTEXT: list[Any] = [
    "https://www.w3.org/ns/activitystreams",
    "https://w3id.org/security/v1",
    {
        "as": "https://www.w3.org/ns/activitystreams#",
        "toot": "http://joinmastodon.org/ns#",
        "litepub": "http://litepub.social/ns#",
        "schema": "http://schema.org#",
        "ostatus": "http://ostatus.org#",
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "sensitive": "as:sensitive",
        "Hashtag": "as:Hashtag",
        "quoteUrl": "as:quoteUrl",
        "alsoKnownAs": {"@id": "as:alsoKnownAs", "@type": "@id"},
        "movedTo": {"@id": "as:movedTo", "@type": "@id"},
        "conversation": {"@id": "ostatus:conversation", "@type": "@id"},
        "Emoji": "toot:Emoji",
        "discoverable": "toot:discoverable",
        "featured": {"@id": "toot:featured", "@type": "@id"},
        "blurhash": "toot:blurhash",
        "votersCount": "toot:votersCount",
        "EmojiReact": "litepub:EmojiReact",
        "ChatMessage": "litepub:ChatMessage",
        "capabilities": "litepub:capabilities",
        "acceptsChatMessages": "litepub:acceptsChatMessages",
        "PropertyValue": "schema:PropertyValue",
        "value": "schema:value",
    },
]

ACTIVITY_JSON = "application/activity+json"


def with_context(document: dict) -> dict:
    """The document as a top-level one: `@context` first."""
    return {"@context": CONTEXT, **document}


def without_context(document: dict) -> dict:
    """A document to embed in another (an activity's object, a page's item)."""
    return {k: v for k, v in document.items() if k != "@context"}


def followers_of(account: Account) -> str:
    """The followers collection of an account; a remote actor's is read from its document."""
    return account.followers_url or f"{account.ap_id}/followers"


def addressing(status: Status, mentioned: Iterable[str] = ()) -> tuple[list[str], list[str]]:
    """(to, cc) of a status from its visibility, as Pleroma addresses them (SPEC 24.2).
    `mentioned`: the ap_ids of the accounts it addresses (its StatusMention rows)."""
    followers = followers_of(status.account)
    others = [ap_id for ap_id in dict.fromkeys(mentioned) if ap_id != status.account.ap_id]
    if status.visibility == "public":
        return [PUBLIC], [followers, *others]
    if status.visibility == "unlisted":
        return [followers], [PUBLIC, *others]
    if status.visibility == "private":
        return [followers, *others], []
    if status.visibility == "local":  # never federated; addressed as Pleroma's local public
        return [f"{base_url()}/#Public"], [followers, *others]
    return others, []


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [v if isinstance(v, str) else str((v or {}).get("id", "")) for v in value]


def visibility_from(to: Any, cc: Any, followers_url: str | None) -> str:
    """The visibility an inbound object's addressing means: the inverse of addressing()."""
    to_list, cc_list = _as_list(to), _as_list(cc)
    if PUBLIC_ALIASES.intersection(to_list):
        return "public"
    if PUBLIC_ALIASES.intersection(cc_list):
        return "unlisted"
    if followers_url and followers_url in to_list + cc_list:
        return "private"
    return "direct"


def tombstone(ap_id: str, former_type: str | None = None, deleted: Any = None) -> dict:
    """What stands for a deleted object (embedded in a Delete, or served with a 410)."""
    data: dict[str, Any] = {"id": ap_id, "type": "Tombstone"}
    if former_type:
        data["formerType"] = former_type
    if deleted is not None:
        data["deleted"] = iso(deleted)
    return data


def ordered_collection(collection_id: str, total: int, first: str | dict | None = None) -> dict:
    """A collection's head: its size and, when its items may be read, where paging starts."""
    data: dict[str, Any] = {"id": collection_id, "type": "OrderedCollection", "totalItems": total}
    if first is not None:
        data["first"] = first
    return with_context(data)


def ordered_collection_page(
    page_id: str, collection_id: str, items: list[Any], next_id: str | None = None, total: int | None = None
) -> dict:
    """One page of a collection: `items` newest first, `next` when more may follow."""
    data: dict[str, Any] = {"id": page_id, "type": "OrderedCollectionPage", "partOf": collection_id}
    if total is not None:
        data["totalItems"] = total
    data["orderedItems"] = items
    if next_id is not None:
        data["next"] = next_id
    return with_context(data)
