"""Mastodon conversations (SPEC 8): the caller's direct-message threads, one participation each."""

from __future__ import annotations

from apiflask import APIBlueprint
from apiflask.fields import List

import api_schemas
import serializers
from auth import me
from auth import require_auth
from errors import ApiError
from models import Participation
from models import db
from openapi import paged
from openapi import responds
from pagination import PageIn
from pagination import link_header
from pagination import page_params
from pagination import paginate
from params import IdStr

bp = APIBlueprint("conversations", __name__, url_prefix="/api/v1/conversations", tag="Conversations")


class ConversationsIn(PageIn):
    recipients = List(IdStr(), load_default=list)


def _own(participation_id: str) -> Participation:
    participation = Participation.owned_by(participation_id, me())
    if participation is None:
        raise ApiError(404, "Record not found")
    return participation


@bp.get("")
@require_auth("read:statuses")
@bp.input(ConversationsIn, location="query", arg_name="data")
@paged(api_schemas.Conversation)
def list_conversations(data: dict) -> tuple[list[dict], int, dict[str, str]]:
    """The caller's conversations, most recently active first."""
    query = Participation.for_account(me(), data["recipients"])
    # Paged on the last-activity cursor, not the id, so a new message moves a thread to the top;
    # the Link header therefore carries activity ids too (SPEC 1.5: same ids it filters on).
    page = paginate(query, Participation.activity_id, page_params(data))
    return serializers.conversations_json(page, me()), 200, link_header([p.activity_id for p in page])


@bp.post("/<participation_id>/read")
@require_auth("write:conversations")
@responds(api_schemas.Conversation)
def read(participation_id: str) -> dict:
    """Mark one conversation read."""
    participation = _own(participation_id)
    participation.is_unread = False
    db.session.commit()
    return serializers.conversation_json(participation, me())


@bp.delete("/<participation_id>")
@require_auth("write:conversations")
@responds(api_schemas.EMPTY)
def delete_conversation(participation_id: str) -> dict:
    """Leave a conversation: the caller's participation goes, the statuses stay."""
    db.session.delete(_own(participation_id))
    db.session.commit()
    return {}
