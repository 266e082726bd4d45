"""Actors: a local account's Person/Service (SPEC 24.1) and the instance actor, plus the Emoji
tags both actors and notes carry."""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from flask import current_app

import emoji_packs
import formatting
import keys
from federation.documents.common import followers_of
from federation.documents.common import with_context
from models import Account
from serializers.common import base_url
from serializers.common import iso
from serializers.common import media_url

# Local emoji carry no edit time; Pleroma dates them at the epoch too, which keeps a remote cache
# of them valid.
EMOJI_UPDATED = "1970-01-01T00:00:00Z"


def media_type(path: str) -> str:
    return mimetypes.guess_type(path)[0] or "application/octet-stream"


def emoji_tags(shortcodes: Iterable[str]) -> list[dict]:
    """Emoji tags of the local custom emoji among `shortcodes` (unknown ones are skipped)."""
    wanted = list(dict.fromkeys(shortcodes))
    if not wanted:
        return []
    known = emoji_packs.loaded_emoji()
    tags = []
    for shortcode in wanted:
        emoji = known.get(shortcode)
        if emoji is None:
            continue
        url = base_url() + emoji.image_url
        tags.append(
            {
                "id": url,
                "type": "Emoji",
                "name": f":{shortcode}:",
                "icon": {"type": "Image", "mediaType": media_type(emoji.file), "url": url},
                "updated": EMOJI_UPDATED,
            }
        )
    return tags


def _image(path: str | None) -> dict | None:
    if not path:
        return None
    return {"type": "Image", "mediaType": media_type(path), "url": media_url(path)}


def _fields(account: Account) -> list[dict]:
    # The HTML value is what other servers show (Mastodon's profile metadata).
    return [
        {"type": "PropertyValue", "name": f.get("name", ""), "value": f.get("value_html", f.get("value", ""))}
        for f in account.fields or []
    ]


def _profile_shortcodes(account: Account) -> list[str]:
    texts = [account.display_name, account.note_source]
    for field in account.fields or []:
        texts += [str(field.get("name", "")), str(field.get("value", ""))]
    return formatting.find_shortcodes("\n".join(texts))


def actor_object(account: Account) -> dict:
    """A local account's actor, without `@context` (embedded in Update)."""
    ap_id = account.ap_id
    data: dict[str, Any] = {
        "id": ap_id,
        "type": "Service" if account.actor_type == "Service" else "Person",
        "preferredUsername": account.nickname,
        "name": account.display_name or account.nickname,
        "summary": account.note_html,
        "url": ap_id,
        "inbox": f"{ap_id}/inbox",
        "outbox": f"{ap_id}/outbox",
        "followers": followers_of(account),
        "following": f"{ap_id}/following",
        "featured": f"{ap_id}/collections/featured",
        "endpoints": {"sharedInbox": f"{base_url()}/inbox"},
        "publicKey": {"id": f"{ap_id}#main-key", "owner": ap_id, "publicKeyPem": account.public_key or ""},
        "manuallyApprovesFollowers": account.is_locked,
        "discoverable": account.is_discoverable,
        "published": iso(account.created_at),
        "attachment": _fields(account),
        "tag": emoji_tags(_profile_shortcodes(account)),
        # Another server checks these when an account moves here (SPEC 11, move_account).
        "alsoKnownAs": list(account.also_known_as or []),
        # Pleroma sends chat messages only to actors that say they take them.
        "capabilities": {"acceptsChatMessages": account.accepts_chat_messages is not False},
    }
    if account.moved_to_id is not None and account.moved_to is not None:
        data["movedTo"] = account.moved_to.ap_id
    icon, image = _image(account.avatar), _image(account.header)
    if icon is not None:
        data["icon"] = icon
    if image is not None:
        data["image"] = image
    return data


def actor(account: Account) -> dict:
    """The document at /users/<nickname>."""
    return with_context(actor_object(account))


# Pleroma's name for its instance actor; WebFinger answers for it too (GoToSocial, for one,
# checks an actor's `preferredUsername@host` over WebFinger before it trusts the key).
INSTANCE_ACTOR_NICKNAME = "internal.fetch"


def instance_actor_id() -> str:
    return f"{base_url()}/internal/fetch"


def instance_actor() -> dict:
    """The instance actor at /internal/fetch: an Application that signs the fetches no account
    makes (a key lookup before any account is involved, thread back-fill)."""
    ap_id = instance_actor_id()
    _, public_pem = keys.instance_actor_keys(Path(current_app.instance_path))
    return with_context(
        {
            "id": ap_id,
            "type": "Application",
            "preferredUsername": INSTANCE_ACTOR_NICKNAME,
            "name": current_app.config.get("INSTANCE_NAME") or "Kenoma",
            "url": ap_id,
            "inbox": f"{ap_id}/inbox",
            "outbox": f"{ap_id}/outbox",
            "followers": f"{ap_id}/followers",
            "following": f"{ap_id}/following",
            "endpoints": {"sharedInbox": f"{base_url()}/inbox"},
            "publicKey": {"id": f"{ap_id}#main-key", "owner": ap_id, "publicKeyPem": public_pem},
            "manuallyApprovesFollowers": False,
            "discoverable": False,
        }
    )
