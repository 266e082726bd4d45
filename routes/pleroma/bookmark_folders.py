"""Bookmark folders (SPEC 18.5): named, optionally emoji-marked groups of the caller's bookmarks."""

from __future__ import annotations

from apiflask import APIBlueprint
from apiflask.fields import String

import api_schemas
import serializers
from auth import me
from auth import require_auth
from openapi import responds
from params import Length
from params import Params
from services import pleroma_misc

bp = APIBlueprint("bookmark_folders", __name__, url_prefix="/bookmark_folders", tag="Pleroma")

_NAME = Length(min=1, max=255)


class FolderIn(Params):
    name = String(required=True, validate=_NAME)
    emoji = String(load_default=None, allow_none=True)


class FolderUpdateIn(Params):
    name = String(load_default=None, allow_none=True, validate=_NAME)
    emoji = String(load_default=None, allow_none=True)


@bp.get("")
@require_auth("read:bookmarks")
@responds(api_schemas.BookmarkFolder, many=True)
def list_folders() -> list[dict]:
    """The caller's bookmark folders."""
    return [serializers.bookmark_folder_json(f) for f in pleroma_misc.list_folders(me())]


@bp.post("")
@require_auth("write:bookmarks")
@bp.input(FolderIn, location="json_or_form", arg_name="data")
@responds(api_schemas.BookmarkFolder, 422)
def create_folder(data: dict) -> dict:
    """Create a folder; names are unique per account."""
    folder = pleroma_misc.create_folder(me(), data["name"], data["emoji"])
    return serializers.bookmark_folder_json(folder)


@bp.patch("/<folder_id>")
@require_auth("write:bookmarks")
@bp.input(FolderUpdateIn, location="json_or_form", arg_name="data")
@responds(api_schemas.BookmarkFolder, 422)
def update_folder(folder_id: str, data: dict) -> dict:
    """Rename a folder or change its emoji."""
    folder = pleroma_misc.own_folder(me(), folder_id)
    pleroma_misc.update_folder(folder, data["name"], data["emoji"])
    return serializers.bookmark_folder_json(folder)


@bp.delete("/<folder_id>")
@require_auth("write:bookmarks")
@responds(api_schemas.BookmarkFolder)
def delete_folder(folder_id: str) -> dict:
    """Delete a folder; its bookmarks stay, unfiled."""
    folder = pleroma_misc.own_folder(me(), folder_id)
    rendered = serializers.bookmark_folder_json(folder)
    pleroma_misc.delete_folder(folder)
    return rendered
