"""Account notes (SPEC 26): the caller's private comment on an account, shown as `note` in the
Relationship."""

from __future__ import annotations

from apiflask import APIBlueprint
from apiflask.fields import String

import api_schemas
import serializers
from auth import me
from auth import require_auth
from models import ACCOUNT_NOTE_LIMIT
from openapi import responds
from params import Length
from params import Params
from services import follows
from services.accounts import find_or_404

bp = APIBlueprint("account_notes", __name__, url_prefix="/api/v1/accounts", tag="Accounts")


class NoteIn(Params):
    # Absent or empty clears the note, as Mastodon.
    comment = String(load_default="", allow_none=True, validate=Length(max=ACCOUNT_NOTE_LIMIT))


@bp.post("/<ref>/note")
@require_auth("write:accounts")
@bp.input(NoteIn, location="json_or_form", arg_name="data")
@responds(api_schemas.Relationship, 422)
def note(ref: str, data: dict) -> dict:
    """Set (or, with an empty comment, clear) the caller's private note on an account."""
    target = find_or_404(ref)
    follows.set_note(me(), target, data["comment"] or "")
    return serializers.relationship_json(me(), target)
