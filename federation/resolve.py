"""Looking up a remote post by its URL (search with `resolve=true`, SPEC 24.4): fetch it signed
as the searching account, check it belongs to its author's host, and store it."""

from __future__ import annotations

from federation import actors
from federation import notes
from federation.fetch import FetchError
from federation.fetch import fetch_document
from federation.fetch import host_of
from models import Account
from models import Status


def resolve_object(url: str, viewer: Account | None = None) -> Status | None:
    """The status `url` names: known, or fetched (as `viewer`, else as the instance actor)."""
    if not url:
        return None
    known = notes.known_status(url)
    if known is not None:
        return known
    try:
        document = fetch_document(url, viewer)
    except FetchError:
        return None
    if document.get("type") not in notes.OBJECT_TYPES or host_of(str(document.get("id") or "")) != host_of(
        url
    ):
        return None
    author = actors.actor(notes.attributed_to(document) or "")
    if author is None or author.is_local or not notes.check_contained(document, author):
        return None
    return notes.ingest(document, author)
