"""Mastodon's custom emoji list (SPEC 9): the same emoji set as /api/v1/pleroma/emoji."""

from __future__ import annotations

from apiflask import APIBlueprint
from flask import Response
from flask import jsonify

import api_schemas
import emoji_packs
from openapi import responds

bp = APIBlueprint("custom_emojis", __name__, tag="Instance")


@bp.get("/api/v1/custom_emojis")
@responds(api_schemas.Emoji, many=True)
def custom_emojis() -> Response:
    """Every custom emoji of every pack, with its pack as `category`."""
    return jsonify(emoji_packs.custom_emojis())
