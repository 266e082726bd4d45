"""Mastodon statuses (SPEC 4): post, read, delete, thread, and acting on a status."""

from __future__ import annotations

import re

from apiflask import APIBlueprint
from apiflask.fields import Integer
from apiflask.fields import List
from apiflask.fields import Nested
from apiflask.fields import String
from apiflask.validators import OneOf
from apiflask.validators import Range
from flask import Response
from flask import current_app
from flask import request
from marshmallow import ValidationError
from sqlalchemy import Select
from sqlalchemy import select

import api_schemas
import serializers
from auth import current_account
from auth import current_identity
from auth import me
from auth import me_as_loaded
from auth import me_row
from auth import require_auth
from errors import ApiError
from models import VISIBILITIES
from models import Account
from models import Favourite
from models import Participation
from models import Status
from models import db
from openapi import documents_body
from openapi import paged
from openapi import responds
from pagination import PageIn
from pagination import link_header
from pagination import page_params
from pagination import paginate
from params import INT_MAX
from params import Bool
from params import IdStr
from params import Length
from params import Params
from params import parse_body
from params import plain_body
from params import plain_strings
from readcache import kept_until_change
from services import interactions
from services import reactions
from services import scheduled_statuses
from services.polls import NewPoll
from services.statuses import NewStatus
from services.statuses import post
from services.statuses import post_status

bp = APIBlueprint("statuses", __name__, url_prefix="/api/v1/statuses", tag="Statuses")

MAX_IDS = 100  # GET /api/v1/statuses?ids[]= reads at most this many ids (Pleroma takes the first 100)
_LIST_VISIBILITY = re.compile(r"^list:\S+$")


def _visibility_value(value: str | None) -> None:
    if value and value not in VISIBILITIES and not _LIST_VISIBILITY.match(value):
        raise ValidationError("Invalid value for enum.")


class PollIn(Params):
    # Limits, and what is missing, are checked when posting (services/polls.py): 422 as Mastodon.
    options = List(String(), load_default=list)
    expires_in = Integer(load_default=None, allow_none=True, validate=Range(min=0, max=INT_MAX))
    multiple = Bool(load_default=False, allow_none=True)
    hide_totals = Bool(load_default=False, allow_none=True)


class StatusIn(Params):
    status = String(load_default="", allow_none=True)
    media_ids = List(IdStr(), load_default=list, allow_none=True)
    in_reply_to_id = IdStr(load_default=None, allow_none=True)
    in_reply_to_conversation_id = IdStr(load_default=None, allow_none=True)
    visibility = String(load_default=None, allow_none=True, validate=_visibility_value)
    sensitive = Bool(load_default=False, allow_none=True)
    spoiler_text = String(load_default="", allow_none=True)
    content_type = String(load_default=None, allow_none=True)
    language = String(load_default=None, allow_none=True)
    to = List(String(), load_default=None, allow_none=True)
    expires_in = Integer(load_default=None, allow_none=True, validate=Range(max=INT_MAX))
    preview = Bool(load_default=False, allow_none=True)
    quote_id = IdStr(load_default=None, allow_none=True)
    poll = Nested(PollIn, load_default=None, allow_none=True)
    # SPEC 26: kept as a scheduled status, posted at that time (services/scheduled_statuses.py).
    scheduled_at = String(load_default=None, allow_none=True, validate=Length(max=64))


class IdsIn(Params):
    ids = List(IdStr(), load_default=list)
    id = List(IdStr(), load_default=list)  # Mastodon spells it `id[]`


class ReblogIn(Params):
    visibility = String(load_default=None, allow_none=True, validate=OneOf(("public", "unlisted", "private")))


class BookmarkIn(Params):
    folder_id = IdStr(load_default=None, allow_none=True)  # Pleroma bookmark folders (SPEC 18.5)


# ---------------------------------------------------------------------------------------------
# Posting and reading

# A status, or with `scheduled_at` the ScheduledStatus kept to post later.
_POSTED = {
    "oneOf": [
        {"$ref": "#/components/schemas/Status"},
        {"$ref": "#/components/schemas/ScheduledStatus"},
    ]
}


_STATUS_STRINGS = plain_strings(StatusIn)


@bp.post("")
@require_auth("write:statuses", caller_row=True)
@documents_body(StatusIn)
@responds(_POSTED, 404, 422)
def create_status() -> dict:
    """Post a status; with `preview` render it unsaved, with `scheduled_at` keep it for later."""
    # A body of text fields only (the common post) is read without webargs, which cost ~6% of
    # a POST; anything else is parsed by StatusIn as @bp.input would (the same 400 answers).
    data = plain_body(request, _STATUS_STRINGS) or parse_body(StatusIn)
    new = _new_status(data)
    if data["scheduled_at"] and not data["preview"]:
        return serializers.scheduled_status_json(scheduled_statuses.schedule(me(), new, data["scheduled_at"]))
    if data["preview"]:
        # Render through the real code path, then throw the rows away.
        new.idempotency_key = None
        status = post_status(me(), new, commit=False)
        body = serializers.status_json(status, me())
        db.session.rollback()
        return body
    # The caller read with the token (me_row: no ORM load, ~20% of a POST): the status is only
    # rendered, it and its author need not join the session.
    author = me_row()
    posted = post(author, new, adopt=False)
    return serializers.status_json(posted.status, author, posted.known)


def _new_status(data: dict) -> NewStatus:
    identity = current_identity()
    app = identity.client_app if identity else None
    return NewStatus(
        text=data["status"] or "",
        visibility=data["visibility"] or None,
        content_type=data["content_type"] or "text/plain",
        spoiler_text=data["spoiler_text"] or "",
        sensitive=bool(data["sensitive"]),
        # An empty field from a form means "not given", as for the ids below.
        language=data["language"] or None,
        in_reply_to_id=data["in_reply_to_id"] or None,
        media_ids=list(data["media_ids"] or []),
        to=data["to"],
        quote_id=data["quote_id"] or None,
        expires_in=data["expires_in"],
        app_name=app.name if app else None,
        app_website=app.website if app else None,
        idempotency_key=request.headers.get("Idempotency-Key") or None,
        conversation=_conversation(data["in_reply_to_conversation_id"]),
        poll=new_poll(data["poll"]),
    )


def new_poll(poll: dict | None) -> NewPoll | None:
    if not poll:
        return None
    return NewPoll(
        options=list(poll["options"]),
        expires_in=poll["expires_in"],
        multiple=bool(poll["multiple"]),
        hide_totals=bool(poll["hide_totals"]),
    )


def _conversation(participation_id: str | None) -> Participation | None:
    if not participation_id:
        return None
    participation = db.session.get(Participation, participation_id)
    # [Kenoma] only the caller's own conversations (SPEC 15; Pleroma does not check).
    if participation is None or participation.account_id != current_identity().account_id:
        raise ApiError(422, "Unknown conversation id")
    return participation


@bp.get("")
@require_auth("read:statuses", optional=True)
@bp.input(IdsIn, location="query", arg_name="data")
@responds(api_schemas.Status, many=True)
def list_statuses(data: dict) -> list[dict]:
    """Several statuses by id: the visible ones that exist, in the order asked."""
    ids = list(dict.fromkeys(data["ids"] + data["id"]))[:MAX_IDS]
    viewer = current_account()
    found = {s.id: s for s in db.session.scalars(Status.visible_to(viewer).where(Status.id.in_(ids)))}
    return serializers.statuses_json([found[i] for i in ids if i in found], viewer)


@bp.get("/<status_id>")
@require_auth("read:statuses", optional=True)
@kept_until_change
@responds(api_schemas.Status)
def show_status(status_id: str) -> dict:
    """One status; 404 when it does not exist or the reader may not see it."""
    viewer, status = _reader_and_visible(status_id)
    return serializers.status_json(status, viewer)


def _reader_and_visible(status_id: str) -> tuple[Account | None, Status]:
    """The reader (None when anonymous) and the status it may see (404 otherwise); a signed-in
    reader's account comes in the status' statement (_me_and_visible)."""
    identity = current_identity()
    if identity is None or identity.account_id is None:
        return None, interactions.get_visible(status_id, None)
    return _me_and_visible(status_id)


@bp.delete("/<status_id>")
@require_auth("write:statuses")
@responds(api_schemas.Status)
def delete_status(status_id: str) -> dict:
    """Delete an own status (admins: any); answers it with `text` for delete-and-redraft."""
    status = db.session.get(Status, status_id)
    if status is None or (status.account_id != me().id and not me().is_admin):
        raise ApiError(404, "Record not found")
    body = serializers.status_json(status, me())
    body["text"] = status.source
    interactions.delete_status(status)
    return body


@bp.get("/<status_id>/source")
@require_auth("read:statuses", optional=True)
@responds(api_schemas.StatusSource)
def show_source(status_id: str) -> dict:
    """The source text of a status, for editing."""
    return serializers.status_source_json(interactions.get_visible(status_id, current_account()))


@bp.get("/<status_id>/card")
@require_auth("read:statuses", optional=True)
@responds(api_schemas.NULL)
def show_card(status_id: str) -> Response:
    """No link previews are fetched (SPEC 23): `null` for any status the caller may see."""
    interactions.get_visible(status_id, current_account())
    return current_app.json.response(None)


@bp.get("/<status_id>/context")
@require_auth("read:statuses", optional=True)
@kept_until_change
@responds(api_schemas.Context)
def show_context(status_id: str) -> dict:
    """The thread around a status: ancestors oldest first, descendants depth-first."""
    viewer, status = _reader_and_visible(status_id)
    ancestors, descendants = interactions.thread(status, viewer)
    rendered = serializers.statuses_json(ancestors + descendants, viewer, "thread")
    above = {s.id for s in ancestors}  # the reader's hide filters may have left some out
    return {
        "ancestors": [d for d in rendered if d["id"] in above],
        "descendants": [d for d in rendered if d["id"] not in above],
    }


# ---------------------------------------------------------------------------------------------
# Acting on a status


@bp.post("/<status_id>/favourite")
@require_auth("write:favourites")
@responds(api_schemas.Status)
def favourite(status_id: str) -> dict:
    """Favourite a status (idempotent); its author is notified."""
    viewer, status = _me_and_visible(status_id, notify_checks=True)
    # Acting on a reblog acts on the reblogged status, which the answer is.
    answer = serializers.StatusAnswer(interactions.original_of(status), viewer)
    interactions.favourite(viewer, answer.status)
    answer.favourited(True)
    return answer.json()


@bp.post("/<status_id>/unfavourite")
@require_auth("write:favourites")
@responds(api_schemas.Status)
def unfavourite(status_id: str) -> dict:
    """Take a favourite back (idempotent)."""
    viewer, status = _me_and_visible(status_id)
    answer = serializers.StatusAnswer(interactions.original_of(status), viewer)
    interactions.unfavourite(viewer, answer.status)
    answer.favourited(False)
    return answer.json()


def _me_and_visible(status_id: str, notify_checks: bool = False) -> tuple[Account, Status]:
    """The caller, and the status it may see (404 otherwise), loaded in one statement (with
    notify()'s checks for its author: interactions.account_and_status)."""
    account, status = interactions.account_and_status(current_identity().account_id, status_id, notify_checks)
    viewer = me_as_loaded(account)
    return viewer, interactions.visible_or_404(status, viewer)


@bp.post("/<status_id>/reblog")
@require_auth("write:statuses")
@bp.input(ReblogIn, location="json_or_form", arg_name="data")
@responds(api_schemas.Status)
def reblog(status_id: str, data: dict) -> dict:
    """Reblog a status; answers the reblog, whose `reblog` is the original."""
    identity = current_identity()
    app = identity.client_app if identity else None
    status = interactions.get_visible(status_id, me())
    return serializers.status_json(interactions.reblog(me(), status, data["visibility"], app), me())


@bp.post("/<status_id>/unreblog")
@require_auth("write:statuses")
@responds(api_schemas.Status)
def unreblog(status_id: str) -> dict:
    """Undo a reblog; answers the original status."""
    status = interactions.unreblog(me(), interactions.get_visible(status_id, me()))
    return serializers.status_json(status, me())


@bp.post("/<status_id>/bookmark")
@require_auth("write:bookmarks")
@bp.input(BookmarkIn, location="json_or_form", arg_name="data")
@responds(api_schemas.Status)
def bookmark(status_id: str, data: dict) -> dict:
    """Bookmark a status (idempotent)."""
    viewer, status = _me_and_visible(status_id)
    return serializers.status_json(interactions.bookmark(viewer, status, data["folder_id"]), viewer)


@bp.post("/<status_id>/unbookmark")
@require_auth("write:bookmarks")
@responds(api_schemas.Status)
def unbookmark(status_id: str) -> dict:
    """Remove a bookmark (idempotent)."""
    viewer, status = _me_and_visible(status_id)
    return serializers.status_json(interactions.unbookmark(viewer, status), viewer)


@bp.post("/<status_id>/pin")
@require_auth("write:accounts")
@responds(api_schemas.Status, 400, 422)
def pin(status_id: str) -> dict:
    """Pin an own public or unlisted status to the profile (at most 5)."""
    status = interactions.pin(me(), interactions.get_visible(status_id, me()))
    return serializers.status_json(status, me())


@bp.post("/<status_id>/unpin")
@require_auth("write:accounts")
@responds(api_schemas.Status)
def unpin(status_id: str) -> dict:
    """Unpin a status."""
    status = interactions.unpin(me(), interactions.get_visible(status_id, me()))
    return serializers.status_json(status, me())


@bp.post("/<status_id>/mute")
@require_auth("write:mutes")
@responds(api_schemas.Status)
def mute(status_id: str) -> dict:
    """Mute the thread of a status: no more notifications from it."""
    status = interactions.mute_thread(me(), interactions.get_visible(status_id, me()))
    return serializers.status_json(status, me())


@bp.post("/<status_id>/unmute")
@require_auth("write:mutes")
@responds(api_schemas.Status)
def unmute(status_id: str) -> dict:
    """Unmute the thread of a status."""
    status = interactions.unmute_thread(me(), interactions.get_visible(status_id, me()))
    return serializers.status_json(status, me())


# ---------------------------------------------------------------------------------------------
# Who acted


@bp.get("/<status_id>/favourited_by")
@require_auth("read:statuses", optional=True)
@bp.input(PageIn, location="query", arg_name="data")
@paged(api_schemas.Account)
def favourited_by(status_id: str, data: dict) -> tuple[list[dict], int, dict]:
    """Accounts that favourited a status, paged by favourite."""
    viewer = current_account()
    status = interactions.original_of(interactions.get_visible(status_id, viewer))
    query = (
        select(Favourite.id, Account)
        .join(Account, Account.id == Favourite.account_id)
        .where(Favourite.status_id == status.id, Account.is_active.is_(True))
    )
    return _accounts_page(query, Favourite.id, data)


@bp.get("/<status_id>/reblogged_by")
@require_auth("read:statuses", optional=True)
@bp.input(PageIn, location="query", arg_name="data")
@paged(api_schemas.Account)
def reblogged_by(status_id: str, data: dict) -> tuple[list[dict], int, dict]:
    """Accounts that reblogged a status (reblogs the reader may see), paged by reblog."""
    viewer = current_account()
    status = interactions.original_of(interactions.get_visible(status_id, viewer))
    query = (
        select(Status.id, Account)
        .join(Account, Account.id == Status.account_id)
        .where(
            Status.reblog_of_id == status.id, Status.visibility_filter(viewer), Account.is_active.is_(True)
        )
    )
    return _accounts_page(query, Status.id, data)


def _accounts_page(query: Select, column: object, data: dict) -> tuple[list[dict], int, dict]:
    # The cursor is the id of the favourite / reblog row, so paging stays stable (SPEC 1.5).
    rows = paginate(query, column, page_params(data), scalars=False)
    accounts = serializers.accounts_json([row[1] for row in rows], current_account())
    return accounts, 200, link_header([row[0] for row in rows])


# Akkoma's spelling of the Pleroma reaction endpoints (SPEC 16, 22): same behaviour, other path.
@bp.put("/<status_id>/emoji_reactions/<path:emoji>")
@require_auth("write:statuses")
@responds(api_schemas.Status, 400)
def put_emoji_reaction(status_id: str, emoji: str) -> dict:
    """React to a status with one emoji (Akkoma path)."""
    account, found = interactions.account_and_status(current_identity().account_id, status_id, True)
    return reactions.react_answering(me_as_loaded(account), found, emoji)


@bp.delete("/<status_id>/emoji_reactions/<path:emoji>")
@require_auth("write:statuses")
@responds(api_schemas.Status, 400)
def delete_emoji_reaction(status_id: str, emoji: str) -> dict:
    """Take back a reaction (Akkoma path)."""
    return serializers.status_json(reactions.unreact(me(), status_id, emoji), me())
