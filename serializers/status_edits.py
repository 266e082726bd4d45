"""StatusEdit (Mastodon's entity): one version of a status, for GET /api/v1/statuses/:id/history."""

from __future__ import annotations

from typing import Any
from typing import NamedTuple

import emoji_packs
from models import Account
from models import Status
from models import StatusEdit
from serializers.accounts import account_json
from serializers.common import iso
from serializers.media import attachment_json
from serializers.polls import option_shortcodes


class _KeptMedia(NamedTuple):
    """An attachment as the version kept it (the columns attachment_json reads)."""

    id: str
    path: str
    mime_type: str
    description: str | None
    focus: str | None
    meta: dict
    remote_url: str | None = None  # attachment_json reads it; a remote status' version keeps its URL


def status_edits_json(status: Status, edits: list[StatusEdit], viewer: Account | None) -> list[dict]:
    """The versions in the order given; the author and the custom emoji are loaded once."""
    account = account_json(status.account, viewer)
    shortcodes = [sc for edit in edits for sc in edit.emojis or ()]
    shortcodes += [sc for edit in edits for sc in option_shortcodes(edit.poll_options or [])]
    emoji = emoji_packs.emoji_by_shortcode(shortcodes) if shortcodes else {}
    return [_edit_json(edit, account, emoji) for edit in edits]


def _edit_json(edit: StatusEdit, account: dict, emoji: dict[str, dict]) -> dict[str, Any]:
    # Mastodon's StatusEdit shows a poll's option titles only: votes belong to the live poll.
    poll = {"options": [{"title": title} for title in edit.poll_options]} if edit.poll_options else None
    shortcodes = list(edit.emojis or ()) + option_shortcodes(edit.poll_options or [])
    return {
        "content": edit.content,
        "spoiler_text": edit.spoiler_text,
        "sensitive": edit.is_sensitive,
        "created_at": iso(edit.created_at),
        "account": account,
        "poll": poll,
        "media_attachments": [attachment_json(_KeptMedia(**m)) for m in edit.media or ()],  # type: ignore[arg-type]
        "emojis": [emoji[sc] for sc in dict.fromkeys(shortcodes) if sc in emoji],
    }
