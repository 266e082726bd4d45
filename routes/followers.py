"""The caller's followers (SPEC 26): removing one, and the followers of other accounts the caller
follows too (Mastodon's familiar followers)."""

from __future__ import annotations

from apiflask import APIBlueprint
from apiflask.fields import List

import api_schemas
import serializers
from auth import me
from auth import require_auth
from openapi import responds
from params import IdStr
from params import Length
from params import Params
from services import follows
from services.accounts import find_or_404

bp = APIBlueprint("followers", __name__, url_prefix="/api/v1/accounts", tag="Accounts")

# Bounds the IN list of one request; a profile page asks for one account.
MAX_FAMILIAR_IDS = 40


class FamiliarFollowersIn(Params):
    id = List(IdStr(validate=Length(max=18)), load_default=list, validate=Length(max=MAX_FAMILIAR_IDS))


# Static path: Werkzeug ranks it above the accounts blueprint's /<ref>.
@bp.get("/familiar_followers")
@require_auth("read:follows")
@bp.input(FamiliarFollowersIn, location="query", arg_name="data")
@responds(api_schemas.FamiliarFollowers, 422, many=True)
def familiar_followers(data: dict) -> list[dict]:
    """For each account asked about, the accounts the caller follows that follow it too."""
    return serializers.familiar_followers_json(me(), data["id"])


@bp.post("/<ref>/remove_from_followers")
@require_auth("follow", "write:follows")
@responds(api_schemas.Relationship, 400)
def remove_from_followers(ref: str) -> dict:
    """Make an account stop following the caller."""
    follower = find_or_404(ref)
    follows.remove_follower(me(), follower)
    return serializers.relationship_json(me(), follower)
