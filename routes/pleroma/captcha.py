"""GET /api/v1/pleroma/captcha (SPEC 10)."""

from __future__ import annotations

from apiflask import APIBlueprint

import api_schemas
from openapi import responds
from services import captchas

bp = APIBlueprint("captcha", __name__, tag="Pleroma")


@bp.get("/captcha")
@responds(api_schemas.Captcha, 500)
def get_captcha() -> dict:
    """A new captcha, or `{"type": "none"}` when captchas are off."""
    return captchas.new_captcha()
