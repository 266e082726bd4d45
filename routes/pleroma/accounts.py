"""Pleroma accounts (SPEC 13): subscriptions, an account's favourites, profile images one at a
time and confirmation_resend."""

from __future__ import annotations

import base64
import binascii
import io
from typing import Any

from apiflask import APIBlueprint
from apiflask.fields import Field
from apiflask.fields import String
from flask import Response
from flask import current_app
from marshmallow import ValidationError
from sqlalchemy import Select
from sqlalchemy import bindparam
from sqlalchemy import exists
from werkzeug.datastructures import FileStorage

import api_schemas
import ratelimits
import serializers
from auth import current_account
from auth import me
from auth import require_auth
from errors import ApiError
from models import BOUND_VIEWER
from models import Account
from models import Favourite
from models import Status
from models import cached_statement
from models import db
from openapi import paged
from openapi import responds
from pagination import PageIn
from pagination import link_header
from pagination import page_params
from pagination import paginate
from params import Params
from readcache import kept_until_change
from serializers import media_url
from services import email_confirmation
from services import events
from services import follows
from services.accounts import discard_image
from services.accounts import find_or_404
from services.media import remove_file
from services.media import store_file

bp = APIBlueprint("pleroma_accounts", __name__, tag="Pleroma")


class ImageUpload(Field):
    """A multipart image, a `data:image/...;base64,` URL (Pleroma-FE's cropper sends these), or
    "" to clear."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> FileStorage | str:
        if isinstance(value, FileStorage) or value == "":
            return value
        if not isinstance(value, str) or not value.startswith("data:image/"):
            raise ValidationError("Invalid image.")
        header, _, payload = value.partition(",")
        mime_type = header.removeprefix("data:").removesuffix(";base64")
        try:
            content = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError) as error:
            raise ValidationError("Invalid image.") from error
        name = "image." + mime_type.rpartition("/")[2].split("+")[0]
        return FileStorage(io.BytesIO(content), filename=name, content_type=mime_type)


class ImgIn(Params):
    img = ImageUpload(required=True)


class BannerIn(Params):
    banner = ImageUpload(required=True)


class ConfirmationResendIn(Params):
    email = String(load_default=None)
    nickname = String(load_default=None)


def _account_or_404(ref: str) -> Account:
    return find_or_404(ref, current_account(), visible_only=True)


# ---------------------------------------------------------------------------------------------
# Subscriptions and favourites


@bp.post("/accounts/<ref>/subscribe")
@require_auth("follow", "write:follows")
@responds(api_schemas.Relationship)
def subscribe(ref: str) -> dict:
    """Be notified of the account's new posts (deprecated: `notify` on follow does the same)."""
    target = _account_or_404(ref)
    follows.subscribe(me(), target)
    return serializers.relationship_json(me(), target)


@bp.post("/accounts/<ref>/unsubscribe")
@require_auth("follow", "write:follows")
@responds(api_schemas.Relationship)
def unsubscribe(ref: str) -> dict:
    """Stop being notified of the account's new posts."""
    target = _account_or_404(ref)
    follows.unsubscribe(me(), target)
    return serializers.relationship_json(me(), target)


@bp.get("/accounts/<ref>/favourites")
@require_auth("read:favourites", optional=True)
@kept_until_change
@bp.input(PageIn, location="query", arg_name="data")
@paged(api_schemas.Status, 403)
def account_favourites(ref: str, data: dict) -> tuple[list, int, dict]:
    """Statuses the account favourited that the reader may see, newest status first."""
    account = _account_or_404(ref)
    if account.hide_favorites:  # the default; the owner is no exception (Pleroma)
        raise ApiError(403, "Can't get favorites")
    viewer = current_account()
    query = cached_statement(_favourites_query, BOUND_VIEWER if viewer is not None else None)
    bind = {"owner_id": account.id} | ({"viewer_id": viewer.id} if viewer is not None else {})
    page = paginate(query, Favourite.status_id, page_params(data), bind=bind)
    return serializers.statuses_json(page, viewer), 200, link_header([s.id for s in page])


def _favourites_query(viewer: Any) -> Select:
    """Statuses `owner_id` favourited, built once per kind of reader (models.cached_statement).
    Paged on Favourite.status_id, so SQLite walks the (account_id, status_id) index newest status
    first and stops after a page, however many statuses the instance has."""
    # Visibility is the reader's, not the favouriter's: a DM the account liked stays between
    # its participants (SPEC 21.6).
    query = (
        Status.visible_to(viewer)
        .join(Favourite, Favourite.status_id == Status.id)
        .where(
            Favourite.account_id == bindparam("owner_id"),
            exists().where(Account.id == Status.account_id, Account.is_active.is_(True)),
        )
    )
    if viewer is not None:
        query = query.where(Status.account_id.not_in(Status.hidden_author_ids(viewer, with_muted=True)))
    return query


# ---------------------------------------------------------------------------------------------
# Profile images


@bp.patch("/accounts/update_avatar")
@require_auth("write:accounts")
@bp.input(ImgIn, location="json_or_form", arg_name="data")
@responds(api_schemas.ImageUrl, 415)
def update_avatar(data: dict) -> dict:
    """Set (or with "" clear) the caller's avatar."""
    return _replace_image("avatar", data["img"], "AVATAR_UPLOAD_LIMIT")


@bp.patch("/accounts/update_banner")
@require_auth("write:accounts")
@bp.input(BannerIn, location="json_or_form", arg_name="data")
@responds(api_schemas.ImageUrl, 415)
def update_banner(data: dict) -> dict:
    """Set (or with "" clear) the caller's banner (`header` in the Account)."""
    return _replace_image("header", data["banner"], "BANNER_UPLOAD_LIMIT")


@bp.patch("/accounts/update_background")
@require_auth("write:accounts")
@bp.input(ImgIn, location="json_or_form", arg_name="data")
@responds(api_schemas.ImageUrl, 415)
def update_background(data: dict) -> dict:
    """Set (or with "" clear) the caller's Pleroma-FE background image."""
    return _replace_image("background", data["img"], "BACKGROUND_UPLOAD_LIMIT")


def _replace_image(column: str, value: FileStorage | str, limit_key: str) -> dict:
    """Store the new image, point the account at it, then drop the file it replaced."""
    account = me()
    path = None
    if value != "":
        stored = store_file(value, current_app.config[limit_key])
        path = stored.path
        if not stored.mime_type.startswith("image/"):
            remove_file(path)
            raise ApiError(415, "File is not an image")
    old = getattr(account, column)
    setattr(account, column, path)
    if column in ("avatar", "header"):  # what other servers show of the profile
        events.emit(events.profile_updated, account_id=account.id)
    try:
        db.session.commit()
    except BaseException:
        db.session.rollback()
        if path:
            remove_file(path)
        raise
    if old and old != path:
        discard_image(old)
    return {"url": media_url(path) if path else None}


@bp.post("/accounts/confirmation_resend")
@ratelimits.password_reset  # each call may send a mail: one budget with password resets
@bp.doc(responses={204: "No Content"})
@bp.input(ConfirmationResendIn, location="json_or_form", arg_name="data")
@responds(None, status=204)
def confirmation_resend(data: dict) -> Response:
    """Mail the confirmation link again to an unconfirmed account; always 204, whether or not an
    account matched (no account probing)."""
    email_confirmation.resend(data["email"] or data["nickname"] or "")
    return Response(status=204)
