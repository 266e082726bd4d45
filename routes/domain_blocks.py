"""User-level domain blocks (SPEC 26): the remote domains the caller blocks, as strings."""

from __future__ import annotations

from apiflask import APIBlueprint
from apiflask.fields import String
from sqlalchemy import select

import api_schemas
from auth import me
from auth import require_auth
from models import DomainBlock
from openapi import paged
from openapi import responds
from pagination import PageIn
from pagination import link_header
from pagination import page_params
from pagination import paginate
from params import Length
from params import Params
from services import domain_blocks as domain_block_service

bp = APIBlueprint("domain_blocks", __name__, url_prefix="/api/v1/domain_blocks", tag="Accounts")

# Room for a pasted URL; the domain itself is checked when normalised.
_DOMAIN_INPUT = Length(max=1024)


class DomainIn(Params):
    domain = String(required=True, validate=_DOMAIN_INPUT)


@bp.get("")
@require_auth("follow", "read:blocks")
@bp.input(PageIn, location="query", arg_name="data")
@paged({"type": "string", "description": "a blocked domain"})
def domain_blocks(data: dict) -> tuple[list[str], int, dict[str, str]]:
    """Domains the caller blocks, newest block first, paged with a Link header."""
    query = select(DomainBlock).where(DomainBlock.account_id == me().id)
    rows = paginate(query, DomainBlock.id, page_params(data))
    return [row.domain for row in rows], 200, link_header([row.id for row in rows])


@bp.post("")
@require_auth("follow", "write:blocks")
@bp.input(DomainIn, location="json_or_form", arg_name="data")
@responds(api_schemas.EMPTY, 400, 422)
def block_domain(data: dict) -> dict:
    """Block a domain: its statuses and notifications are hidden, follows with it end."""
    domain_block_service.block_domain(me(), domain_block_service.normalise_domain(data["domain"]))
    return {}


# masto.js, megalodon and toot send `domain` as a JSON body on DELETE; json_or_form reads it,
# and the query string and a form too.
@bp.delete("")
@require_auth("follow", "write:blocks")
@bp.input(DomainIn, location="json_or_form", arg_name="data")
@responds(api_schemas.EMPTY, 400, 422)
def unblock_domain(data: dict) -> dict:
    """Unblock a domain."""
    domain_block_service.unblock_domain(me(), domain_block_service.normalise_domain(data["domain"]))
    return {}
