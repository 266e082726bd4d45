"""How other software finds a local account and a status (SPEC 9): WebFinger, host-meta, the
minimal ActivityPub actor at /users/<nickname> and the /notice/<id> link of a status."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote
from urllib.parse import urlsplit

from apiflask import APIBlueprint
from apiflask.fields import String
from flask import Response
from flask import jsonify
from flask import redirect
from sqlalchemy import select

import api_schemas
from errors import ApiError
from models import Account
from models import db
from openapi import LOCATION_HEADER
from openapi import responds
from params import Params
from serializers import base_url
from services.remote import local_host_names

bp = APIBlueprint("discovery", __name__, tag="Instance")

ACTIVITY_JSON = "application/activity+json"


class WebfingerIn(Params):
    resource = String(required=True)


@bp.get("/.well-known/webfinger")
@bp.input(WebfingerIn, location="query", arg_name="data")
@responds(api_schemas.Webfinger, 404, content_type="application/jrd+json")
def webfinger(data: dict) -> Response:
    """The JRD of a local account named by `acct:nick@host` (with or without port) or its ap_id."""
    account = _resource_account(data["resource"])
    if account is None:
        raise ApiError(404, "Couldn't find user")
    host = urlsplit(base_url()).netloc
    response = jsonify(
        {
            "subject": f"acct:{account.nickname}@{host}",
            "aliases": [account.ap_id],
            "links": [
                {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": account.ap_id},
                {"rel": "self", "type": ACTIVITY_JSON, "href": account.ap_id},
                {
                    "rel": "http://ostatus.org/schema/1.0/subscribe",
                    "template": f"{base_url()}/ostatus_subscribe?acct={{uri}}",
                },
            ],
        }
    )
    response.content_type = "application/jrd+json; charset=utf-8"
    return response


def _resource_account(resource: str) -> Account | None:
    resource = resource.strip()
    if resource.startswith(("http://", "https://")):
        found = db.session.scalar(select(Account).where(Account.ap_id == resource, Account.domain.is_(None)))
    else:
        nickname, at, host = resource.removeprefix("acct:").lstrip("@").rpartition("@")
        if not at or not nickname or host.lower() not in local_host_names():
            return None
        found = Account.find_local(nickname)
    return found if found is not None and not found.is_deleted else None


@bp.get("/.well-known/host-meta")
@responds(api_schemas.XML, content_type="application/xrd+xml")
def host_meta() -> Response:
    """XRD pointing at the WebFinger endpoint (older OStatus-era discovery)."""
    template = f"{base_url()}/.well-known/webfinger?resource={{uri}}"
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">'
        f'<Link rel="lrdd" type="application/jrd+json" template="{template}"/>'
        "</XRD>"
    )
    return Response(body, content_type="application/xrd+xml; charset=utf-8")


@bp.get("/users/<nickname>")
@responds(api_schemas.Actor, content_type="application/activity+json")
def actor(nickname: str) -> Response:
    """A minimal ActivityPub actor, as JSON whatever the Accept header."""
    # There is no HTML front end to redirect browsers to, so every caller gets the actor JSON.
    account = Account.find_local(nickname)
    if account is None or account.is_deleted:
        raise ApiError(404, "Not found")
    response = jsonify(_actor_json(account))
    response.content_type = ACTIVITY_JSON
    return response


def _actor_json(account: Account) -> dict:
    ap_id = account.ap_id
    data: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": ap_id,
        "type": account.actor_type if account.actor_type in ("Person", "Service") else "Person",
        "preferredUsername": account.nickname,
        "name": account.display_name or account.nickname,
        "summary": account.note_html,
        "url": ap_id,
        "inbox": f"{ap_id}/inbox",
        "outbox": f"{ap_id}/outbox",
        "followers": f"{ap_id}/followers",
        "following": f"{ap_id}/following",
        "manuallyApprovesFollowers": account.is_locked,
        "discoverable": account.is_discoverable,
        "endpoints": {"sharedInbox": f"{base_url()}/inbox"},
        "publicKey": {"id": f"{ap_id}#main-key", "owner": ap_id, "publicKeyPem": account.public_key or ""},
        # Another server checks these when an account moves here (SPEC 11, move_account).
        "alsoKnownAs": list(account.also_known_as or []),
    }
    if account.moved_to is not None:
        data["movedTo"] = account.moved_to.ap_id
    if account.avatar:
        data["icon"] = {"type": "Image", "url": f"{base_url()}/media/{account.avatar}"}
    if account.header:
        data["image"] = {"type": "Image", "url": f"{base_url()}/media/{account.header}"}
    return data


@bp.get("/notice/<status_id>")
@responds(None, status=302, headers=LOCATION_HEADER)
def notice(status_id: str) -> Response:
    """A status' `url`: no HTML page here, so it leads to the status as JSON."""
    # Quoted: an id with a newline or `?` must not reach the Location header as it came.
    return redirect(f"/api/v1/statuses/{quote(status_id, safe='')}", code=302)
