"""Emoji reactions (SPEC 16): PUT/DELETE/GET under /statuses/:id/reactions."""

from __future__ import annotations

from apiflask import APIBlueprint

import api_schemas
import serializers
from auth import current_account
from auth import current_identity
from auth import me
from auth import me_as_loaded
from auth import require_auth
from openapi import responds
from params import Bool
from params import Params
from readcache import kept_until_change
from services import interactions
from services import reactions

bp = APIBlueprint("reactions", __name__, tag="Pleroma")


class ListIn(Params):
    with_muted = Bool(load_default=False)


@bp.put("/statuses/<status_id>/reactions/<path:emoji>")
@require_auth("write:statuses")
@responds(api_schemas.Status, 400)
def put_reaction(status_id: str, emoji: str) -> dict:
    """React to a status with one emoji."""
    # The caller and the status in one statement (two loads cost more than the join).
    account, found = interactions.account_and_status(current_identity().account_id, status_id, True)
    return reactions.react_answering(me_as_loaded(account), found, emoji)


@bp.delete("/statuses/<status_id>/reactions/<path:emoji>")
@require_auth("write:statuses")
@responds(api_schemas.Status, 400)
def delete_reaction(status_id: str, emoji: str) -> dict:
    """Take back one's reaction."""
    status = reactions.unreact(me(), status_id, emoji)
    return serializers.status_json(status, me())


def _entries(status_id: str, with_muted: bool) -> list[dict]:
    # Unknown or invisible statuses answer an empty list, never 404.
    return serializers.reactions_of(status_id, current_account(), with_muted)


@bp.get("/statuses/<status_id>/reactions")
@require_auth("read:statuses", optional=True)
@kept_until_change
@bp.input(ListIn, location="query", arg_name="query")
@responds(api_schemas.Reaction, many=True)
def list_reactions(status_id: str, query: dict) -> list:
    """Reactions to a status, one entry per emoji, oldest first."""
    return serializers.reactions_json(_entries(status_id, query["with_muted"]), current_account())


@bp.get("/statuses/<status_id>/reactions/<path:emoji>")
@require_auth("read:statuses", optional=True)
@kept_until_change
@bp.input(ListIn, location="query", arg_name="query")
@responds(api_schemas.Reaction, many=True)
def list_reactions_by_emoji(status_id: str, emoji: str, query: dict) -> list:
    """Reactions to a status with one emoji (a list of zero or one entry)."""
    entries = _entries(status_id, query["with_muted"])
    wanted = reactions.normalise(emoji, None)
    name = wanted[0] if wanted else emoji.strip().strip(":")
    return serializers.reactions_json([e for e in entries if e["name"] == name], current_account())
