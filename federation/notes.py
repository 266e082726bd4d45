"""Remote statuses (SPEC 24.4): a `Note` (or `Article`, `Page`, `Question`) from another server
becomes a Status with its mentions, hashtags, custom emoji, attachments (left on their server)
and thread, fetching up to MAX_ANCESTORS missing parents."""

from __future__ import annotations

import mimetypes
import uuid
from collections.abc import Callable
from datetime import UTC
from datetime import datetime
from typing import Any

from sqlalchemy import select

import formatting
from federation import actors
from federation.documents.common import visibility_from
from federation.fetch import FetchError
from federation.fetch import fetch_document
from federation.fetch import host_of
from models import Account
from models import Context
from models import Media
from models import Status
from models import db
from models import new_flake_id
from models import utcnow
from services import statuses as status_service
from services.polls import RemotePoll
from services.tags import tag_name

OBJECT_TYPES = ("Note", "Article", "Page", "Question")
MAX_ANCESTORS = 10
MAX_ATTACHMENTS = 20

# The poll an object type carries, read by the module that federates polls (a Question's).
POLL_READERS: dict[str, Callable[[dict], RemotePoll | None]] = {}


def recipients(value: Any) -> list[str]:
    """An addressing or reference field as a list of ids (a string, an object, or a list)."""
    items = value if isinstance(value, list) else [value] if value else []
    ids = [item.get("id") if isinstance(item, dict) else item for item in items]
    return [i for i in ids if isinstance(i, str) and i]


def known_status(ap_id: str) -> Status | None:
    return db.session.scalar(select(Status).where(Status.uri == ap_id).limit(1)) if ap_id else None


def attributed_to(note: dict) -> str | None:
    value = note.get("attributedTo")
    ids = recipients(value)
    return ids[0] if ids else None


def check_contained(note: dict, actor: Account) -> bool:
    """An object may only be created or changed by its author, and must live on its host."""
    ap_id = note.get("id")
    return (
        isinstance(ap_id, str)
        and host_of(ap_id) == host_of(actor.ap_id)
        and attributed_to(note) == actor.ap_id
        and note.get("type") in OBJECT_TYPES
    )


def _published(note: dict) -> datetime:
    text = note.get("published")
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return utcnow()
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return min(moment, utcnow())  # a post from the future would sit on top of every timeline


def _parent(note: dict, depth: int) -> Status | None:
    """The status replied to: known, or fetched (with its own ancestors) up to MAX_ANCESTORS."""
    ref = recipients(note.get("inReplyTo"))
    if not ref:
        return None
    found = known_status(ref[0])
    if found is not None or depth >= MAX_ANCESTORS or host_of(ref[0]) == "":
        return found
    try:
        document = fetch_document(ref[0])
    except FetchError:
        return None
    author = actors.actor(attributed_to(document) or "")
    if author is None or author.is_local or not check_contained(document, author):
        return None
    return ingest(document, author, depth + 1)


def _context(note: dict, parent: Status | None) -> Context:
    if parent is not None:
        return parent.context
    uri = note.get("context") or note.get("conversation")
    if isinstance(uri, str) and uri:
        existing = db.session.scalar(select(Context).where(Context.uri == uri[:1024]))
        if existing is not None:
            return existing
        return Context(id=None, uri=uri[:1024])
    return Context(id=None, uri=uuid.uuid4().hex)


def _addressed(note: dict, author: Account) -> dict[str, bool]:
    """Known accounts the note addresses: mentioned ones (shown in `mentions`) and the rest of
    its `to`/`cc` that are accounts here (a direct message may carry no Mention tag)."""
    mentioned = [
        str(tag.get("href"))
        for tag in note.get("tag") or []
        if isinstance(tag, dict) and tag.get("type") == "Mention" and tag.get("href")
    ]
    others = recipients(note.get("to")) + recipients(note.get("cc"))
    wanted = list(dict.fromkeys(mentioned + others))
    if not wanted:
        return {}
    rows = db.session.execute(select(Account.ap_id, Account.id).where(Account.ap_id.in_(wanted))).all()
    by_ap_id = dict(rows)
    found = {by_ap_id[ap_id]: ap_id in mentioned for ap_id in wanted if ap_id in by_ap_id}
    found.pop(author.id, None)
    return found


def _hashtags(note: dict) -> list[str]:
    names = []
    for tag in note.get("tag") or []:
        if isinstance(tag, dict) and tag.get("type") == "Hashtag":
            name = tag_name(str(tag.get("name") or ""))
            if name and name not in names:
                names.append(name)
    return names[:50]


def _media(note: dict, author: Account) -> list[Media]:
    items = note.get("attachment")
    found = []
    for item in (items if isinstance(items, list) else [items] if items else [])[:MAX_ATTACHMENTS]:
        if not isinstance(item, dict):
            continue
        url = actors.url_of(item.get("url"))
        if url is None:
            continue
        mime = str(item.get("mediaType") or mimetypes.guess_type(url)[0] or "application/octet-stream")
        meta = {"blurhash": item["blurhash"]} if isinstance(item.get("blurhash"), str) else {}
        found.append(
            Media(
                account_id=author.id,
                path="",
                remote_url=url,
                mime_type=mime[:255],
                description=str(item.get("name") or "")[:1500],
                meta=meta,
            )
        )
    return found


def _content(note: dict) -> str:
    content = note.get("content")
    if not isinstance(content, str):
        content_map = note.get("contentMap")
        content = next(iter(content_map.values()), "") if isinstance(content_map, dict) else ""
    return formatting.sanitize_html(str(content))


def _language(note: dict) -> str | None:
    content_map = note.get("contentMap")
    if isinstance(content_map, dict) and content_map:
        code = str(next(iter(content_map)))[:2].lower()
        return code if code in status_service.LANGUAGES else None
    return None


def build(note: dict, author: Account, parent: Status | None) -> Status:
    """A Status for a remote note (not stored): the column values, nothing loaded later."""
    context = _context(note, parent)
    return Status(
        id=new_flake_id(),
        account_id=author.id,
        account=author,
        uri=str(note["id"])[:1024],
        url=actors.url_of(note.get("url")),
        source="",
        content=_content(note),
        content_type="text/html",
        spoiler_text=formatting.strip_tags(str(note.get("summary") or "")),
        visibility=visibility_from(note.get("to"), note.get("cc"), author.followers_url),
        is_sensitive=bool(note.get("sensitive")),
        language=_language(note),
        in_reply_to_id=parent.id if parent else None,
        in_reply_to_account_id=parent.account_id if parent else None,
        reblog_of_id=None,
        quote_id=None,
        context_id=context.id,
        context=context,
        app_name=None,
        app_website=None,
        emojis=[],
        emoji_urls=actors.emoji_urls(note.get("tag")),
        created_at=_published(note),
        edited_at=None,
        expires_at=None,
        pinned_at=None,
        favourites_count=0,
        reblogs_count=0,
        replies_count=0,
    )


def ingest(note: dict[str, Any], author: Account, depth: int = 0) -> Status | None:
    """Store a remote note once (a known id returns the stored status)."""
    existing = known_status(str(note.get("id") or ""))
    if existing is not None:
        return existing
    parent = _parent(note, depth)
    if parent is not None and parent.account.is_local and not parent.is_visible_to(author):
        return None  # a reply to a local post its author may not see is dropped (SPEC 24.4)
    status = build(note, author, parent)
    audience = _addressed(note, author)
    if parent is not None and parent.account_id != author.id and status.visibility != "direct":
        audience.setdefault(parent.account_id, False)
    read_poll = POLL_READERS.get(str(note.get("type")))
    poll = read_poll(note) if read_poll is not None else None
    return status_service.store_remote(status, parent, audience, _hashtags(note), _media(note, author), poll)
