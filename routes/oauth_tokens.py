"""Session tokens (SPEC 19): the caller's active OAuth tokens, and revoking one of them."""

from __future__ import annotations

import re

from apiflask import APIBlueprint

import api_schemas
import serializers
from auth import me
from auth import require_auth
from errors import ApiError
from openapi import responds
from services import security

bp = APIBlueprint("oauth_tokens", __name__, tag="Sessions")

_TOKEN_ID = re.compile(r"[0-9]{1,18}")  # token ids are integers (SPEC 1.6) that SQLite can hold


@bp.get("/api/oauth_tokens")
@bp.get("/api/oauth_tokens.json")  # the path Pleroma-FE's security settings ask for
@require_auth()  # any scope: SPEC 19 skips the scope check
@responds(api_schemas.OauthTokenEntry, many=True)
def list_tokens() -> list:
    """The caller's tokens that still work."""
    return serializers.oauth_tokens_json(security.active_tokens(me()))


@bp.delete("/api/oauth_tokens/<token_id>")
@require_auth()
@responds(api_schemas.EMPTY, 400)
def revoke_token(token_id: str) -> dict:
    """Revoke one of the caller's tokens; unknown or foreign ids are ignored."""
    if not _TOKEN_ID.fullmatch(token_id):
        raise ApiError(400, "Invalid parameters")
    security.revoke_own_token(me(), int(token_id))
    return {}
