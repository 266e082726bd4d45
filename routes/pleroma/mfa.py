"""Multi-factor authentication settings (SPEC 12): TOTP setup, confirm, disable, backup codes."""

from __future__ import annotations

from apiflask import APIBlueprint
from apiflask.fields import String

import api_schemas
import ratelimits
from auth import me
from auth import require_auth
from errors import ApiError
from openapi import responds
from params import IdStr
from params import Params
from services import security
from services.passwords import check_password

bp = APIBlueprint("mfa", __name__, tag="Pleroma")

METHODS = ("totp",)


class ConfirmIn(Params):
    password = String(load_default=None)
    code = IdStr(load_default=None)  # some clients send the digits as a JSON number


class PasswordIn(Params):
    password = String(load_default="")


@bp.get("/accounts/mfa")
@require_auth("read:security")
@responds(api_schemas.MfaSettings)
def mfa_settings() -> dict:
    """Which second factors the caller has."""
    return {"settings": security.mfa_state(me())}


@bp.get("/accounts/mfa/setup/<method>")
@require_auth("write:security")
@responds(api_schemas.MfaSetup, 400)
def setup_mfa(method: str) -> dict:
    """Start a TOTP setup: a new secret and its provisioning URI, unconfirmed until confirm."""
    if method not in METHODS:
        raise ApiError(400, "undefined method")
    import segno  # lazy: only where MFA is being set up

    key, uri = security.setup_totp(me())
    # [Kenoma] also a QR code of the URI, for clients that cannot draw one themselves.
    return {"key": key, "provisioning_uri": uri, "qr_code": segno.make(uri).svg_data_uri(scale=4)}


@bp.post("/accounts/mfa/confirm/<method>")
@require_auth("write:security")
@ratelimits.password
@bp.input(ConfirmIn, location="json_or_form", arg_name="data")
@responds(api_schemas.EMPTY, 400, 422)
def confirm_mfa(method: str, data: dict) -> dict:
    """Turn TOTP on with the current password and a code from the new secret."""
    if method not in METHODS or data["password"] is None or data["code"] is None:
        raise ApiError(400, "undefined mfa method")
    # MFA endpoints answer a wrong password with 422, unlike account management (SPEC 21.1).
    if not check_password(me(), data["password"]):
        raise ApiError(422, "Invalid password.")
    if not security.confirm_totp(me(), data["code"]):
        raise ApiError(422, "invalid_token")
    return {}


@bp.delete("/accounts/mfa/<method>")
@require_auth("write:security")
@ratelimits.password
@bp.input(PasswordIn, location="json_or_form", arg_name="data")
@responds(api_schemas.EMPTY, 400, 422)
def disable_mfa(method: str, data: dict) -> dict:
    """Remove TOTP (`totp`) or every second factor (`mfa`)."""
    if method not in ("totp", "mfa"):
        raise ApiError(400, "undefined mfa method")
    if not check_password(me(), data["password"]):
        raise ApiError(422, "Invalid password.")
    if method == "totp":
        security.disable_totp(me())
    else:
        security.disable_mfa(me())
    return {}


@bp.get("/accounts/mfa/backup_codes")
@require_auth("write:security")
@responds(api_schemas.BackupCodes)
def backup_codes() -> dict:
    """New single-use recovery codes, shown once; they replace the previous ones."""
    return {"codes": security.new_backup_codes(me())}
