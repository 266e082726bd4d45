"""Mastodon lists (SPEC 26): the caller's lists, their members, the lists holding an account and
each list's timeline."""

from __future__ import annotations

from apiflask import APIBlueprint
from apiflask.fields import List as ListField
from apiflask.fields import String
from apiflask.validators import OneOf
from sqlalchemy import select

import api_schemas
import serializers
from auth import me
from auth import require_auth
from errors import ApiError
from models import REPLIES_POLICIES
from models import Account
from models import List
from models import ListAccount
from models import Status
from models import db
from openapi import paged
from openapi import responds
from pagination import MAX_LIMIT
from pagination import PageIn
from pagination import link_header
from pagination import page_params
from pagination import paginate
from params import Bool
from params import IdStr
from params import Length
from params import Params
from readcache import kept_until_change
from services import lists as list_service

bp = APIBlueprint("lists", __name__, url_prefix="/api/v1", tag="Lists")

Page = tuple[list[dict], int, dict[str, str]]
_TITLE = Length(max=255)
# Enough for any client's selection; bounds the IN list of one request.
_MAX_ACCOUNT_IDS = 500


class ListIn(Params):
    # Not `required`: a missing or blank title is Mastodon's 422 "Title can't be blank".
    title = String(load_default=None, allow_none=True, validate=_TITLE)
    replies_policy = String(load_default="list", validate=OneOf(REPLIES_POLICIES))
    exclusive = Bool(load_default=False)


class ListUpdateIn(Params):
    title = String(load_default=None, allow_none=True, validate=_TITLE)
    replies_policy = String(load_default=None, allow_none=True, validate=OneOf(REPLIES_POLICIES))
    exclusive = Bool(load_default=None, allow_none=True)


class ListAccountsIn(Params):
    account_ids = ListField(
        IdStr(validate=Length(max=18)), required=True, validate=Length(min=1, max=_MAX_ACCOUNT_IDS)
    )


@bp.get("/lists")
@require_auth("read:lists")
@responds(api_schemas.UserList, many=True)
def get_lists() -> list[dict]:
    """The caller's lists, oldest first."""
    return [serializers.list_json(user_list) for user_list in db.session.scalars(List.owned_by(me().id))]


@bp.post("/lists")
@require_auth("write:lists")
@bp.input(ListIn, location="json_or_form", arg_name="data")
@responds(api_schemas.UserList, 400, 422)
def create_list(data: dict) -> dict:
    """Create a list."""
    user_list = list_service.create_list(me(), data["title"], data["replies_policy"], data["exclusive"])
    return serializers.list_json(user_list)


@bp.get("/lists/<list_id>")
@require_auth("read:lists")
@responds(api_schemas.UserList)
def get_list(list_id: str) -> dict:
    """One of the caller's lists."""
    return serializers.list_json(list_service.own_list(me(), list_id))


@bp.put("/lists/<list_id>")
@require_auth("write:lists")
@bp.input(ListUpdateIn, location="json_or_form", arg_name="data")
@responds(api_schemas.UserList, 400, 422)
def update_list(list_id: str, data: dict) -> dict:
    """Rename a list or change its replies policy or exclusivity."""
    user_list = list_service.own_list(me(), list_id)
    list_service.update_list(user_list, data["title"], data["replies_policy"], data["exclusive"])
    return serializers.list_json(user_list)


@bp.delete("/lists/<list_id>")
@require_auth("write:lists")
@responds(api_schemas.EMPTY)
def delete_list(list_id: str) -> dict:
    """Delete a list; its members stay followed."""
    list_service.delete_list(list_service.own_list(me(), list_id))
    return {}


@bp.get("/lists/<list_id>/accounts")
@require_auth("read:lists")
@bp.input(PageIn, location="query", arg_name="data")
@paged(api_schemas.Account)
def list_accounts(list_id: str, data: dict) -> Page:
    """The list's members, newest member first, paged on the membership; limit=0 gives all."""
    user_list = list_service.own_list(me(), list_id)
    query = (
        select(ListAccount.id, Account)
        .join(Account, Account.id == ListAccount.account_id)
        .where(ListAccount.list_id == user_list.id, Account.is_active)
    )
    if data["limit"] == 0:  # Mastodon: every member, unpaged
        rows = list(db.session.execute(query.order_by(ListAccount.id.desc())))
        return serializers.accounts_json([account for _, account in rows], me()), 200, {}
    # Mastodon's default page of members is 40, the most a page may hold.
    params = page_params({**data, "limit": data["limit"] or MAX_LIMIT})
    rows = paginate(query, ListAccount.id, params, scalars=False)
    body = serializers.accounts_json([account for _, account in rows], me())
    return body, 200, link_header([row_id for row_id, _ in rows])


@bp.post("/lists/<list_id>/accounts")
@require_auth("write:lists")
@bp.input(ListAccountsIn, location="json_or_form", arg_name="data")
@responds(api_schemas.EMPTY, 400, 422)
def add_list_accounts(list_id: str, data: dict) -> dict:
    """Add accounts the caller follows to the list."""
    list_service.add_accounts(list_service.own_list(me(), list_id), data["account_ids"])
    return {}


# masto.js, megalodon and toot send the ids as a JSON body on DELETE; json_or_form reads it.
@bp.delete("/lists/<list_id>/accounts")
@require_auth("write:lists")
@bp.input(ListAccountsIn, location="json_or_form", arg_name="data")
@responds(api_schemas.EMPTY, 400, 422)
def remove_list_accounts(list_id: str, data: dict) -> dict:
    """Take accounts out of the list."""
    list_service.remove_accounts(list_service.own_list(me(), list_id), data["account_ids"])
    return {}


@bp.get("/accounts/<account_id>/lists")
@require_auth("read:lists")
@responds(api_schemas.UserList, many=True)
def account_lists(account_id: str) -> list[dict]:
    """The caller's lists that hold this account."""
    account = db.session.get(Account, account_id)
    if account is None or not account.is_active:
        raise ApiError(404, "Record not found")
    lists = db.session.scalars(List.containing(me().id, account.id))
    return [serializers.list_json(user_list) for user_list in lists]


@bp.get("/timelines/list/<list_id>")
@require_auth("read:lists")
@kept_until_change
@bp.input(PageIn, location="query", arg_name="data")
@paged(api_schemas.Status)
def list_timeline(list_id: str, data: dict) -> Page:
    """Statuses of the list's members, newest first, replies kept per its replies_policy."""
    user_list = list_service.own_list(me(), list_id)
    statuses = paginate(user_list.timeline(me()), Status.id, page_params(data))
    # Lists are filtered with the home context (Mastodon's); the Link is the page as fetched.
    body = serializers.statuses_json(statuses, me(), "home")
    return body, 200, link_header([s.id for s in statuses])
