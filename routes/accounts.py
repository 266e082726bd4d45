"""Mastodon accounts (SPEC 3): registration, the caller's profile, account pages and the
follow / block / mute / endorse actions."""

from __future__ import annotations

from typing import Any
from typing import NoReturn

from apiflask import APIBlueprint
from apiflask.fields import Dict
from apiflask.fields import Integer
from apiflask.fields import List
from apiflask.fields import Nested
from apiflask.fields import Raw
from apiflask.fields import String
from apiflask.validators import Length
from apiflask.validators import Range
from flask import current_app
from marshmallow import ValidationError
from sqlalchemy import select

import api_schemas
import ratelimits
import serializers
from auth import current_account
from auth import current_identity
from auth import issue_token
from auth import me
from auth import require_auth
from errors import ApiError
from models import Account
from models import Follow
from models import Status
from models import db
from openapi import paged
from openapi import responds
from pagination import link_header
from pagination import page_params
from pagination import paginate
from params import INT_MAX
from params import SEARCH_QUERY_LIMIT
from params import Bool
from params import IdStr
from params import Params
from readcache import kept_until_change
from services import accounts as account_service
from services import captchas
from services import email_confirmation
from services import follows
from services.accounts import StatusFilters
from services.accounts import create_local_account

bp = APIBlueprint("accounts", __name__, url_prefix="/api/v1/accounts", tag="Accounts")

SEARCH_MAX_LIMIT = 40


class RegisterIn(Params):
    username = String(required=True)
    password = String(required=True)
    email = String(load_default=None, allow_none=True)
    agreement = Bool(load_default=False)
    locale = String(load_default=None, allow_none=True)
    reason = String(load_default=None, allow_none=True)
    fullname = String(load_default=None, allow_none=True)
    bio = String(load_default="")
    captcha_token = String(load_default=None, allow_none=True)
    captcha_solution = String(load_default=None, allow_none=True)
    captcha_answer_data = String(load_default=None, allow_none=True)


class PageIn(Params):
    """Keyset paging (SPEC 1.5) plus `with_relationships`, for every list of accounts."""

    max_id = IdStr(load_default=None)
    since_id = IdStr(load_default=None)
    min_id = IdStr(load_default=None)
    limit = String(load_default=None)  # a bad limit falls back to the default, never fails
    with_relationships = Bool(load_default=False)


class AccountIn(Params):
    with_relationships = Bool(load_default=False)


class AccountStatusesIn(PageIn):
    pinned = Bool(load_default=False)
    only_media = Bool(load_default=False)
    exclude_replies = Bool(load_default=False)
    exclude_reblogs = Bool(load_default=False)
    only_reblogs = Bool(load_default=False)
    exclude_visibilities = List(String(), load_default=list)
    tagged = String(load_default=None)
    with_muted = Bool(load_default=False)


class LookupIn(Params):
    acct = String(required=True)


class SearchIn(Params):
    q = String(required=True, validate=Length(max=SEARCH_QUERY_LIMIT))
    limit = Integer(load_default=SEARCH_MAX_LIMIT, validate=Range(min=1))
    offset = Integer(load_default=0, validate=Range(min=0, max=INT_MAX))
    resolve = Bool(load_default=False)  # no federation: nothing to resolve


class RelationshipsIn(Params):
    id = List(IdStr(), load_default=list)


class FollowIn(Params):
    reblogs = Bool(load_default=None, allow_none=True)
    notify = Bool(load_default=None, allow_none=True)


class MuteIn(Params):
    notifications = Bool(load_default=True)
    expires_in = Integer(load_default=0, validate=Range(min=0, max=INT_MAX))
    duration = Integer(
        load_default=None, allow_none=True, validate=Range(min=0, max=INT_MAX)
    )  # Pleroma's name


class ProfileParams(Params):
    """update_credentials answers any rejected value with 403 `Invalid request` (SPEC 3)."""

    def handle_error(self, error: ValidationError, data: Any, *, many: bool, **kwargs: Any) -> NoReturn:
        raise account_service.invalid_request()


class SourceIn(ProfileParams):
    privacy = String(allow_none=True)
    sensitive = Bool(allow_none=True)


class UpdateCredentialsIn(ProfileParams):
    # No defaults: a key the client leaves out keeps its value.
    display_name = String(allow_none=True)
    note = String(allow_none=True)
    avatar = Raw(allow_none=True, metadata={"description": 'image file, or "" to reset'})
    header = Raw(allow_none=True, metadata={"description": 'image file, or "" to reset'})
    pleroma_background_image = Raw(allow_none=True, metadata={"description": 'image file, or "" to reset'})
    locked = Bool(allow_none=True)
    bot = Bool(allow_none=True)
    discoverable = Bool(allow_none=True)
    fields_attributes = Raw(allow_none=True, metadata={"description": 'list or {"0": {name, value}} map'})
    source = Nested(SourceIn, allow_none=True)
    default_scope = String(allow_none=True)
    no_rich_text = Bool(allow_none=True)
    hide_followers = Bool(allow_none=True)
    hide_follows = Bool(allow_none=True)
    hide_followers_count = Bool(allow_none=True)
    hide_follows_count = Bool(allow_none=True)
    hide_favorites = Bool(allow_none=True)
    show_role = Bool(allow_none=True)
    pleroma_settings_store = Dict(allow_none=True)
    skip_thread_containment = Bool(allow_none=True)
    allow_following_move = Bool(allow_none=True)
    also_known_as = List(String(), allow_none=True)
    actor_type = String(allow_none=True)
    accepts_chat_messages = Bool(allow_none=True)


# ---------------------------------------------------------------------------------------------
# Helpers


def _visible_account(ref: str, message: str = "Can't find user") -> Account:
    """The account named by id or nickname, 404 when unknown or deactivated (for the reader)."""
    account = account_service.find_account(ref)
    if account is None or not account_service.is_visible(account, current_account()):
        raise ApiError(404, message)
    return account


def _target(ref: str) -> Account:
    """The account an action applies to; unknown → 404 `Record not found`."""
    return account_service.find_or_404(ref)


def _relationship_with(target: Account) -> dict:
    return serializers.relationship_json(me(), target)


def account_page(rows: list, viewer: Account | None, with_relationships: bool) -> tuple[list, int, dict]:
    """A page of (row id, Account) pairs as accounts, with the Link header on the row ids."""
    accounts = [account for _, account in rows]
    body = serializers.accounts_json(accounts, viewer, with_relationships=with_relationships)
    return body, 200, link_header([row_id for row_id, _ in rows])


# ---------------------------------------------------------------------------------------------
# Registration and the caller's own account


@bp.post("")
@require_auth(app_token=True, optional=True)
@ratelimits.account_creation
@bp.input(RegisterIn, location="json_or_form", arg_name="data")
@responds(api_schemas.TOKEN_OR_PENDING, 400, 403)
def register(data: dict) -> dict:
    """Register an account; the answer is a token, so the client is logged in at once, unless
    the account must first confirm its e-mail address."""
    identity = current_identity()
    if identity is None or identity.token is None or identity.token.app is None:
        raise ApiError(403, "Invalid credentials")  # registration goes through an app's token
    if not current_app.config["REGISTRATIONS_OPEN"]:
        # Pleroma treats closed registrations as invite-only and asks for the invite token.
        raise ApiError(400, "Invalid token")
    must_confirm = email_confirmation.is_required()
    if must_confirm and not data["email"]:
        raise ApiError(400, "Missing parameter: email")  # Pleroma's wording
    captchas.check(data)
    account = create_local_account(
        data["username"],
        data["password"],
        email=data["email"],
        display_name=data["fullname"] or "",
        bio=data["bio"],
        is_confirmed=not must_confirm,
    )
    if must_confirm:
        # Pleroma answers 200 without a token: the client tells the user to check their mail.
        email_confirmation.request_confirmation(account)
        return {"message": email_confirmation.REGISTERED, "identifier": "missing_confirmed_email"}
    # The app's scopes, less the admin ones (a new account is no admin), as /oauth/token answers.
    return issue_token(identity.token.app, account)


@bp.get("/verify_credentials")
@require_auth("read:accounts")
@kept_until_change
@responds(api_schemas.Account)
def verify_credentials() -> dict:
    """The caller's own account, with `source` and the owner-only `pleroma` keys."""
    return serializers.account_json(me(), me(), with_source=True)


@bp.patch("/update_credentials")
@require_auth("write:accounts")
@bp.input(UpdateCredentialsIn, location="json_or_form", arg_name="data")
@responds(api_schemas.Account)
def update_credentials(data: dict) -> dict:
    """Change the caller's profile and settings; absent parameters keep their values."""
    # Pleroma ignores null parameters rather than clearing the field.
    changes = {key: value for key, value in data.items() if value is not None}
    account = account_service.update_credentials(me(), changes)
    return serializers.account_json(account, account, with_source=True)


# ---------------------------------------------------------------------------------------------
# Finding accounts


@bp.get("/lookup")
@require_auth("read:accounts", optional=True)
@bp.input(LookupIn, location="query", arg_name="data")
@responds(api_schemas.Account, 404)
def lookup(data: dict) -> dict:
    """An account by `nick` or `nick@host` (this server's host names a local account)."""
    return serializers.account_json(_visible_account(data["acct"]), current_account())


@bp.get("/search")
@require_auth("read:accounts", optional=True)
@bp.input(SearchIn, location="query", arg_name="data")
@responds(api_schemas.Account, many=True)
def search(data: dict) -> list:
    """Accounts whose nickname or display name starts with `q`."""
    viewer = current_account()
    limit = min(data["limit"], SEARCH_MAX_LIMIT)
    found = account_service.search_accounts(data["q"], limit, data["offset"], viewer)
    return serializers.accounts_json(found, viewer)


@bp.get("/relationships")
@require_auth("read:follows")
@kept_until_change
@bp.input(RelationshipsIn, location="query", arg_name="data")
@responds(api_schemas.Relationship, many=True)
def relationships(data: dict) -> list:
    """The caller's relationship with each known account, in request order."""
    known = set(db.session.scalars(select(Account.id).where(Account.id.in_(data["id"]))))
    return serializers.relationships_json(me(), [i for i in data["id"] if i in known])


@bp.get("/<ref>")
@require_auth("read:accounts", optional=True)
@bp.input(AccountIn, location="query", arg_name="data")
@responds(api_schemas.Account)
def show(ref: str, data: dict) -> dict:
    """One account by id or nickname."""
    account = _visible_account(ref)
    viewer = current_account()
    relationship = None
    if data["with_relationships"] and viewer is not None:
        relationship = serializers.relationship_json(viewer, account)
    return serializers.account_json(account, viewer, relationship=relationship)


@bp.get("/<ref>/statuses")
@require_auth("read:statuses", optional=True)
@kept_until_change
@bp.input(AccountStatusesIn, location="query", arg_name="data")
@paged(api_schemas.Status)
def statuses(ref: str, data: dict) -> tuple[list, int, dict]:
    """The account's statuses the reader may see, newest first."""
    account = _visible_account(ref)
    viewer = current_account()
    filters = StatusFilters(
        pinned=data["pinned"],
        only_media=data["only_media"],
        exclude_replies=data["exclude_replies"],
        exclude_reblogs=data["exclude_reblogs"],
        only_reblogs=data["only_reblogs"],
        exclude_visibilities=tuple(data["exclude_visibilities"]),
        tagged=data["tagged"],
        with_muted=data["with_muted"],
    )
    query = account_service.statuses_query(account, viewer, filters)
    page = paginate(query, Status.id, page_params(data))
    # Filtered with the account context; the Link is the page as fetched, hidden ones included.
    return serializers.statuses_json(page, viewer, "account"), 200, link_header([s.id for s in page])


@bp.get("/<ref>/followers")
@require_auth("read:accounts", optional=True)
@bp.input(PageIn, location="query", arg_name="data")
@paged(api_schemas.Account)
def followers(ref: str, data: dict) -> tuple[list, int, dict]:
    """Who follows the account (empty when it hides them from the reader)."""
    return _follow_list(ref, data, "followers")


@bp.get("/<ref>/following")
@require_auth("read:accounts", optional=True)
@bp.input(PageIn, location="query", arg_name="data")
@paged(api_schemas.Account)
def following(ref: str, data: dict) -> tuple[list, int, dict]:
    """Whom the account follows (empty when it hides them from the reader)."""
    return _follow_list(ref, data, "following")


def _follow_list(ref: str, data: dict, which: str) -> tuple[list, int, dict]:
    account = _visible_account(ref, "Record not found")
    viewer = current_account()
    if account_service.follow_list_hidden(account, viewer, which):
        return [], 200, {}
    if which == "followers":
        query = account_service.followers_query(account)
    else:
        query = account_service.following_query(account)
    rows = paginate(query, Follow.id, page_params(data), scalars=False)
    return account_page(rows, viewer, data["with_relationships"])


# ---------------------------------------------------------------------------------------------
# Actions on another account


@bp.post("/<ref>/follow")
@require_auth("follow", "write:follows")
@bp.input(FollowIn, location="json_or_form", arg_name="data")
@responds(api_schemas.Relationship, 400)
def follow(ref: str, data: dict) -> dict:
    """Follow (or request to follow) an account; `reblogs` and `notify` set the follow's flags."""
    target = _target(ref)
    follows.follow(me(), target, reblogs=data["reblogs"], subscribe=data["notify"])
    return _relationship_with(target)


@bp.post("/<ref>/unfollow")
@require_auth("follow", "write:follows")
@responds(api_schemas.Relationship, 400)
def unfollow(ref: str) -> dict:
    """Stop following an account, or withdraw the request."""
    target = _target(ref)
    follows.unfollow(me(), target)
    return _relationship_with(target)


@bp.post("/<ref>/block")
@require_auth("follow", "write:blocks")
@responds(api_schemas.Relationship)
def block(ref: str) -> dict:
    """Block an account; follows between the two end."""
    target = _target(ref)
    follows.block(me(), target)
    return _relationship_with(target)


@bp.post("/<ref>/unblock")
@require_auth("follow", "write:blocks")
@responds(api_schemas.Relationship)
def unblock(ref: str) -> dict:
    """Unblock an account."""
    target = _target(ref)
    follows.unblock(me(), target)
    return _relationship_with(target)


@bp.post("/<ref>/mute")
@require_auth("follow", "write:mutes")
@bp.input(MuteIn, location="json_or_form", arg_name="data")
@responds(api_schemas.Relationship)
def mute(ref: str, data: dict) -> dict:
    """Mute an account, with its notifications unless `notifications=false`, for `expires_in` s."""
    target = _target(ref)
    expires_in = data["duration"] if data["duration"] is not None else data["expires_in"]
    follows.mute(me(), target, hide_notifications=data["notifications"], expires_in=expires_in)
    return _relationship_with(target)


@bp.post("/<ref>/unmute")
@require_auth("follow", "write:mutes")
@responds(api_schemas.Relationship)
def unmute(ref: str) -> dict:
    """Unmute an account."""
    target = _target(ref)
    follows.unmute(me(), target)
    return _relationship_with(target)


@bp.post("/<ref>/pin")
@require_auth("follow", "write:accounts")
@responds(api_schemas.Relationship, 400)
def pin(ref: str) -> dict:
    """Endorse (feature on one's profile) an account one follows."""
    target = _target(ref)
    follows.endorse(me(), target)
    return _relationship_with(target)


@bp.post("/<ref>/unpin")
@require_auth("follow", "write:accounts")
@responds(api_schemas.Relationship)
def unpin(ref: str) -> dict:
    """Stop endorsing an account."""
    target = _target(ref)
    follows.unendorse(me(), target)
    return _relationship_with(target)
