"""The ActivityPub documents other servers read (SPEC 24.1): actors, their collections, objects,
the instance actor, and content negotiation on /users/<nickname> and /notice/<id>. The inboxes
are POST routes of their own (federation's inbox)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from apiflask import APIBlueprint
from apiflask.fields import String
from flask import Response
from flask import current_app
from flask import jsonify
from flask import redirect
from flask import request
from flask import send_file

import api_schemas
from errors import ApiError
from federation import actor_collections
from federation import documents
from federation import objects
from federation.objects import local_status
from federation.objects import may_read
from federation.objects import object_id
from federation.objects import tombstone_for
from models import Account
from models import Status
from models import db
from openapi import LOCATION_HEADER
from openapi import answer
from openapi import responds
from params import Length
from params import Params

bp = APIBlueprint("activitypub", __name__, tag="ActivityPub")

ACTIVITY_JSON = documents.ACTIVITY_JSON
AP_DOCUMENT = {"type": "object", "description": "an ActivityPub document (JSON-LD)"}


class PageIn(Params):
    page = String(load_default=None, validate=Length(max=16))
    max_id = String(load_default=None, validate=Length(max=64))


# ---- Content negotiation


def wants_activity_json() -> bool:
    """`application/activity+json` or `application/ld+json` (any profile) asked for."""
    accept = request.headers.get("Accept", "").lower()
    return "activity+json" in accept or "ld+json" in accept


def wants_html() -> bool:
    """A browser: it names text/html and likes it at least as much as JSON (`*/*` alone, as
    curl sends, or no Accept at all is not a browser)."""
    if wants_activity_json():
        return False
    accepted = list(request.accept_mimetypes)
    html = max((q for value, q in accepted if value == "text/html"), default=0)
    json_q = max((q for value, q in accepted if value == "application/json"), default=0)
    return html > 0 and html >= json_q


def _frontend_index() -> Path | None:
    configured = current_app.config.get("FRONTEND_DIR")
    folder = Path(configured) if configured else Path(current_app.instance_path) / "frontend"
    index = folder / "index.html"
    return index if index.is_file() else None


def _frontend_page() -> Response | None:
    """The installed front-end's index.html for a browser, which routes the path itself."""
    index = _frontend_index() if wants_html() else None
    if index is None:
        return None
    response = send_file(index, mimetype="text/html", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    response.vary.add("Accept")
    return response


def activity_response(document: dict, status: int = 200) -> Response:
    response = jsonify(document)
    response.status_code = status
    response.content_type = ACTIVITY_JSON
    response.vary.add("Accept")
    return response


def _local_account(nickname: str) -> Account:
    account = Account.find_local(nickname)
    if account is None or account.is_deleted:
        raise ApiError(404, "Not found")
    return account


# ---- Actors and collections


@bp.get("/users/<nickname>")
@responds(api_schemas.Actor, content_type=ACTIVITY_JSON)
def actor(nickname: str) -> Response:
    """The account's actor (Person/Service); a browser gets the front-end's page when one is
    installed."""
    account = _local_account(nickname)
    return _frontend_page() or activity_response(documents.actor(account))


@bp.get("/users/<nickname>/outbox")
@bp.input(PageIn, location="query", arg_name="params")
@responds(AP_DOCUMENT, content_type=ACTIVITY_JSON)
def outbox(nickname: str, params: dict) -> Response:
    """The public Create/Announce activities: the collection, or a page of it with `page`."""
    account = _local_account(nickname)
    if params["page"] is None and params["max_id"] is None:
        return activity_response(actor_collections.outbox(account))
    return activity_response(actor_collections.outbox_page(account, params["max_id"]))


def _relation(nickname: str, params: dict, followers: bool) -> Response:
    account = _local_account(nickname)
    if params["page"] is None and params["max_id"] is None:
        return activity_response(actor_collections.relation_collection(account, followers))
    try:
        return activity_response(actor_collections.relation_page(account, followers, params["max_id"]))
    except actor_collections.HiddenCollection:
        raise ApiError(403, "The account hides this collection") from None


@bp.get("/users/<nickname>/followers")
@bp.input(PageIn, location="query", arg_name="params")
@responds(AP_DOCUMENT, 403, content_type=ACTIVITY_JSON)
def followers(nickname: str, params: dict) -> Response:
    """The followers: their count, and pages of their ids unless the account hides them."""
    return _relation(nickname, params, followers=True)


@bp.get("/users/<nickname>/following")
@bp.input(PageIn, location="query", arg_name="params")
@responds(AP_DOCUMENT, 403, content_type=ACTIVITY_JSON)
def following(nickname: str, params: dict) -> Response:
    """The followed accounts: their count, and pages of their ids unless the account hides them."""
    return _relation(nickname, params, followers=False)


@bp.get("/users/<nickname>/collections/featured")
@responds(AP_DOCUMENT, content_type=ACTIVITY_JSON)
def featured(nickname: str) -> Response:
    """The pinned statuses as Notes."""
    return activity_response(actor_collections.featured(_local_account(nickname)))


@bp.get("/internal/fetch")
@responds(AP_DOCUMENT, content_type=ACTIVITY_JSON)
def instance_actor() -> Response:
    """The instance actor (Application), which signs fetches made on no account's behalf."""
    return activity_response(documents.instance_actor())


# ---- Objects


def _requester(needed: bool = True) -> Account | None:
    """The remote actor of a signed GET (SPEC 24.1); only looked for when the answer depends on
    it, since an unknown keyId costs a fetch of its actor."""
    if not needed:
        return None
    query = request.query_string.decode("latin-1")
    target = request.path + (f"?{query}" if query else "")
    return objects.signed_requester(request.method, target, request.headers)


def _readable(status: Status | None) -> Status | None:
    # An object the reader may not see answers exactly as one that does not exist.
    if status is None:
        return None
    requester = _requester(objects.needs_requester(status))
    return status if may_read(status, requester.ap_id if requester else None) else None


def _private_answer(response: Response, status: Status) -> Response:
    return _signed_only(response) if objects.needs_requester(status) else response


def _signed_only(response: Response) -> Response:
    # The answer depends on who signed the request: never shared from a cache.
    response.vary.add("Signature")
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _readable_object(uuid: str) -> Status | None:
    return _readable(local_status(object_id(uuid)))


def _missing(uuid: str) -> Response:
    """410 with the Tombstone of an object known to be deleted, else 404."""
    gone = tombstone_for(object_id(uuid))
    if gone is None:
        raise ApiError(404, "Not found")
    return activity_response(documents.with_context(gone), 410)


@bp.get("/objects/<uuid>")
@responds(
    AP_DOCUMENT, 410, content_type=ACTIVITY_JSON, also={302: answer(None, 302, headers=LOCATION_HEADER)}
)
def show_object(uuid: str) -> Response:
    """The Note (or Question) of a local status: public and unlisted ones to anyone, private and
    direct ones to a signed fetch by one of their recipients; a browser is sent to the status'
    page (/notice/<id>)."""
    status = _readable_object(uuid)
    if status is None:
        return _missing(uuid)
    if wants_html():
        return redirect(f"/notice/{status.id}", code=302)
    return _private_answer(activity_response(documents.note(status)), status)


@bp.get("/objects/<uuid>/activity")
@responds(AP_DOCUMENT, 410, content_type=ACTIVITY_JSON)
def show_create(uuid: str) -> Response:
    """The Create that published the object."""
    status = _readable_object(uuid)
    if status is None:
        return _missing(uuid)
    return _private_answer(activity_response(documents.create(status)), status)


@bp.get("/activities/<uuid>")
@responds(AP_DOCUMENT, content_type=ACTIVITY_JSON)
def show_activity(uuid: str) -> Response:
    """An activity Kenoma sent, as it was delivered; a Create shows its status as it is now.
    Activities not addressed to the public go only to a signed fetch by their recipients."""
    activity = objects.local_activity(objects.activity_id(uuid))
    if activity is None:
        raise ApiError(404, "Not found")
    if objects.publishes_status(activity):
        status = _readable(local_status(activity.object_id))
        if status is None:
            raise ApiError(404, "Not found")
        document = documents.create(status, activity_id=activity.ap_id)
        return _private_answer(activity_response(document), status)
    public = objects.is_public_activity(activity.data or {})
    if not objects.may_read_activity(activity, _requester(not public)):
        raise ApiError(404, "Not found")
    response = activity_response(activity.data or {})
    return response if public else _signed_only(response)


@bp.get("/notice/<status_id>")
@responds(
    AP_DOCUMENT,
    content_type=ACTIVITY_JSON,
    also={302: answer(None, 302, headers=LOCATION_HEADER)},
)
def notice(status_id: str) -> Response:
    """A status' `url`: its Note for ActivityPub readers, the front-end's page for a browser
    when one is installed, else a redirect to the status in the client API."""
    if wants_activity_json():
        return _notice_document(status_id)
    # Quoted: an id with a newline or `?` must not reach the Location header as it came.
    response = _frontend_page() or redirect(f"/api/v1/statuses/{quote(status_id, safe='')}", code=302)
    response.vary.add("Accept")  # the same URL is also the Note: caches must keep them apart
    return response


def _notice_document(status_id: str) -> Response:
    status = _readable(db.session.get(Status, status_id))
    if status is None:
        raise ApiError(404, "Not found")
    if status.account.domain is not None:  # another server's: its own id is the document
        return redirect(status.uri, code=302)
    if status.reblog_of_id:
        return activity_response(documents.announce(status))
    return _private_answer(activity_response(documents.note(status)), status)
