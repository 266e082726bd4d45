"""How other software finds a local account (SPEC 9): WebFinger and host-meta. The documents they
lead to (the actor at /users/<nickname>, /notice/<id>) are routes/activitypub.py's."""

from __future__ import annotations

from urllib.parse import urlsplit

from apiflask import APIBlueprint
from apiflask.fields import String
from flask import Response
from flask import jsonify
from sqlalchemy import select

import api_schemas
from errors import ApiError
from federation.documents.actors import INSTANCE_ACTOR_NICKNAME
from federation.documents.actors import instance_actor_id
from models import Account
from models import db
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
    named = _instance_actor(data["resource"]) or _resource_account(data["resource"])
    if named is None:
        raise ApiError(404, "Couldn't find user")
    nickname, ap_id = named
    host = urlsplit(base_url()).netloc
    response = jsonify(
        {
            "subject": f"acct:{nickname}@{host}",
            "aliases": [ap_id],
            "links": [
                {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": ap_id},
                {"rel": "self", "type": ACTIVITY_JSON, "href": ap_id},
                {
                    "rel": "http://ostatus.org/schema/1.0/subscribe",
                    "template": f"{base_url()}/ostatus_subscribe?acct={{uri}}",
                },
            ],
        }
    )
    response.content_type = "application/jrd+json; charset=utf-8"
    return response


def _instance_actor(resource: str) -> tuple[str, str] | None:
    ap_id = instance_actor_id()
    names = {ap_id} | {f"acct:{INSTANCE_ACTOR_NICKNAME}@{host}" for host in local_host_names()}
    return (INSTANCE_ACTOR_NICKNAME, ap_id) if resource.strip() in names else None


def _resource_account(resource: str) -> tuple[str, str] | None:
    resource = resource.strip()
    if resource.startswith(("http://", "https://")):
        found = db.session.scalar(select(Account).where(Account.ap_id == resource, Account.domain.is_(None)))
    else:
        nickname, at, host = resource.removeprefix("acct:").lstrip("@").rpartition("@")
        if not at or not nickname or host.lower() not in local_host_names():
            return None
        found = Account.find_local(nickname)
    if found is None or found.is_deleted:
        return None
    return found.nickname, found.ap_id


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
