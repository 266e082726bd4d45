"""Polls (SPEC 26): `GET /api/v1/polls/:id` and `POST /api/v1/polls/:id/votes`."""

from __future__ import annotations

from apiflask import APIBlueprint
from apiflask.fields import Integer
from apiflask.fields import List
from apiflask.validators import Range

import api_schemas
import serializers
from auth import current_account
from auth import me
from auth import require_auth
from openapi import responds
from params import INT_MAX
from params import Params
from services import polls

bp = APIBlueprint("polls", __name__, url_prefix="/api/v1/polls", tag="Polls")


class VoteIn(Params):
    # Bounds and the single-choice rule are checked with the poll (services/polls.py).
    choices = List(Integer(validate=Range(min=0, max=INT_MAX)), required=True)


@bp.get("/<poll_id>")
@require_auth("read:statuses", optional=True)
@responds(api_schemas.Poll, 404)
def show_poll(poll_id: str) -> dict:
    """A poll, when its status is one the reader may see."""
    viewer = current_account()
    return serializers.poll_json(polls.get_visible_poll(poll_id, viewer), viewer)


@bp.post("/<poll_id>/votes")
@require_auth("write:statuses")
@bp.input(VoteIn, location="json_or_form", arg_name="data")
@responds(api_schemas.Poll, 404, 422)
def vote(poll_id: str, data: dict) -> dict:
    """Vote in a poll: the indices of the chosen options, once per poll."""
    poll = polls.get_visible_poll(poll_id, me())
    polls.vote(me(), poll, data["choices"])
    return serializers.poll_json(poll, me())
