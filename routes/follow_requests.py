"""Follow requests to the caller (SPEC 3): list, authorize, reject."""

from __future__ import annotations

from apiflask import APIBlueprint
from sqlalchemy import select

import api_schemas
import serializers
from auth import me
from auth import require_auth
from models import Account
from models import Follow
from openapi import paged
from openapi import responds
from pagination import page_params
from pagination import paginate
from routes.accounts import PageIn
from routes.accounts import account_page
from services import follows
from services.accounts import find_or_404

bp = APIBlueprint("follow_requests", __name__, url_prefix="/api/v1/follow_requests", tag="Accounts")


@bp.get("")
@require_auth("read:follows")
@bp.input(PageIn, location="query", arg_name="data")
@paged(api_schemas.Account)
def follow_requests(data: dict) -> tuple[list, int, dict]:
    """Accounts waiting for the caller's answer, newest request first, with a Link header."""
    query = (
        select(Follow.id, Account)
        .join(Account, Account.id == Follow.follower_id)
        .where(Follow.followee_id == me().id, Follow.is_pending.is_(True), Account.is_active)
    )
    rows = paginate(query, Follow.id, page_params(data), scalars=False)
    return account_page(rows, me(), data["with_relationships"])


def _requester(ref: str) -> Account:
    return find_or_404(ref)


@bp.post("/<ref>/authorize")
@require_auth("follow", "write:follows")
@responds(api_schemas.Relationship)
def authorize(ref: str) -> dict:
    """Accept the request of account `ref`; the Relationship with the requester comes back."""
    requester = _requester(ref)
    follows.authorize(me(), requester)
    return serializers.relationship_json(me(), requester)


@bp.post("/<ref>/reject")
@require_auth("follow", "write:follows")
@responds(api_schemas.Relationship)
def reject(ref: str) -> dict:
    """Refuse the request of account `ref`."""
    requester = _requester(ref)
    follows.reject(me(), requester)
    return serializers.relationship_json(me(), requester)
