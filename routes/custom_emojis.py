"""Mastodon's custom emoji list (SPEC 9): the same emoji set as /api/v1/pleroma/emoji."""

from __future__ import annotations

from apiflask import APIBlueprint
from flask import Response
from flask import jsonify

import emoji_packs

bp = APIBlueprint("custom_emojis", __name__, tag="Instance")


@bp.get("/api/v1/custom_emojis")
def custom_emojis() -> Response:
    """Every custom emoji of every pack, with its pack as `category`."""
    return jsonify(emoji_packs.custom_emojis())
