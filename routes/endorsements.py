"""GET /api/v1/endorsements (SPEC 3): the accounts the caller features on its profile."""

from __future__ import annotations

from apiflask import APIBlueprint
from sqlalchemy import select

import api_schemas
import serializers
from auth import me
from auth import require_auth
from models import Account
from models import Endorsement
from models import db
from openapi import responds

bp = APIBlueprint("endorsements", __name__, url_prefix="/api/v1/endorsements", tag="Accounts")


@bp.get("")
@require_auth("read:accounts")
@responds(api_schemas.Account, many=True)
def endorsements() -> list:
    """Endorsed accounts, most recently endorsed first."""
    accounts = db.session.scalars(
        select(Account)
        .join(Endorsement, Endorsement.target_id == Account.id)
        .where(Endorsement.account_id == me().id, Account.is_active)
        .order_by(Endorsement.id.desc())
    )
    return serializers.accounts_json(accounts, me())
