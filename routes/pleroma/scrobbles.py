"""Scrobbles, audio "Listen" activities (SPEC 18.3): deprecated in Pleroma, still served."""

from __future__ import annotations

import nh3
from apiflask import APIBlueprint
from apiflask.fields import Integer
from apiflask.fields import String
from apiflask.validators import OneOf
from apiflask.validators import Range

import api_schemas
import serializers
from auth import current_account
from auth import me
from auth import require_auth
from errors import ApiError
from models import VISIBILITIES
from models import Account
from models import Scrobble
from models import db
from openapi import paged
from openapi import responds
from pagination import PageIn
from pagination import link_header
from pagination import page_params
from pagination import paginate
from params import INT_MAX
from params import Length
from params import Params

bp = APIBlueprint("scrobbles", __name__, tag="Pleroma")


class ScrobbleIn(Params):
    title = String(required=True, validate=Length(min=1, max=500))
    artist = String(load_default=None, allow_none=True, validate=Length(max=500))
    album = String(load_default=None, allow_none=True, validate=Length(max=500))
    length = Integer(load_default=None, allow_none=True, validate=Range(min=0, max=INT_MAX))
    external_link = String(load_default=None, allow_none=True, validate=Length(max=2048))
    visibility = String(load_default="public", validate=OneOf(VISIBILITIES))


def _plain(value: str | None) -> str | None:
    # Listens are shown as text: any HTML a client sends is stripped, not rendered.
    return nh3.clean(value, tags=set()) if value else value


@bp.post("/scrobble")
@require_auth("write:scrobbles")
@bp.input(ScrobbleIn, location="json_or_form", arg_name="data")
@responds(api_schemas.Scrobble)
def create_scrobble(data: dict) -> dict:
    """Record a listen."""
    scrobble = Scrobble(
        account_id=me().id,
        title=_plain(data["title"]) or "",
        artist=_plain(data["artist"]),
        album=_plain(data["album"]),
        length=data["length"],
        external_link=data["external_link"],
        visibility=data["visibility"],
    )
    if not scrobble.title.strip():
        raise ApiError(400, "Title can't be blank")
    db.session.add(scrobble)
    db.session.commit()
    return serializers.scrobble_json(scrobble, me())


@bp.get("/accounts/<account_ref>/scrobbles")
@require_auth("read:scrobbles", optional=True)
@bp.input(PageIn, location="query", arg_name="query")
@paged(api_schemas.Scrobble)
def account_scrobbles(account_ref: str, query: dict) -> tuple[list, int, dict]:
    """An account's listens, newest first."""
    owner = Account.by_id_or_nickname(account_ref)
    if owner is None or not owner.is_active:
        raise ApiError(404, "Record not found")
    viewer = current_account()
    rows = paginate(Scrobble.visible_to(owner.id, viewer), Scrobble.id, page_params(query))
    return serializers.scrobbles_json(rows, owner, viewer), 200, link_header([r.id for r in rows])
