"""Pleroma conversations (SPEC 15): a direct-message thread seen through one participation."""

from __future__ import annotations

from apiflask import APIBlueprint
from apiflask.fields import List
from sqlalchemy import select
from sqlalchemy import update

import api_schemas
import serializers
from auth import me
from auth import require_auth
from errors import ApiError
from models import Participation
from models import Status
from models import db
from openapi import paged
from openapi import responds
from pagination import PageIn
from pagination import link_header
from pagination import page_params
from pagination import paginate
from params import IdStr
from params import Params
from services import conversations

bp = APIBlueprint("pleroma_conversations", __name__, tag="Pleroma")


class RecipientsIn(Params):
    recipients = List(IdStr(), required=True)


def _own(participation_id: str) -> Participation:
    participation = Participation.owned_by(participation_id, me())
    if participation is None:
        raise ApiError(404, "Unknown conversation id")
    return participation


@bp.get("/conversations/<participation_id>")
@require_auth("read:statuses")
@responds(api_schemas.Conversation)
def get_conversation(participation_id: str) -> dict:
    """One of the caller's conversations."""
    return serializers.conversation_json(_own(participation_id), me())


@bp.get("/conversations/<participation_id>/statuses")
@require_auth("read:statuses")
@bp.input(PageIn, location="query", arg_name="query")
@paged(api_schemas.Status)
def conversation_statuses(participation_id: str, query: dict) -> tuple[list, int, dict]:
    """The thread's statuses the caller may see, oldest first within the page."""
    participation = _own(participation_id)
    viewer = me()
    thread = Status.visible_to(viewer).where(
        Status.context_id == participation.context_id,
        Status.account_id.not_in(Status.hidden_author_ids(viewer)),
    )
    newest_first = paginate(thread, Status.id, page_params(query))
    # The Link cursors still walk the thread newest-to-oldest, like every other list.
    links = link_header([s.id for s in newest_first])
    return serializers.statuses_json(list(reversed(newest_first)), viewer), 200, links


@bp.patch("/conversations/<participation_id>")
@require_auth("write:conversations")
@bp.input(RecipientsIn, location="json_or_form", arg_name="data")
@responds(api_schemas.Conversation)
def update_conversation(participation_id: str, data: dict) -> dict:
    """Replace the recipients (the owner always stays in)."""
    participation = _own(participation_id)
    conversations.set_recipients(participation, data["recipients"])
    return serializers.conversation_json(participation, me())


@bp.post("/conversations/read")
@require_auth("write:conversations")
@paged(api_schemas.Conversation)
def read_conversations() -> tuple[list, int, dict]:
    """Mark every conversation of the caller read; answers those that were unread."""
    viewer = me()
    unread = db.session.scalars(
        select(Participation)
        .where(Participation.account_id == viewer.id, Participation.is_unread.is_(True))
        .order_by(Participation.activity_id.desc())
    ).all()
    db.session.execute(
        update(Participation)
        .where(Participation.account_id == viewer.id, Participation.is_unread.is_(True))
        .values(is_unread=False)
    )
    db.session.commit()
    return serializers.conversations_json(unread, viewer), 200, link_header([p.id for p in unread])
