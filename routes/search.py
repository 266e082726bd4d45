"""Search (SPEC 23: a simple local search): accounts, statuses and hashtags known to this server."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from apiflask.fields import Integer
from apiflask.fields import String
from apiflask.validators import Length
from apiflask.validators import OneOf
from apiflask.validators import Range
from flask import current_app
from sqlalchemy import ColumnElement
from sqlalchemy import Select
from sqlalchemy import and_
from sqlalchemy import case
from sqlalchemy import false
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import true

import api_schemas
import serializers
from auth import current_account
from auth import require_auth
from federation.resolve import resolve_object
from models import Account
from models import Block
from models import Follow
from models import Status
from models import StatusTag
from models import db
from openapi import responds
from pagination import DEFAULT_LIMIT
from pagination import MAX_LIMIT
from params import INT_MAX
from params import SEARCH_QUERY_LIMIT
from params import Bool
from params import IdStr
from params import Params
from services.remote import find_account
from services.remote import local_host_names

bp = APIBlueprint("search", __name__, tag="Search")

TYPES = ("accounts", "statuses", "hashtags")


class SearchIn(Params):
    q = String(required=True, validate=Length(max=SEARCH_QUERY_LIMIT))
    type = String(load_default=None, allow_none=True, validate=OneOf(TYPES))
    # resolve=true (signed-in searches only) fetches an unknown `nick@otherhost` account or the
    # account or post an URL names from its server first (SPEC 24.4).
    resolve = Bool(load_default=False)
    following = Bool(load_default=False)
    account_id = IdStr(load_default=None, allow_none=True)
    limit = Integer(load_default=DEFAULT_LIMIT)
    offset = Integer(load_default=0, validate=Range(min=0, max=INT_MAX))


@bp.get("/api/v2/search")
@require_auth("read:search", optional=True)
@bp.input(SearchIn, location="query", arg_name="data")
@responds(api_schemas.SearchResults)
def search_v2(data: dict) -> dict:
    """Accounts, statuses and hashtags (hashtags as Tag entities)."""
    found = _search(data, current_account())
    base = current_app.config["BASE_URL"]
    found["hashtags"] = [{"name": n, "url": f"{base}/tag/{n}", "history": []} for n in found["hashtags"]]
    return found


@bp.get("/api/v1/search")
@require_auth("read:search", optional=True)
@bp.input(SearchIn, location="query", arg_name="data")
@responds(api_schemas.SearchResultsV1)
def search_v1(data: dict) -> dict:
    """The same search, with hashtags as plain names (Mastodon.py uses it for old versions)."""
    return _search(data, current_account())


def _search(data: dict, viewer: Account | None) -> dict[str, Any]:
    q = data["q"].strip()
    wanted = (data["type"],) if data["type"] else TYPES
    window = {"limit": max(1, min(data["limit"], MAX_LIMIT)), "offset": data["offset"]}
    accounts: list[Account] = []
    statuses: list[Status] = []
    hashtags: list[str] = []
    if q and data["resolve"] and viewer is not None:
        q = resolve_remote(q, viewer)
    if q and "accounts" in wanted:
        accounts = _accounts(q, viewer, data["following"], **window)
    if q and "statuses" in wanted:
        statuses = _statuses(q, viewer, data["account_id"], **window)
    if q and "hashtags" in wanted:
        hashtags = _hashtags(q, viewer, **window)
    return {
        "accounts": serializers.accounts_json(accounts, viewer),
        "statuses": serializers.statuses_json(statuses, viewer),
        "hashtags": hashtags,
    }


def resolve_remote(q: str, viewer: Account) -> str:
    """Store what a remote reference names, so the search below finds it; the query to search
    with (a post's page URL becomes its ActivityPub id)."""
    if q.startswith(("http://", "https://")):
        if find_account(q) is None:
            status = resolve_object(q, viewer)
            return status.uri if status is not None else q
    elif "@" in q.lstrip("@"):
        find_account(q)
    return q


def _like(text: str, prefix: bool = True) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%" if prefix else f"%{escaped}%"


def _not_blocked(column: ColumnElement, viewer: Account | None) -> ColumnElement[bool]:
    """Leave out accounts the viewer blocks or is blocked by."""
    if viewer is None:
        return true()
    blocked = select(Block.target_id).where(Block.account_id == viewer.id)
    blocking = select(Block.account_id).where(Block.target_id == viewer.id)
    return and_(column.not_in(blocked), column.not_in(blocking))


def _accounts(q: str, viewer: Account | None, following: bool, limit: int, offset: int) -> list[Account]:
    """Nickname or display-name prefix matches; the exact acct comes first (toot resolves every
    account name through this search and takes the first result)."""
    query = select(Account).where(Account.is_active, _not_blocked(Account.id, viewer))
    if following and viewer is not None:
        query = query.where(
            Account.id.in_(
                select(Follow.followee_id).where(
                    Follow.follower_id == viewer.id, Follow.is_pending == false()
                )
            )
        )
    if q.startswith(("http://", "https://")):
        return list(db.session.scalars(query.where(Account.ap_id == q).limit(1)))
    nickname, _, host = q.lstrip("@").partition("@")
    host = host.lower()
    if host and host in local_host_names():
        query = query.where(Account.domain.is_(None))
    elif host:
        query = query.where(func.lower(Account.domain).like(_like(host), escape="\\"))
    pattern = _like(nickname)
    query = query.where(
        or_(
            Account.nickname.ilike(pattern, escape="\\"),
            Account.display_name.ilike(pattern, escape="\\"),
            Account.display_name.ilike(f"% {pattern}", escape="\\"),
        )
    )
    rank = case(
        (func.lower(Account.nickname) == nickname.lower(), 0),
        (Account.nickname.ilike(pattern, escape="\\"), 1),
        else_=2,
    )
    local_first = case((Account.domain.is_(None), 0), else_=1)
    query = query.order_by(rank, local_first, Account.followers_count.desc(), Account.id)
    return list(db.session.scalars(query.limit(limit).offset(offset)))


def _statuses(
    q: str, viewer: Account | None, account_id: str | None, limit: int, offset: int
) -> list[Status]:
    """Local statuses the viewer may see whose text contains every word of the query, newest
    first; a status URL or uri finds that status."""
    query = (
        Status.visible_to(viewer)
        .join(Account, Account.id == Status.account_id)
        .where(Account.is_active, Status.reblog_of_id.is_(None))
        .where(_not_blocked(Status.account_id, viewer))
    )
    if account_id:
        query = query.where(Status.account_id == account_id)
    if q.startswith(("http://", "https://")):  # a remote post too, once resolved
        return list(db.session.scalars(_by_url(query, q).limit(1)))
    query = query.where(Account.domain.is_(None))
    for word in q.split():
        pattern = _like(word, prefix=False)
        query = query.where(
            or_(
                Status.source.ilike(pattern, escape="\\"),
                Status.spoiler_text.ilike(pattern, escape="\\"),
                # Statuses without a kept source fall back to their rendered HTML.
                and_(Status.source == "", Status.content.ilike(pattern, escape="\\")),
            )
        )
    return list(db.session.scalars(query.order_by(Status.id.desc()).limit(limit).offset(offset)))


def _by_url(query: Select, url: str) -> Select:
    notice_prefix = f"{current_app.config['BASE_URL']}/notice/"
    if url.startswith(notice_prefix):
        return query.where(Status.id == url.removeprefix(notice_prefix))
    return query.where(Status.uri == url)


def _hashtags(q: str, viewer: Account | None, limit: int, offset: int) -> list[str]:
    """Names of tags used on statuses the viewer may see, by prefix."""
    words = q.split()
    term = words[0].lstrip("#") if words else ""
    if not term:
        return []
    query = (
        select(StatusTag.name)
        .join(Status, Status.id == StatusTag.status_id)
        .where(StatusTag.name.ilike(_like(term), escape="\\"), Status.visibility_filter(viewer))
        .group_by(StatusTag.name)
        .order_by(func.length(StatusTag.name), StatusTag.name)
    )
    return list(db.session.scalars(query.limit(limit).offset(offset)))
