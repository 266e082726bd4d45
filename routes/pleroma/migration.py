"""Aliases and account moves (SPEC 11): GET/PUT/DELETE /aliases, POST /move_account."""

from __future__ import annotations

from apiflask import APIBlueprint
from apiflask.fields import String

import api_schemas
import ratelimits
from auth import me
from auth import require_auth
from openapi import responds
from params import Params
from services import migration
from services.passwords import check_password

bp = APIBlueprint("migration", __name__, tag="Pleroma")

SUCCESS = {"status": "success"}


class AliasIn(Params):
    alias = String(required=True)


class MoveAccountIn(Params):
    password = String(required=True)
    target_account = String(required=True)


@bp.get("/aliases")
@require_auth("read:accounts")
@responds(api_schemas.Aliases)
def list_aliases() -> dict:
    """The caller's aliases as `nick@host`."""
    return {"aliases": migration.alias_names(me())}


@bp.put("/aliases")
@require_auth("write:accounts")
@bp.input(AliasIn, location="json_or_form", arg_name="data")
@responds(api_schemas.Success, 404, 422)
def add_alias(data: dict) -> dict:
    """Add an account (here or on another server) to the caller's aliases."""
    migration.add_alias(me(), data["alias"])
    return SUCCESS


@bp.delete("/aliases")
@require_auth("write:accounts")
@bp.input(AliasIn, location="json_or_form", arg_name="data")
@responds(api_schemas.Success, 404)
def delete_alias(data: dict) -> dict:
    """Remove an account from the caller's aliases."""
    migration.delete_alias(me(), data["alias"])
    return SUCCESS


@bp.post("/move_account")
@require_auth("write:accounts")
@ratelimits.password
@bp.input(MoveAccountIn, location="json_or_form", arg_name="data")
@responds(api_schemas.Success, 404)
def move_account(data: dict) -> dict:
    """Move the caller to an account that aliases it; followers follow along in a job."""
    # Pleroma quirk: a wrong password or a refused move is HTTP 200 with an error (SPEC 1.4).
    if not check_password(me(), data["password"]):
        return {"error": "Invalid password."}
    refusal = migration.move_account(me(), data["target_account"])
    return {"error": refusal} if refusal else SUCCESS
