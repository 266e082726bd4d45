"""The profile directory and follow suggestions (SPEC 26): local accounts that opted into
discovery."""

from __future__ import annotations

from apiflask import APIBlueprint
from apiflask.fields import Integer
from apiflask.fields import String
from apiflask.validators import OneOf
from apiflask.validators import Range

import api_schemas
import serializers
from auth import current_account
from auth import me
from auth import require_auth
from openapi import responds
from params import INT_MAX
from params import Bool
from params import Params
from services import suggestions as suggestion_service

bp = APIBlueprint("directory", __name__, tag="Directory")

# Mastodon's pages: 40 accounts by default, at most 80.
DEFAULT_LIMIT = 40
MAX_LIMIT = 80


def _limit(value: int | None) -> int:
    return max(1, min(value or DEFAULT_LIMIT, MAX_LIMIT))


class DirectoryIn(Params):
    offset = Integer(load_default=0, validate=Range(min=0, max=INT_MAX))
    limit = Integer(load_default=None, allow_none=True)
    order = String(load_default="active", validate=OneOf(("active", "new")))
    # Only local accounts are listed, so `local` changes nothing; accepted as Mastodon's.
    local = Bool(load_default=False)


class SuggestionsIn(Params):
    limit = Integer(load_default=None, allow_none=True)


@bp.get("/api/v1/directory")
@require_auth("read", optional=True)
@bp.input(DirectoryIn, location="query", arg_name="data")
@responds(api_schemas.Account, many=True)
def directory(data: dict) -> list[dict]:
    """Discoverable local accounts, most recently active (or newest) first."""
    viewer = current_account()
    accounts = suggestion_service.directory(viewer, data["order"], data["offset"], _limit(data["limit"]))
    return serializers.accounts_json(accounts, viewer)


@bp.get("/api/v2/suggestions")
@require_auth("read")
@bp.input(SuggestionsIn, location="query", arg_name="data")
@responds(api_schemas.Suggestion, many=True)
def suggestions(data: dict) -> list[dict]:
    """Discoverable local accounts the caller does not follow yet."""
    accounts = suggestion_service.suggestions(me(), _limit(data["limit"]))
    return serializers.suggestions_json(accounts, me())


@bp.delete("/api/v1/suggestions/<account_id>")
@require_auth("read")
@responds(api_schemas.EMPTY)
def delete_suggestion(account_id: str) -> dict:
    """Never suggest this account again; any id answers `{}`, as in Mastodon."""
    suggestion_service.dismiss(me(), account_id)
    return {}
