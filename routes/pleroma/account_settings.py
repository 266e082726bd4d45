"""Password-protected account management (delete, disable, change password or e-mail) and
notification settings (SPEC 11).

Pleroma quirk kept (SPEC 1.4, 21.1): a wrong password or a rejected change answers HTTP 200 with
`{"error": ...}`; only missing params (400) and missing scope (403) use error statuses.
"""

from __future__ import annotations

from apiflask import APIBlueprint
from apiflask.fields import String

import api_schemas
import ratelimits
from auth import current_identity
from auth import me
from auth import require_auth
from openapi import responds
from params import Bool
from params import Params
from services import security
from services.passwords import check_password

bp = APIBlueprint("account_settings", __name__, tag="Pleroma")

SUCCESS = {"status": "success"}
WRONG_PASSWORD = {"error": "Invalid password."}


class PasswordIn(Params):
    password = String(load_default="")  # missing counts as wrong (SPEC 11)


class ChangePasswordIn(Params):
    password = String(required=True)
    new_password = String(required=True)
    new_password_confirmation = String(required=True)


class ChangeEmailIn(Params):
    password = String(required=True)
    email = String(required=True)


class NotificationSettingsIn(Params):
    block_from_strangers = Bool(load_default=None)
    hide_notification_contents = Bool(load_default=None)


@bp.post("/delete_account")
@bp.delete("/delete_account")
@require_auth("write:accounts")
@ratelimits.password
@bp.input(PasswordIn, location="json_or_form", arg_name="data")
@responds(api_schemas.Success)
def delete_account(data: dict) -> dict:
    """Delete the caller's account; its nickname stays reserved."""
    if not check_password(me(), data["password"]):
        return WRONG_PASSWORD
    security.delete_account(me())
    return SUCCESS


@bp.post("/disable_account")
@require_auth("write:accounts")
@ratelimits.password
@bp.input(PasswordIn, location="json_or_form", arg_name="data")
@responds(api_schemas.Success)
def disable_account(data: dict) -> dict:
    """Deactivate the caller's account: no more logins, its tokens stop working."""
    if not check_password(me(), data["password"]):
        return WRONG_PASSWORD
    security.disable_account(me())
    return SUCCESS


@bp.post("/change_password")
@require_auth("write:accounts")
@ratelimits.password
@bp.input(ChangePasswordIn, location="json_or_form", arg_name="data")
@responds(api_schemas.Success)
def change_password(data: dict) -> dict:
    """Set a new password; every other token and session of the account ends."""
    if not check_password(me(), data["password"]):
        return WRONG_PASSWORD
    if not data["new_password"]:
        return {"error": "New password can't be blank."}
    if data["new_password"] != data["new_password_confirmation"]:
        return {"error": "New password does not match confirmation."}
    identity = current_identity()
    security.change_password(me(), data["new_password"], keep=identity.token if identity else None)
    return SUCCESS


@bp.post("/change_email")
@require_auth("write:accounts")
@ratelimits.password
@bp.input(ChangeEmailIn, location="json_or_form", arg_name="data")
@responds(api_schemas.Success)
def change_email(data: dict) -> dict:
    """Change (or with "" clear) the caller's e-mail address."""
    if not check_password(me(), data["password"]):
        return WRONG_PASSWORD
    refusal = security.change_email(me(), data["email"])
    return {"error": refusal} if refusal else SUCCESS


@bp.put("/notification_settings")
@require_auth("write:accounts")
@bp.input(NotificationSettingsIn, location="json_or_form", arg_name="data")
@responds(api_schemas.Success)
def notification_settings(data: dict) -> dict:
    """Switch block_from_strangers / hide_notification_contents; the others keep their value."""
    security.update_notification_settings(me(), {k: v for k, v in data.items() if v is not None})
    return SUCCESS
