"""GET /api/v1/mutes (SPEC 3): the accounts the caller mutes, newest mute first."""

from __future__ import annotations

from apiflask import APIBlueprint
from sqlalchemy import select

import api_schemas
from auth import me
from auth import require_auth
from models import Account
from models import Mute
from openapi import paged
from pagination import page_params
from pagination import paginate
from routes.accounts import PageIn
from routes.accounts import account_page

bp = APIBlueprint("mutes", __name__, url_prefix="/api/v1/mutes", tag="Accounts")


@bp.get("")
@require_auth("follow", "read:mutes")
@bp.input(PageIn, location="query", arg_name="data")
@paged(api_schemas.Account)
def mutes(data: dict) -> tuple[list, int, dict]:
    """Muted accounts (expired mutes left out), paged on the mute with a Link header."""
    query = (
        select(Mute.id, Account)
        .join(Account, Account.id == Mute.target_id)
        .where(Mute.account_id == me().id, Mute.active(), Account.is_active)
    )
    rows = paginate(query, Mute.id, page_params(data), scalars=False)
    return account_page(rows, me(), data["with_relationships"])
