"""Mastodon's Suggestion entity (SPEC 26)."""

from __future__ import annotations

from models import Account
from serializers.accounts import accounts_json


def suggestions_json(accounts: list[Account], viewer: Account) -> list[dict]:
    """Staff accounts come as Mastodon's `staff` (4.3's `featured`), the rest as `global`
    (`most_followed`); `sources` is the newer list form of `source`."""
    out = []
    for account, body in zip(accounts, accounts_json(accounts, viewer), strict=True):
        is_staff = account.is_admin or account.is_moderator
        out.append(
            {
                "source": "staff" if is_staff else "global",
                "sources": ["featured" if is_staff else "most_followed"],
                "account": body,
            }
        )
    return out
