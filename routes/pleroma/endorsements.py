"""Accounts an account endorses (SPEC 13, `GET /accounts/:id/endorsements`)."""

from __future__ import annotations

from apiflask import APIBlueprint

import api_schemas
import serializers
from auth import current_account
from auth import require_auth
from openapi import responds
from services import pleroma_misc

bp = APIBlueprint("endorsements", __name__, tag="Pleroma")


@bp.get("/accounts/<account_id>/endorsements")
@require_auth("read:accounts", optional=True)
@responds(api_schemas.Account, many=True)
def list_endorsements(account_id: str) -> list[dict]:
    """The accounts this account pinned to its profile."""
    account = pleroma_misc.account_or_404(account_id)
    return serializers.accounts_json(pleroma_misc.endorsed_by(account), current_account())
