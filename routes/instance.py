"""The instance itself (SPEC 9): instance info, nodeinfo, default images, front-end configuration
and the endpoints clients call unconditionally (SPEC 23). WebFinger, host-meta and the actor are
in routes/discovery.py."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from apiflask import APIBlueprint
from flask import Response
from flask import current_app
from flask import jsonify
from flask import send_from_directory
from sqlalchemy import bindparam
from sqlalchemy import case
from sqlalchemy import func
from sqlalchemy import select

import api_schemas
import readcache
from auth import me
from auth import require_auth
from errors import ApiError
from federation.fetch import is_blocked_host
from models import Account
from models import db
from models import utcnow
from openapi import responds
from readcache import kept_until_change
from services.accounts import RESTRICTED_NICKNAMES
from services.media import DESCRIPTION_LIMIT
from services.polls import POLL_LIMITS
from services.tags import MAX_FEATURED_TAGS

bp = APIBlueprint("instance", __name__, tag="Instance")

IMAGES_DIR = Path(__file__).resolve().parent.parent / "static" / "images"
VERSION = "2.7.2 (compatible; Pleroma 2.7.0+kenoma)"  # clients look for "(compatible; Pleroma"
SOFTWARE_VERSION = "2.7.0+kenoma"
SOURCE_URL = "https://git.pleroma.social/pleroma/pleroma"
# The one list of advertised features, shared by the instance and nodeinfo (SPEC 9): clients
# switch behaviour on these names, so only what Kenoma implements belongs here.
FEATURES = (
    "pleroma_api",
    "mastodon_api",
    "pleroma_explicit_addressing",
    "shareable_emoji_packs",
    "multifetch",
    "pleroma:api/v1/notifications:include_types_filter",
    "pleroma_emoji_reactions",
    "custom_emoji_reactions",
    "exposable_reactions",
    "pleroma:bookmark_folders",
    "quote_posting",
    "pleroma_chat_messages",
    "polls",
    "editing",
)
POST_FORMATS = ["text/plain", "text/html", "text/markdown", "text/bbcode"]
FIELDS_LIMITS = {"max_fields": 4, "max_remote_fields": 20, "name_length": 255, "value_length": 2048}
MAX_MEDIA_ATTACHMENTS = 1000  # Pleroma's default: effectively no limit
NODEINFO_SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/{}"
NODEINFO_VERSIONS = ("2.0", "2.1")


def _base() -> str:
    return current_app.config["BASE_URL"]


# Local accounts counted as active: posted or joined since the moment given (no last-seen tracking).
_LOCAL = Account.domain.is_(None)
_SEEN_AT = func.max(func.coalesce(Account.last_status_at, Account.created_at), Account.created_at)


def _active_since(moment: Any) -> Any:
    return func.coalesce(func.sum(case((Account.is_active & (_SEEN_AT >= moment), 1), else_=0)), 0)


def _first_seen_since(moment: Any) -> Any:
    """The earliest activity still inside the window: the account it belongs to leaves the count
    when the window moves past it."""
    return func.min(case((Account.is_active & (_SEEN_AT >= moment), _SEEN_AT), else_=None))


# Built once with bind parameters (building it cost more than running it), domains included, so
# the stats are one statement.
_USAGE = select(
    func.coalesce(func.sum(case((Account.is_active, 1), else_=0)), 0),
    _active_since(bindparam("month")),
    _active_since(bindparam("halfyear")),
    func.coalesce(func.sum(Account.statuses_count), 0),
    select(func.count(func.distinct(Account.domain))).where(Account.domain.is_not(None)).scalar_subquery(),
    _first_seen_since(bindparam("month")),
    _first_seen_since(bindparam("halfyear")),
).where(_LOCAL)
MONTH, HALFYEAR = timedelta(days=30), timedelta(days=180)


def _usage() -> dict[str, int]:
    """Local user and post counts in one aggregate over accounts (statuses_count is kept by the
    services, so no status row is counted). Answers built from them are kept (readcache.py) until
    a write, or until the oldest activity counted leaves its window, whichever comes first."""
    now = utcnow()
    users, month_count, halfyear_count, posts, domains, month_first, halfyear_first = db.session.execute(
        _USAGE, {"month": now - MONTH, "halfyear": now - HALFYEAR}
    ).one()
    for first, window in ((month_first, MONTH), (halfyear_first, HALFYEAR)):
        if first is not None:
            readcache.true_until(first + window)
    return {
        "users": users,
        "month": month_count,
        "halfyear": halfyear_count,
        "posts": posts,
        "domains": domains or 0,
    }


def _upload_limits() -> dict[str, int]:
    config = current_app.config
    return {
        "general": config["UPLOAD_LIMIT"],
        "avatar": config["AVATAR_UPLOAD_LIMIT"],
        "banner": config["BANNER_UPLOAD_LIMIT"],
        "background": config["BACKGROUND_UPLOAD_LIMIT"],
    }


def _federation() -> dict:
    """What nodeinfo and the instance say of federation: blocked instances are Pleroma's MRF
    SimplePolicy `reject` (SPEC 24.6)."""
    config = current_app.config
    policies = ["SimplePolicy"] if config["BLOCKED_INSTANCES"] else []
    return {"enabled": bool(config["FEDERATING"]), "mrf_policies": policies, "exclusions": False}


def _pleroma_block(usage: dict[str, int]) -> dict:
    return {
        "metadata": {
            "account_activation_required": bool(current_app.config["ACCOUNT_ACTIVATION_REQUIRED"]),
            "features": list(FEATURES),
            "federation": _federation(),
            "fields_limits": FIELDS_LIMITS,
            "post_formats": POST_FORMATS,
        },
        "stats": {"mau": usage["month"]},
        "vapid_public_key": current_app.config["VAPID_PUBLIC_KEY"],
    }


def _configuration() -> dict:
    config = current_app.config
    return {
        "urls": {"streaming": _streaming_url()},
        "accounts": {"max_featured_tags": MAX_FEATURED_TAGS},
        "statuses": {
            "max_characters": config["MAX_TOOT_CHARS"],
            "max_media_attachments": MAX_MEDIA_ATTACHMENTS,
            "characters_reserved_per_url": 0,
        },
        "media_attachments": {
            "supported_mime_types": ["image/*", "video/*", "audio/*"],
            "image_size_limit": config["UPLOAD_LIMIT"],
            "image_matrix_limit": 0,
            "video_size_limit": config["UPLOAD_LIMIT"],
            "video_frame_rate_limit": 0,
            "video_matrix_limit": 0,
            "description_limit": DESCRIPTION_LIMIT,
        },
        "polls": {
            "max_options": POLL_LIMITS["max_options"],
            "max_characters_per_option": POLL_LIMITS["max_option_chars"],
            "min_expiration": POLL_LIMITS["min_expiration"],
            "max_expiration": POLL_LIMITS["max_expiration"],
        },
        "translation": {"enabled": False},
    }


def _streaming_url() -> str:
    base = _base()
    return "ws" + base[4:] if base.startswith("http") else base


@bp.get("/api/v1/instance")
@kept_until_change
@responds(api_schemas.InstanceV1)
def instance_v1() -> dict:
    """The instance, Pleroma's v1 shape (clients detect Pleroma by its `version`)."""
    config, usage, limits = current_app.config, _usage(), _upload_limits()
    return {
        "uri": _base(),
        "title": config["INSTANCE_NAME"],
        "description": config["INSTANCE_DESCRIPTION"],
        "short_description": config["INSTANCE_DESCRIPTION"],
        "version": VERSION,
        "email": config["INSTANCE_EMAIL"],
        "urls": {"streaming_api": _streaming_url()},
        "stats": {
            "user_count": usage["users"],
            "status_count": usage["posts"],
            "domain_count": usage["domains"],
        },
        "thumbnail": f"{_base()}/images/banner.png",
        "languages": ["en"],
        "registrations": bool(config["REGISTRATIONS_OPEN"]),
        "approval_required": False,
        "invites_enabled": False,
        "max_toot_chars": config["MAX_TOOT_CHARS"],
        "max_media_attachments": MAX_MEDIA_ATTACHMENTS,
        "poll_limits": POLL_LIMITS,
        "upload_limit": limits["general"],
        "avatar_upload_limit": limits["avatar"],
        "background_upload_limit": limits["background"],
        "banner_upload_limit": limits["banner"],
        "description_limit": DESCRIPTION_LIMIT,
        "background_image": f"{_base()}/images/banner.png",
        "configuration": _configuration(),
        "rules": [],
        "pleroma": _pleroma_block(usage),
    }


@bp.get("/api/v2/instance")
@kept_until_change
@responds(api_schemas.InstanceV2)
def instance_v2() -> dict:
    """The instance, Mastodon 4's v2 shape plus the same `pleroma` block."""
    config, usage = current_app.config, _usage()
    return {
        "domain": urlsplit(_base()).netloc,
        "title": config["INSTANCE_NAME"],
        "version": VERSION,
        "source_url": SOURCE_URL,
        "description": config["INSTANCE_DESCRIPTION"],
        "usage": {"users": {"active_month": usage["month"]}},
        "thumbnail": {"url": f"{_base()}/images/banner.png"},
        "languages": ["en"],
        "configuration": _configuration(),
        "registrations": {
            "enabled": bool(config["REGISTRATIONS_OPEN"]),
            "approval_required": False,
            "message": None,
        },
        "contact": {"email": config["INSTANCE_EMAIL"], "account": None},
        "rules": [],
        "pleroma": _pleroma_block(usage),
    }


@bp.get("/api/v1/instance/peers")
@responds(api_schemas.STRING_LIST)
def instance_peers() -> list:
    """The hosts of the remote accounts Kenoma knows (SPEC 24.6), blocked instances left out."""
    hosts = db.session.scalars(
        select(Account.domain).where(Account.domain.is_not(None)).distinct().order_by(Account.domain)
    )
    return [host for host in hosts if host and not is_blocked_host(host)]


@bp.get("/api/v1/instance/rules")
@responds(api_schemas.ANY_LIST)
def instance_rules() -> list:
    """Server rules: none configured."""
    return []


# ---------------------------------------------------------------------------------------------
# Nodeinfo


@bp.get("/.well-known/nodeinfo")
@responds(api_schemas.NodeinfoLinks)
def nodeinfo_links() -> dict:
    """Where the nodeinfo documents are; the hrefs are absolute because clients fetch them as given."""
    return {
        "links": [
            {"rel": NODEINFO_SCHEMA.format(v), "href": f"{_base()}/nodeinfo/{v}.json"}
            for v in NODEINFO_VERSIONS
        ]
    }


@bp.get("/nodeinfo/<version>")
@responds(api_schemas.Nodeinfo)
def nodeinfo(version: str) -> Response:
    """Nodeinfo 2.0 / 2.1 (`/nodeinfo/2.0.json` and `/nodeinfo/2.0` alike)."""
    version = version.removesuffix(".json")
    if version not in NODEINFO_VERSIONS:
        raise ApiError(404, "Nodeinfo schema version not handled")
    response = jsonify(_nodeinfo_document(version))
    response.content_type = f'application/json; profile="{NODEINFO_SCHEMA.format(version)}#"'
    return response


def _nodeinfo_document(version: str) -> dict:
    config, usage, limits = current_app.config, _usage(), _upload_limits()
    software = {"name": "pleroma", "version": SOFTWARE_VERSION}
    if version == "2.1":
        software["repository"] = SOURCE_URL
    staff = db.session.scalars(
        select(Account.ap_id)
        .where(Account.is_admin, Account.is_active, Account.domain.is_(None))
        .order_by(Account.id)
    )
    return {
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": bool(config["REGISTRATIONS_OPEN"]),
        "usage": {
            "users": {
                "total": usage["users"],
                "activeMonth": usage["month"],
                "activeHalfyear": usage["halfyear"],
            },
            "localPosts": usage["posts"],
        },
        "metadata": {
            "nodeName": config["INSTANCE_NAME"],
            "nodeDescription": config["INSTANCE_DESCRIPTION"],
            "private": False,
            "suggestions": {"enabled": False},
            "staffAccounts": list(staff),
            "federation": _federation(),
            "pollLimits": POLL_LIMITS,
            "postFormats": POST_FORMATS,
            "uploadLimits": limits,
            "fieldsLimits": {
                "maxFields": FIELDS_LIMITS["max_fields"],
                "maxRemoteFields": FIELDS_LIMITS["max_remote_fields"],
                "nameLength": FIELDS_LIMITS["name_length"],
                "valueLength": FIELDS_LIMITS["value_length"],
            },
            "accountActivationRequired": bool(config["ACCOUNT_ACTIVATION_REQUIRED"]),
            "invitesEnabled": False,
            "mailerEnabled": bool(config["MAIL_SERVER"]),
            "features": list(FEATURES),
            "restrictedNicknames": list(RESTRICTED_NICKNAMES),
            "skipThreadContainment": True,
        },
    }


# ---------------------------------------------------------------------------------------------
# Default images


@bp.get("/images/<path:filename>")
@responds(api_schemas.FILE, content_type="image/*")
def image(filename: str) -> Response:
    """The default avatar, banner and instance thumbnail."""
    return send_from_directory(IMAGES_DIR, filename, max_age=86400)


# ---------------------------------------------------------------------------------------------
# Client conveniences


@bp.get("/api/pleroma/frontend_configurations")
@bp.get("/api/v1/pleroma/frontend_configurations")
@responds(api_schemas.ANY_OBJECT)
def frontend_configurations() -> dict:
    """The front-end settings from FRONTEND_CONFIGURATIONS (`{}` when none); Pleroma-FE asks first."""
    return dict(current_app.config.get("FRONTEND_CONFIGURATIONS") or {})


@bp.get("/api/v1/suggestions")
@bp.get("/api/v1/trends")
@bp.get("/api/v1/trends/tags")
@responds(api_schemas.ANY_LIST)
def empty_list() -> list:
    """Follow suggestions (v1) and trends answer nothing, as Pleroma's do; clients call them anyway
    (SPEC 23). Suggestions proper are /api/v2/suggestions."""
    return []


@bp.get("/api/v1/preferences")
@require_auth("read:accounts")
@responds(api_schemas.Preferences)
def preferences() -> dict:
    """The caller's posting and reading defaults, Mastodon's keys."""
    account = me()
    return {
        "posting:default:visibility": account.default_scope,
        "posting:default:sensitive": account.is_sensitive_default,
        "posting:default:language": None,
        "reading:expand:media": "default",
        "reading:expand:spoilers": False,
    }
