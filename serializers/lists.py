"""Mastodon's List entity (SPEC 26)."""

from __future__ import annotations

from models import List


def list_json(user_list: List) -> dict:
    return {
        "id": user_list.id,
        "title": user_list.title,
        "replies_policy": user_list.replies_policy,
        "exclusive": user_list.is_exclusive,
    }
