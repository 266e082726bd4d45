"""Pleroma accounts (SPEC 13): profile images one at a time and confirmation_resend."""

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
from werkzeug.datastructures import FileStorage

from auth import me
from auth import require_auth
from errors import ApiError
from models import db
from params import Params
from serializers import media_url
from services.accounts import discard_image
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


@bp.patch("/accounts/update_avatar")
@require_auth("write:accounts")
@bp.input(ImgIn, location="json_or_form", arg_name="data")
def update_avatar(data: dict) -> dict:
    """Set (or with "" clear) the caller's avatar."""
    return _replace_image("avatar", data["img"], "AVATAR_UPLOAD_LIMIT")


@bp.patch("/accounts/update_banner")
@require_auth("write:accounts")
@bp.input(BannerIn, location="json_or_form", arg_name="data")
def update_banner(data: dict) -> dict:
    """Set (or with "" clear) the caller's banner (`header` in the Account)."""
    return _replace_image("header", data["banner"], "BANNER_UPLOAD_LIMIT")


@bp.patch("/accounts/update_background")
@require_auth("write:accounts")
@bp.input(ImgIn, location="json_or_form", arg_name="data")
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
@bp.doc(responses={204: "No Content"})
@bp.input(ConfirmationResendIn, location="json_or_form", arg_name="data")
def confirmation_resend(data: dict) -> Response:
    """Always 204: Kenoma sends no e-mail and does not reveal whether the account exists."""
    return Response(status=204)
