"""The face for people (SPEC 27): the installed front-end at `/` and for the browser paths no route
owns, its files by path, `/static/` shared with Kenoma's own images, and the landing page when no
front-end is installed.

Paths the API owns always win: the fallback only answers a GET that matched no route, outside the
API's prefixes, from a browser (it prefers HTML), and never for a path naming a file (`/favicon.png`):
a missing file is a plain 404, not the app's index.html.
"""

from __future__ import annotations

import re
from pathlib import Path

from apiflask import APIBlueprint
from flask import Response
from flask import current_app
from flask import render_template
from flask import request
from flask import send_file
from sqlalchemy import select
from werkzeug.exceptions import NotFound

import api_schemas
import serializers
from errors import error_response
from models import Account
from models import Status
from models import TimelineFilters
from models import db
from openapi import responds
from services import frontend

bp = APIBlueprint("frontend", __name__, tag="Front-end")

# The API's and ActivityPub's path groups: never the front-end's, whatever the Accept header says.
API_PREFIXES = (
    "api",
    "oauth",
    ".well-known",
    "nodeinfo",
    "inbox",
    "internal",
    "objects",
    "activities",
    "media",
    "proxy",
    "emoji",
    "images",
    "static",
    "openapi.json",
    "docs",
)
IMMUTABLE = "public, max-age=31536000, immutable"
# Pleroma-FE (or any built app) runs its own scripts and styles from this origin, shows images and
# media from anywhere (remote avatars), and talks to the API and the streaming socket.
FRONTEND_POLICY = (
    "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob: https:; media-src 'self' blob: https:; font-src 'self' data:; "
    "connect-src 'self' blob: https: wss: ws:; manifest-src 'self'; worker-src 'self' blob:; "
    "frame-src 'none'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
SANDBOX_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; sandbox"
_FILE_NAME = re.compile(r"\.[A-Za-z0-9]{1,5}$")
LANDING_ACCOUNTS = 12
LANDING_STATUSES = 10


@bp.get("/")
@responds(api_schemas.HTML, content_type="text/html")
def root() -> Response | str:
    """The front-end's index.html, or the landing page when none is installed."""
    index = frontend.index_file()
    if index is not None:
        return index_response(index)
    return _landing()


@bp.get("/static/<path:filename>")
@responds(api_schemas.FILE, 404, content_type="*/*")
def static_file(filename: str) -> Response:
    """The operator's overrides, then the build's static/ folder, then Kenoma's."""
    path = frontend.static_file(filename)
    if path is None:
        return error_response(404, "Not found")
    return _file_response(path)


def index_response(index: Path | None = None) -> Response:
    """The app's index.html, never cached without asking (a new build must show at once). For
    views that hand a browser over to the front-end (a profile or a status asked for as HTML)."""
    index = index or frontend.index_file()
    if index is None:
        raise NotFound()
    response = send_file(index, mimetype="text/html", conditional=True, etag=True, max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Content-Security-Policy"] = FRONTEND_POLICY
    return response


def _file_response(path: Path) -> Response:
    if path.name == "index.html":
        return index_response(path)
    response = send_file(path, conditional=True, etag=True, max_age=0)
    response.headers["Cache-Control"] = IMMUTABLE if frontend.is_hashed(path) else "no-cache"
    # Only the build's own files are the app; anything else (Kenoma's images, emoji packs that
    # may come from other servers, the operator's overrides) never runs a script on this origin.
    response.headers["Content-Security-Policy"] = (
        FRONTEND_POLICY if frontend.in_build(path) else SANDBOX_POLICY
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.app_errorhandler(404)
def fallback(error: NotFound) -> Response:
    """A GET no route matched: the build's file of that path, else index.html for a browser
    path, else the API's JSON 404."""
    if request.url_rule is None and request.method in ("GET", "HEAD"):
        relative = request.path.strip("/")
        first = relative.split("/", 1)[0]
        if relative and first not in API_PREFIXES and frontend.index_file() is not None:
            path = frontend.build_file(relative)
            if path is not None:
                return _file_response(path)
            if not _names_a_file(relative) and _wants_html():
                return index_response()
    return error_response(404, "Not found")


def _names_a_file(relative: str) -> bool:
    """`favicon.png`, `instance/panel.html`: a file name, not an app route. A remote account's
    address (`/bob@social.example`) has a dot too, but is the app's profile page."""
    last = relative.rsplit("/", 1)[-1]
    return "@" not in last and _FILE_NAME.search(last) is not None


def _wants_html() -> bool:
    """A browser navigation: text/html is what it prefers over the API's JSON documents."""
    offered = ["text/html", "application/json", "application/activity+json", "application/ld+json"]
    return request.accept_mimetypes.best_match(offered) == "text/html"


# ---------------------------------------------------------------------------------------------
# The landing page


def _landing() -> str:
    accounts = list(
        db.session.scalars(
            select(Account)
            .where(
                Account.domain.is_(None),
                Account.is_active.is_(True),
                Account.is_deleted.is_(False),
                Account.is_confirmed.is_(True),
            )
            .order_by(Account.id.desc())
            .limit(LANDING_ACCOUNTS)
        )
    )
    statuses = list(
        db.session.scalars(
            Status.public_timeline(None, TimelineFilters(local=True))
            .where(Status.visibility == "public")
            .order_by(Status.id.desc())
            .limit(LANDING_STATUSES)
        )
    )
    base = current_app.config["BASE_URL"]
    return render_template(
        "landing.html",
        title="Welcome",
        base_url=base,
        description=current_app.config["INSTANCE_DESCRIPTION"],
        accounts=serializers.accounts_json(accounts),
        statuses=serializers.statuses_json(statuses, None),
    )
