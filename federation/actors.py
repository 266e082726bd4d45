"""Remote actors (SPEC 24.4): reading an actor document into an Account, finding the actor
behind a signature's keyId, and refreshing a key that rotated."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy import select

import formatting
import jobs
from federation.fetch import FetchError
from federation.fetch import fetch_document
from federation.fetch import host_of
from models import Account
from models import db
from models import utcnow

ACTOR_TYPES = ("Person", "Service", "Application", "Group", "Organization")
# A remote profile is read again when it is used after this long (or when its key fails).
REFRESH_AFTER = timedelta(days=1)


def url_of(value: Any) -> str | None:
    """The URL of an `icon`/`image`/`url` value: a string, a Link/Image object, or a list."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("url") or value.get("href")
        return url_of(value)
    return value if isinstance(value, str) and value.startswith(("http://", "https://")) else None


def emoji_urls(tags: Any) -> dict[str, str]:
    """Custom emoji of an object's `tag` list: shortcode (without colons) -> image URL."""
    found: dict[str, str] = {}
    for tag in tags if isinstance(tags, list) else []:
        if isinstance(tag, dict) and tag.get("type") == "Emoji":
            name = str(tag.get("name") or "").strip(":")
            url = url_of(tag.get("icon"))
            if name and url and len(name) <= 100:
                found[name] = url
    return found


def _public_key(document: dict) -> tuple[str | None, str | None]:
    key = document.get("publicKey")
    if isinstance(key, list):
        key = key[0] if key else None
    if not isinstance(key, dict):
        return None, None
    return str(key.get("id") or "") or None, str(key.get("publicKeyPem") or "") or None


def _fields(attachment: Any) -> list[dict]:
    fields = []
    for item in attachment if isinstance(attachment, list) else []:
        if isinstance(item, dict) and item.get("type") == "PropertyValue":
            value = formatting.sanitize_html(str(item.get("value") or ""))
            fields.append({"name": str(item.get("name") or "")[:255], "value": value, "value_html": value})
    return fields[:20]


def is_actor(document: dict) -> bool:
    return document.get("type") in ACTOR_TYPES and isinstance(document.get("inbox"), str)


def upsert_actor(document: dict) -> Account:
    """Store or update the remote account an actor document describes. The caller has checked
    that the document came from its `id`'s host."""
    ap_id = str(document["id"])
    account = db.session.scalar(select(Account).where(Account.ap_id == ap_id))
    host = host_of(ap_id)
    nickname = str(document.get("preferredUsername") or "")[:255] or ap_id.rstrip("/").rsplit("/", 1)[-1]
    if account is None:
        account = db.session.scalar(
            select(Account).where(func.lower(Account.nickname) == nickname.lower(), Account.domain == host)
        )
    if account is None:
        account = Account(nickname=nickname, domain=host, ap_id=ap_id)
        db.session.add(account)
    elif account.domain is None:
        raise FetchError("a remote document names a local account")
    _apply(account, document)
    db.session.commit()
    return account


def _apply(account: Account, document: dict) -> None:
    endpoints = document.get("endpoints") if isinstance(document.get("endpoints"), dict) else {}
    key_id, key_pem = _public_key(document)
    account.ap_id = str(document["id"])
    account.display_name = str(document.get("name") or "")[:255]
    account.note_html = formatting.sanitize_html(str(document.get("summary") or ""))
    account.actor_type = "Service" if document.get("type") in ("Service", "Application") else "Person"
    account.is_locked = bool(document.get("manuallyApprovesFollowers"))
    account.is_discoverable = bool(document.get("discoverable"))
    capabilities = document.get("capabilities") if isinstance(document.get("capabilities"), dict) else {}
    accepts = capabilities.get("acceptsChatMessages")
    account.accepts_chat_messages = accepts if isinstance(accepts, bool) else None
    account.also_known_as = [a for a in document.get("alsoKnownAs") or [] if isinstance(a, str)][:20]
    account.inbox = str(document.get("inbox") or "") or None
    account.shared_inbox = str(endpoints.get("sharedInbox") or "") or None
    account.followers_url = document.get("followers") if isinstance(document.get("followers"), str) else None
    account.url = url_of(document.get("url")) or account.ap_id
    account.avatar_url = url_of(document.get("icon"))
    account.header_url = url_of(document.get("image"))
    account.emoji_urls = emoji_urls(document.get("tag"))
    account.fields = _fields(document.get("attachment"))
    account.key_id = key_id
    account.public_key = key_pem
    account.fetched_at = utcnow()
    moved = document.get("movedTo")
    if isinstance(moved, str):
        target = db.session.scalar(select(Account).where(Account.ap_id == moved))
        account.moved_to_id = target.id if target is not None else account.moved_to_id


def fetch_actor(ap_id: str, as_account: Account | None = None) -> Account | None:
    """Read an actor from its server and store it; None when it cannot be had or is not one."""
    try:
        document = fetch_document(ap_id, as_account)
    except FetchError:
        return None
    if not is_actor(document) or host_of(str(document.get("id") or "")) != host_of(ap_id):
        return None
    try:
        return upsert_actor(document)
    except FetchError:
        return None


def is_stale(account: Account) -> bool:
    """A remote profile older than REFRESH_AFTER is read again (in a job, by the caller)."""
    fetched = account.fetched_at
    return account.domain is not None and (fetched is None or utcnow() - fetched > REFRESH_AFTER)


@jobs.job
def refresh_actor(account_id: str) -> None:
    account = db.session.get(Account, account_id)
    if account is not None and account.domain is not None and is_stale(account):
        fetch_actor(account.ap_id)


def known_actor(ap_id: str) -> Account | None:
    return db.session.scalar(select(Account).where(Account.ap_id == ap_id))


def actor(ap_id: str) -> Account | None:
    """The account of an actor id: stored, or fetched now."""
    return known_actor(ap_id) or fetch_actor(ap_id)


def _key_owner(document: dict) -> str | None:
    key = document.get("publicKey")
    owner = (
        document.get("owner") or (key.get("owner") if isinstance(key, dict) else None) or document.get("id")
    )
    return owner if isinstance(owner, str) else None


def actor_for_key(key_id: str, refresh: bool = False) -> Account | None:
    """The remote account a signature's keyId belongs to. Known keys are used as stored unless
    `refresh` (the signature failed: the key may have rotated, so read the actor once more)."""
    account = db.session.scalar(select(Account).where(Account.key_id == key_id, Account.domain.is_not(None)))
    if account is not None and not refresh:
        return account
    try:
        url = key_id.split("#", 1)[0]
        document = fetch_document(url)
        owner = _key_owner(document)
        if not is_actor(document) and owner and owner != url:
            # The keyId named a Key document, or (GoToSocial) a stub of the actor with only its
            # key: the owner's own document says where to deliver.
            document = fetch_document(owner)
    except FetchError:
        return account
    if not is_actor(document) or _public_key(document)[0] != key_id:
        return account
    if host_of(str(document["id"])) != host_of(key_id):
        return account
    try:
        return upsert_actor(document)
    except FetchError:
        return None
