"""GET/POST /ostatus_subscribe (SPEC 10): the page other servers' remote-interaction links and
our own WebFinger subscribe template lead to. Minimal: show the account or status, and follow
the account as the logged-in user (or after logging in on the page)."""

from __future__ import annotations

import hmac
import secrets

from apiflask import APIBlueprint
from apiflask.fields import String
from flask import Response
from flask import current_app
from flask import render_template
from flask import session

import api_schemas
import formatting
import ratelimits
from auth import session_account
from errors import ApiError
from models import Account
from models import MfaSettings
from models import Status
from models import db
from openapi import answer
from openapi import responds
from params import Params
from services import follows
from services.accounts import find_account
from services.passwords import check_password

bp = APIBlueprint("ostatus", __name__, tag="Pleroma")
PAGE = answer(api_schemas.HTML, content_type="text/html")  # the page answers errors in HTML too


class SubscribeIn(Params):
    acct = String(required=True)


class FollowIn(Params):
    acct = String(required=True)
    csrf_token = String(load_default="")
    nickname = String(load_default="")
    password = String(load_default="")


def _csrf_token() -> str:
    # The logged-in form acts with the session cookie: a per-session secret in the form keeps
    # other sites from submitting it for the user.
    if "csrf_token" not in session:
        session["csrf_token"] = secrets.token_urlsafe(24)
    return str(session["csrf_token"])


def _page(acct: str, viewer: Account | None, status_code: int = 200, **context: object) -> Response:
    status = context.get("status")
    extra = {}
    if isinstance(status, Status):
        extra = {
            "status_text": formatting.html_to_text(status.content),
            "status_url": f"{current_app.config['BASE_URL']}/notice/{status.id}",
        }
    html = render_template(
        "ostatus_subscribe.html",
        title="Remote follow",
        acct=acct,
        viewer=viewer,
        csrf_token=_csrf_token() if viewer else "",
        **extra,
        **context,
    )
    return Response(html, status=status_code, mimetype="text/html")


def _status(ref: str, viewer: Account | None) -> Status | None:
    notice = f"{current_app.config['BASE_URL']}/notice/"
    if ref.startswith(notice):
        status = db.session.get(Status, ref.removeprefix(notice))
    else:
        status = db.session.scalar(db.select(Status).where(Status.uri == ref))
    return status if status is not None and status.is_visible_to(viewer) else None


def _account(ref: str) -> Account | None:
    account = find_account(ref)
    return account if account is not None and account.is_active else None


@bp.get("/ostatus_subscribe")
@bp.input(SubscribeIn, location="query", arg_name="data")
@responds(api_schemas.HTML, content_type="text/html", also={404: PAGE})
def subscribe_page(data: dict) -> Response:
    """The account or status named by `acct`, with a follow button or a login form."""
    viewer = session_account()
    status = _status(data["acct"], viewer)
    target = status.account if status else _account(data["acct"])
    if target is None:
        return _page(data["acct"], viewer, 404, error="Could not find that account or post.")
    return _page(data["acct"], viewer, target=target, status=status)


@bp.post("/ostatus_subscribe")
@ratelimits.authentication  # the form checks a password
@bp.input(FollowIn, location="json_or_form", arg_name="data")
@responds(api_schemas.HTML, content_type="text/html", also={403: PAGE, 404: PAGE})
def follow_remotely(data: dict) -> Response:
    """Follow the account named by `acct`, logged in by the session or by the form."""
    target = _account(data["acct"])
    if target is None:
        return _page(data["acct"], session_account(), 404, error="Could not find that account or post.")
    viewer, refusal = _form_login(data)
    if viewer is None:
        return _page(data["acct"], session_account(), 403, target=target, error=refusal)
    try:
        follows.follow(viewer, target)
    except ApiError as error:
        return _page(data["acct"], viewer, 200, target=target, error=error.message)
    done = f"Follow request sent to {target.acct}." if target.is_locked else f"You now follow {target.acct}."
    return _page(data["acct"], viewer, target=target, done=done)


def _form_login(data: dict) -> tuple[Account | None, str]:
    """Who follows: the account of the name and password in the form (for this one follow, no
    session is opened), or the session's account when the form carries its CSRF token."""
    if data["nickname"]:
        account = Account.find_by_login(data["nickname"])
        if account is None or not account.is_active or not check_password(account, data["password"]):
            return None, "Invalid Username/Password"
        if MfaSettings.is_enabled_for(account.id):  # a password alone is not enough (SPEC 1.1)
            return None, "Two-factor authentication enabled: log in with your app first."
        return account, ""
    viewer = session_account()
    expected = session.get("csrf_token")
    if viewer is None or not expected or not hmac.compare_digest(str(expected), data["csrf_token"]):
        return None, "Invalid Username/Password"
    return viewer, ""
