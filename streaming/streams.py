"""Stream names and what subscribing to one takes (SPEC 25.1)."""

from __future__ import annotations

from dataclasses import dataclass

import scopes

# stream -> the scopes of which the token needs one (`read` covers both kinds).
SCOPES = {
    "user": ("read:statuses",),
    "user:notification": ("read:notifications",),
    "public": ("read:statuses",),
    "public:local": ("read:statuses",),
    "public:remote": ("read:statuses",),
    "hashtag": ("read:statuses",),
    "hashtag:local": ("read:statuses",),
    "list": ("read:statuses",),
    "direct": ("read:statuses",),
}
# Readable without a token, as on Pleroma; the others are about the reader.
PUBLIC_STREAMS = ("public", "public:local", "public:remote", "hashtag", "hashtag:local")
# SSE paths (after /api/v1/streaming/) -> stream names.
SSE_PATHS = {
    "user": "user",
    "user/notification": "user:notification",
    "public": "public",
    "public/local": "public:local",
    "public/remote": "public:remote",
    "hashtag": "hashtag",
    "hashtag/local": "hashtag:local",
    "list": "list",
    "direct": "direct",
}


class StreamError(Exception):
    """A subscription refused: `code` is Pleroma's error code, `status` Mastodon's HTTP one."""

    def __init__(self, message: str, code: str, status: int) -> None:
        super().__init__(message)
        self.message, self.code, self.status = message, code, status


@dataclass(frozen=True)
class Subscription:
    stream: str
    tag: str | None = None  # hashtag streams, lower-cased without '#'
    list_id: str | None = None  # list stream

    @property
    def names(self) -> list[str]:
        """The frame's `stream` array: masto drops an event that does not name its subscription."""
        if self.tag is not None:
            return [self.stream, self.tag]
        if self.list_id is not None:
            return [self.stream, self.list_id]
        return [self.stream]


def parse(stream: str | None, tag: str | None, list_id: str | None) -> Subscription:
    """The subscription a query string or a subscribe message names."""
    if not stream or stream not in SCOPES:
        raise StreamError("Unknown stream type", "bad_topic", 400)
    if stream.startswith("hashtag"):
        name = (tag or "").strip().lstrip("#").lower()
        if not name:
            raise StreamError("No tag for stream provided", "bad_topic", 400)
        return Subscription(stream, tag=name)
    if stream == "list":
        if not list_id:
            raise StreamError("No list for stream provided", "bad_topic", 400)
        return Subscription(stream, list_id=str(list_id))
    return Subscription(stream)


def check_access(sub: Subscription, account_id: str | None, granted: frozenset[str] | None) -> None:
    """Refuse a stream the caller may not read: no token for a private stream, or a token
    without a scope it needs (None: every scope)."""
    if account_id is None:
        if sub.stream not in PUBLIC_STREAMS:
            raise StreamError("Missing access token", "unauthorized", 401)
        return
    if granted is not None and not scopes.any_covered(granted, SCOPES[sub.stream]):
        raise StreamError("Access token does not have the required scopes", "unauthorized", 403)
