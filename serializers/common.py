"""Small helpers every serializer shares: timestamps and the server's own URLs."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

from flask import current_app


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 UTC with milliseconds and Z (SPEC 1.7)."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="milliseconds") + "Z"


def base_url() -> str:
    return current_app.config["BASE_URL"]


def media_url(path: str) -> str:
    return f"{base_url()}/media/{path}"


def remote_emojis(urls: dict | None) -> list[dict]:
    """Custom emoji of a remote account or status (shortcode -> image URL, SPEC 24.4), in the
    Mastodon Emoji shape."""
    return [
        {"shortcode": code, "url": url, "static_url": url, "visible_in_picker": False, "category": None}
        for code, url in (urls or {}).items()
    ]
