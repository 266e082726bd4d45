"""`POST /auth/password` (SPEC 26): the password-reset request at Mastodon's path.

Mastodon's web form posts `user[email]` there and redirects to its sign-in page; Kenoma has no
such page and answers 204 as Pleroma does at this path, taking `email` or `nickname` too.
Whether an account matched never shows (no account probing).
"""

from __future__ import annotations

from apiflask import APIBlueprint
from apiflask.fields import Nested
from apiflask.fields import String
from flask import Response

import ratelimits
from openapi import responds
from params import Length
from params import Params
from services import password_reset as service

bp = APIBlueprint("password_reset", __name__, url_prefix="/auth", tag="Password reset")


class UserIn(Params):
    email = String(load_default="", validate=Length(max=255))


class PasswordIn(Params):
    user = Nested(UserIn, load_default=None)  # Mastodon's form: user[email]
    email = String(load_default="", validate=Length(max=255))
    nickname = String(load_default="", validate=Length(max=255))


@bp.post("/password")
@ratelimits.password_reset
@bp.input(PasswordIn, location="json_or_form", arg_name="data")
@responds(None, status=204)
def request_password_reset(data: dict) -> Response:
    """Ask for a password-reset link by e-mail address (`user[email]` or `email`) or `nickname`."""
    user_email = data["user"]["email"] if data["user"] else ""
    service.request_reset(user_email or data["email"] or data["nickname"])
    return Response(status=204)
