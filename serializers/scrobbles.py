"""Scrobbles (listens)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from models import Account
from models import db
from serializers.accounts import account_json
from serializers.common import iso


def scrobbles_json(scrobbles: Iterable[Any], owner: Account, viewer: Account | None) -> list[dict]:
    """Listens of one account: the account is serialised once for the whole page."""
    account = account_json(owner, viewer)
    return [
        {
            "id": s.id,
            "account": account,
            "title": s.title,
            "artist": s.artist,
            "album": s.album,
            "length": s.length,
            "external_link": s.external_link,
            "created_at": iso(s.created_at),
        }
        for s in scrobbles
    ]


def scrobble_json(scrobble: Any, viewer: Account | None) -> dict:
    owner = db.session.get(Account, scrobble.account_id)
    assert owner is not None
    return scrobbles_json([scrobble], owner, viewer)[0]
