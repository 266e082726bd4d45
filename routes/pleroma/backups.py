"""Account backups (SPEC 18.2): request a zip export, list the exports."""

from __future__ import annotations

from apiflask import APIBlueprint

import api_schemas
import serializers
from auth import me
from auth import require_auth
from openapi import responds
from services import backups

bp = APIBlueprint("backups", __name__, url_prefix="/backups", tag="Pleroma")

# Pleroma >= 2.5 asks read:backups for both methods; older versions read:accounts (SPEC 18.2).
_SCOPES = ("read:backups", "read:accounts")


@bp.get("")
@require_auth(*_SCOPES)
@responds(api_schemas.Backup, many=True)
def list_backups() -> list[dict]:
    """The caller's backups, newest first."""
    return [serializers.backup_json(b) for b in backups.list_backups(me())]


@bp.post("")
@require_auth(*_SCOPES)
@responds(api_schemas.Backup, 400, many=True)
def create_backup() -> list[dict]:
    """Start a new backup (at most one per BACKUP_LIMIT_DAYS) and list all of them."""
    return [serializers.backup_json(b) for b in backups.request_backup(me())]
