"""GET /api/v1/blocks (SPEC 3): the accounts the caller blocks, newest block first."""

from __future__ import annotations

from apiflask import APIBlueprint
from sqlalchemy import select

import api_schemas
from auth import me
from auth import require_auth
from models import Account
from models import Block
from openapi import paged
from pagination import page_params
from pagination import paginate
from routes.accounts import PageIn
from routes.accounts import account_page

bp = APIBlueprint("blocks", __name__, url_prefix="/api/v1/blocks", tag="Accounts")


@bp.get("")
@require_auth("follow", "read:blocks")
@bp.input(PageIn, location="query", arg_name="data")
@paged(api_schemas.Account)
def blocks(data: dict) -> tuple[list, int, dict]:
    """Blocked accounts, paged on the block (newest first) with a Link header."""
    query = (
        select(Block.id, Account)
        .join(Account, Account.id == Block.target_id)
        .where(Block.account_id == me().id, Account.is_active)
    )
    rows = paginate(query, Block.id, page_params(data), scalars=False)
    return account_page(rows, me(), data["with_relationships"])
