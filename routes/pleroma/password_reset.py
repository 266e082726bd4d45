"""Password reset (SPEC 26; Pleroma's `/api/v1/pleroma/password_reset`, also `/api/pleroma/...`).

`POST /password_reset` with `email` or `nickname` asks for a link and answers 204 whether or not
an account matched. The link opens `GET /password_reset/<token>`, a form without script (the
strict CSP allows none) that posts `token`, `password` and `password_confirmation` back to
`POST /password_reset`, which answers with a page.
"""

from __future__ import annotations

from apiflask import APIBlueprint
from apiflask.fields import String
from flask import Response
from flask import render_template
from flask import request
from flask import url_for

import api_schemas
import ratelimits
from errors import ApiError
from openapi import answer
from openapi import responds
from params import Length
from params import Params
from services import password_reset as service

bp = APIBlueprint("password_reset", __name__, tag="Pleroma")
PAGE = answer(api_schemas.HTML, content_type="text/html")


class PasswordResetIn(Params):
    email = String(load_default="", validate=Length(max=255))
    nickname = String(load_default="", validate=Length(max=255))
    # The form's fields: with a token, the post sets the password instead of asking for a link.
    token = String(load_default=None, validate=Length(max=200))
    password = String(load_default="", validate=Length(max=1024))
    password_confirmation = String(load_default="", validate=Length(max=1024))


def _page(status: int = 200, **context: object) -> Response:
    # Mounted twice: the form posts back under the prefix it was opened at.
    action = url_for(f"{request.blueprint}.password_reset")
    html = render_template("password_reset.html", title="Password reset", action=action, **context)
    return Response(html, status=status, mimetype="text/html")


@bp.get("/password_reset/<token>")
@responds(api_schemas.HTML, content_type="text/html", also={404: PAGE, 410: PAGE})
def reset_form(token: str) -> Response:
    """The form that sets a new password with a reset link's token."""
    try:
        row = service.live_token(token)
    except ApiError as error:
        return _page(error.status, error=error.message)
    return _page(form=True, token=token, nickname=row.account.nickname)


@bp.post("/password_reset")
@ratelimits.password_reset
@bp.input(PasswordResetIn, location="json_or_form", arg_name="data")
@responds(None, status=204, also={200: PAGE, 400: PAGE, 404: PAGE, 410: PAGE})
def password_reset(data: dict) -> Response:
    """Ask for a reset link by `email` or `nickname` (always 204), or, with `token`, set the password."""
    if data["token"] is None:
        service.request_reset(data["email"] or data["nickname"])
        return Response(status=204)
    return _set_password(data["token"], data["password"], data["password_confirmation"])


def _set_password(token: str, password: str, confirmation: str) -> Response:
    try:
        row = service.live_token(token)
        if not password:
            raise ApiError(400, "The password can't be blank.")
        if password != confirmation:
            raise ApiError(400, "The password does not match its confirmation.")
        account = service.reset_password(token, password)
    except ApiError as error:
        if error.status != 400:
            return _page(error.status, error=error.message)
        return _page(400, form=True, token=token, nickname=row.account.nickname, error=error.message)
    return _page(done=True, nickname=account.nickname)
