"""`GET /api/account/confirm_email/:id/:token` (SPEC 26): the link mailed at registration when
`ACCOUNT_ACTIVATION_REQUIRED` is on, at Pleroma's path. As Pleroma does, it confirms the account
and sends the browser to the front page, where the user can now log in."""

from __future__ import annotations

from apiflask import APIBlueprint
from flask import Response
from flask import redirect

import ratelimits
from openapi import LOCATION_HEADER
from openapi import responds
from services import email_confirmation

bp = APIBlueprint("email_confirmation", __name__, url_prefix="/api/account", tag="Accounts")


@bp.get("/confirm_email/<account_id>/<token>")
@ratelimits.password_reset  # guesses at links count against the same budget as reset links
@responds(None, 404, status=302, headers=LOCATION_HEADER)
def confirm_email(account_id: str, token: str) -> Response:
    """Confirm the e-mail address of a new account with its one-use link."""
    email_confirmation.confirm(account_id, token)
    return redirect("/", code=302)
