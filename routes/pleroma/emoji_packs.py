"""Pleroma emoji: the emoji map (SPEC 10) and the emoji pack API (SPEC 17).

Mounted under /api/v1/pleroma and /api/pleroma. Reads need no auth; every mutation needs an admin
with `admin:write`. The filesystem work lives in the emoji_packs package; this module maps its
refusals to SPEC 17's status codes and wording.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from apiflask import APIBlueprint
from apiflask.fields import Dict
from apiflask.fields import Integer
from apiflask.fields import Raw
from apiflask.fields import String
from apiflask.validators import Range
from flask import Response
from flask import current_app
from flask import jsonify
from flask import request
from flask import send_file
from werkzeug.http import http_date
from werkzeug.http import quote_etag
from werkzeug.wsgi import wrap_file

import api_schemas
import emoji_packs
from auth import require_auth
from errors import ApiError
from openapi import documents_query
from openapi import responds
from params import Bool
from params import Params
from params import parse_query
from params import single_query_value

bp = APIBlueprint("emoji_packs", __name__, tag="Emoji packs")

ADMIN_WRITE = "admin:write"

# Status of each refusal; the message is the exception's (SPEC 17 wording).
_STATUS: dict[type[emoji_packs.PackError], int] = {
    emoji_packs.EmptyName: 400,
    emoji_packs.InvalidName: 400,
    emoji_packs.PackNotFound: 404,
    emoji_packs.PackExists: 409,
    emoji_packs.PackUnreadable: 500,
    emoji_packs.EmptyValue: 422,
    emoji_packs.InvalidFileName: 400,
    emoji_packs.InvalidShortcode: 400,
    emoji_packs.ValueTooLong: 422,
    emoji_packs.ShortcodeTaken: 409,
    emoji_packs.NewShortcodeTaken: 409,
    emoji_packs.FileTaken: 409,
    emoji_packs.EmojiNotFound: 400,
    emoji_packs.NotAnImage: 415,
    emoji_packs.BadSource: 400,
    emoji_packs.BadFileParam: 400,
    emoji_packs.NotDownloadable: 403,
    emoji_packs.FallbackIncomplete: 400,
    emoji_packs.UnsafeArchive: 400,
    emoji_packs.ArchiveTooLarge: 413,
    emoji_packs.BadArchive: 400,
    # Pleroma answers 500 for the remote failures; Kenoma keeps it (SPEC 1.4).
    emoji_packs.NotShareable: 500,
    emoji_packs.NoDownloadSource: 500,
    emoji_packs.ChecksumMismatch: 500,
    emoji_packs.RemoteError: 500,
    emoji_packs.NotWritable: 500,
}


@contextmanager
def answers(
    os_error: str, pack_missing: str | None = None, with_reason: bool = True, prefix_remote: bool = False
) -> Iterator[None]:
    """Turn emoji_packs refusals into ApiError. `os_error` words filesystem failures (500, plus the
    reason; also remote failures when `prefix_remote`), `pack_missing` rewords the 404 where SPEC
    does (the file endpoints)."""
    try:
        yield
    except emoji_packs.PackNotFound as error:
        raise ApiError(404, pack_missing.format(error.name) if pack_missing else str(error)) from error
    except emoji_packs.RemoteError as error:
        raise ApiError(500, f"{os_error} {error}" if prefix_remote else str(error)) from error
    except emoji_packs.PackError as error:
        raise ApiError(_STATUS.get(type(error), 500), str(error)) from error
    except OSError as error:
        reason = f"({error.strerror})" if error.strerror else str(error)
        raise ApiError(500, f"{os_error} {reason}".strip() if with_reason else os_error) from error


FILE_PACK_MISSING = 'pack "{}" is not found'


class NameIn(Params):
    name = String(required=True)


class PacksIn(Params):
    page = Integer(load_default=1, validate=Range(min=1))
    page_size = Integer(load_default=50, validate=Range(min=1))


class ShowIn(NameIn):
    page = Integer(load_default=1, validate=Range(min=1))
    page_size = Integer(load_default=30, validate=Range(min=1))


class MetadataIn(NameIn):
    metadata = Dict(required=True)


class RemoteIn(PacksIn):
    url = String(required=True)


class DownloadIn(Params):
    url = String(required=True)
    name = String(required=True)
    as_name = String(data_key="as", load_default=None, allow_none=True)


class FileAddIn(NameIn):
    file = Raw(required=True, metadata={"description": "an uploaded image or zip, or an http(s) URL"})
    shortcode = String(load_default=None, allow_none=True)
    filename = String(load_default=None, allow_none=True)


class FileUpdateIn(NameIn):
    shortcode = String(required=True)
    new_shortcode = String(required=True)
    new_filename = String(required=True)
    force = Bool(load_default=False)


class FileDeleteIn(NameIn):
    shortcode = String(required=True)


# ---------------------------------------------------------------------------------------------
# The emoji map


@bp.get("/emoji")
@responds(api_schemas.PLEROMA_EMOJI_MAP)
def emoji() -> Response:
    """Every custom emoji: shortcode → {image_url, tags} (image_url relative, SPEC 10)."""
    return _emoji_answer()


@bp.get("/emoji.json")
@responds(api_schemas.PLEROMA_EMOJI_MAP)
def emoji_json() -> Response:
    """Alias of /emoji: Pleroma-FE asks for /api/pleroma/emoji.json (CLIENTS.md)."""
    return _emoji_answer()


def _emoji_answer() -> Response:
    # Encoded once per pack change; a client that has this version gets 304 (If-None-Match).
    body, etag = emoji_packs.pleroma_emoji_answer()
    response = Response(body, mimetype="application/json")
    response.set_etag(etag)
    return response.make_conditional(request) if request.if_none_match else response


# ---------------------------------------------------------------------------------------------
# Packs


@bp.get("/emoji/packs")
@bp.input(PacksIn, location="query", arg_name="data")
@responds(api_schemas.PackList, 500)
def list_packs(data: dict) -> dict:
    """Local packs, page by page; `count` is the total."""
    directory = emoji_packs.emoji_dir()
    with answers(f"Failed to get the contents of the emoji pack directory at {directory}:"):
        count, packs = emoji_packs.list_packs(data["page"], data["page_size"])
        return {"count": count, "packs": {p.name: emoji_packs.pack_json(p) for p in packs}}


@bp.get("/emoji/pack")
@bp.input(ShowIn, location="query", arg_name="data")
@responds(api_schemas.Pack, 404, 500)
def show_pack(data: dict) -> dict:
    """One pack with a page of its files; `files_count` is the total."""
    with answers(f"Failed to get the contents of the `{data['name'].strip()}` pack."):
        pack = emoji_packs.load_pack(data["name"])
        return emoji_packs.pack_json(pack, data["page"], data["page_size"])


@bp.post("/emoji/pack")
@require_auth(ADMIN_WRITE, admin=True)
@bp.input(NameIn, location="json_or_form", arg_name="data")
@responds(api_schemas.JSON_STRING, 409, 500)
def create_pack(data: dict) -> Response:
    """Create an empty pack."""
    with answers("Unexpected error occurred while creating pack."):
        emoji_packs.create_pack(data["name"])
    return jsonify("ok")


@bp.patch("/emoji/pack")
@require_auth(ADMIN_WRITE, admin=True)
@bp.input(MetadataIn, location="json_or_form", arg_name="data")
@responds(api_schemas.ANY_OBJECT, 404, 422, 500)
def update_pack(data: dict) -> dict:
    """Replace a pack's metadata; a new fallback-src is downloaded and its sha256 stored."""
    with answers("Unexpected error occurred while updating pack metadata.", prefix_remote=True):
        return emoji_packs.update_metadata(data["name"], data["metadata"])


@bp.delete("/emoji/pack")
@require_auth(ADMIN_WRITE, admin=True)
@bp.input(NameIn, location="json_or_form", arg_name="data")
@responds(api_schemas.JSON_STRING, 404, 500)
def delete_pack(data: dict) -> Response:
    """Delete a pack and its files."""
    with answers(f"Couldn't delete the `{data['name'].strip()}` pack"):
        emoji_packs.delete_pack(data["name"])
    return jsonify("ok")


@bp.get("/emoji/packs/import")
@require_auth(ADMIN_WRITE, admin=True)
@responds(api_schemas.STRING_LIST, 500)
def import_packs() -> Response:
    """Write a pack.json for each pack folder without one (GET, as in Pleroma)."""
    with answers("Error accessing emoji pack directory", with_reason=False):
        return jsonify(emoji_packs.import_from_filesystem())


@bp.get("/emoji/packs/remote")
@require_auth(ADMIN_WRITE, admin=True)
@bp.input(RemoteIn, location="query", arg_name="data")
@responds(api_schemas.ANY_JSON, 403, 500)
def remote_packs(data: dict) -> Response:
    """Another server's pack list, as it sent it."""
    with answers("Unexpected error occurred while listing remote packs."):
        return jsonify(emoji_packs.list_remote(data["url"], data["page"], data["page_size"]))


@bp.post("/emoji/packs/download")
@require_auth(ADMIN_WRITE, admin=True)
@bp.input(DownloadIn, location="json_or_form", arg_name="data")
@responds(api_schemas.JSON_STRING, 403, 409, 500)
def download_pack(data: dict) -> Response:
    """Download another server's pack (optionally under another name)."""
    with answers("Unexpected error occurred while downloading pack."):
        emoji_packs.download_pack(data["url"], data["name"], data["as_name"])
    return jsonify("ok")


@bp.get("/emoji/packs/archive")
@documents_query(NameIn)
@responds(api_schemas.FILE, 403, 404, 500, content_type="application/zip")
def archive() -> Response:
    """The pack as a zip: built once per pack version, streamed from disk, Range and ETag aware."""
    # `?name=<pack>` alone is read as is; anything else is parsed (and refused) as NameIn says.
    name = single_query_value(request, "name")
    return _send_archive(name if name is not None else parse_query(NameIn)["name"])


@bp.get("/emoji/packs/<name>/download_shared")
@responds(api_schemas.FILE, 400, 403, 500, content_type="application/zip")
def download_shared(name: str) -> Response:
    """Legacy path of the archive (old Pleroma)."""
    return _send_archive(name)


# Request headers that make a download conditional or partial: werkzeug's send_file answers them.
_CONDITIONAL = (
    "HTTP_RANGE",
    "HTTP_IF_RANGE",
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_UNMODIFIED_SINCE",
)


def _send_archive(raw_name: str) -> Response:
    with answers("Unexpected error occurred while building the pack archive."):
        info, file = emoji_packs.open_downloadable_archive(raw_name)
    disposition = f'attachment; filename="{raw_name.strip()}.zip"'
    environ = request.environ
    if request.method == "GET" and not any(key in environ for key in _CONDITIONAL):
        return _whole_archive(info, file, disposition)
    file.close()
    # send_file streams the cached file from disk and answers Range / If-None-Match itself.
    response = send_file(info.path, mimetype="application/zip", conditional=True, etag=info.sha256.lower())
    response.headers["Content-Disposition"] = disposition
    return response


def _whole_archive(info: emoji_packs.ArchiveInfo, file: BinaryIO, disposition: str) -> Response:
    """The plain download (most of them), with send_file's headers for it, from the stat of the
    file already open: send_file would stat the path again, set its headers one by one (each
    set scans the others), parse its own Last-Modified back, and add a Date the server sends too."""
    try:
        stat = os.fstat(file.fileno())
    except OSError:
        file.close()
        raise
    headers = [
        ("Content-Disposition", disposition),
        ("Content-Type", "application/zip"),
        ("Content-Length", str(stat.st_size)),
        ("Last-Modified", http_date(stat.st_mtime)),
        ("Cache-Control", "no-cache"),
        ("ETag", quote_etag(info.sha256.lower())),
        ("Accept-Ranges", "bytes"),
    ]
    return current_app.response_class(
        wrap_file(request.environ, file), headers=headers, direct_passthrough=True
    )


# ---------------------------------------------------------------------------------------------
# Pack files


@bp.post("/emoji/packs/files")
@require_auth(ADMIN_WRITE, admin=True)
@bp.input(FileAddIn, location="json_or_form", arg_name="data")
@responds(api_schemas.PACK_FILES, 404, 409, 415, 422, 500)
def add_file(data: dict) -> dict:
    """Add an emoji (upload or URL; a zip adds every new emoji in it); answers the pack's files."""
    with answers(
        "Unexpected error occurred while adding file to pack.", FILE_PACK_MISSING, prefix_remote=True
    ):
        pack = emoji_packs.load_pack(data["name"])
        return emoji_packs.add_file(pack, data["file"], data["shortcode"], data["filename"])


@bp.patch("/emoji/packs/files")
@require_auth(ADMIN_WRITE, admin=True)
@bp.input(FileUpdateIn, location="json_or_form", arg_name="data")
@responds(api_schemas.PACK_FILES, 404, 409, 422, 500)
def update_file(data: dict) -> dict:
    """Rename an emoji and/or move its file; `force` overwrites an emoji using the new shortcode."""
    with answers("Unexpected error occurred while updating.", FILE_PACK_MISSING):
        pack = emoji_packs.load_pack(data["name"])
        return emoji_packs.update_file(
            pack, data["shortcode"], data["new_shortcode"], data["new_filename"], data["force"]
        )


@bp.delete("/emoji/packs/files")
@require_auth(ADMIN_WRITE, admin=True)
@bp.input(FileDeleteIn, location="json_or_form", arg_name="data")
@responds(api_schemas.PACK_FILES, 404, 422, 500)
def delete_file(data: dict) -> dict:
    """Remove an emoji and its file."""
    with answers("Unexpected error occurred while deleting emoji file.", FILE_PACK_MISSING):
        pack = emoji_packs.load_pack(data["name"])
        return emoji_packs.delete_file(pack, data["shortcode"])
