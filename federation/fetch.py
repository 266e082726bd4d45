"""Signed GETs to other servers (SPEC 24.3): as an account, or as the instance actor when no
account is behind the fetch. GoToSocial and Mastodon in secure mode refuse unsigned fetches.
Every request goes through outbound.py's private-address guard and size/time limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import current_app

import keys
import outbound
from federation.signatures import sign_request
from models import Account

AP_ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
INSTANCE_ACTOR_PATH = "/internal/fetch"
FetchError = outbound.FetchError


def instance_actor_id() -> str:
    return current_app.config["BASE_URL"] + INSTANCE_ACTOR_PATH


def instance_key_id() -> str:
    return f"{instance_actor_id()}#main-key"


def signing_key(account: Account | None) -> tuple[str, str]:
    """(keyId, private PEM) of a local account, or of the instance actor."""
    if account is not None and account.private_key:
        return f"{account.ap_id}#main-key", account.private_key
    private, _ = keys.instance_actor_keys(Path(current_app.instance_path))
    return instance_key_id(), private


def _signer(account: Account | None) -> outbound.Signer:
    key_id, private = signing_key(account)
    return lambda url: sign_request("GET", url, None, key_id, private)


def fetch_document(url: str, as_account: Account | None = None) -> dict[str, Any]:
    """An ActivityPub document; FetchError when it cannot be had or is not a JSON object."""
    if is_blocked_host(urlsplit(url).netloc):
        raise FetchError("instance blocked")
    document = outbound.fetch_json(
        url,
        allow_private=current_app.config["ALLOW_PRIVATE_FETCH"],
        accept=AP_ACCEPT,
        sign=_signer(as_account),
    )
    if not isinstance(document, dict):
        raise FetchError("not an ActivityPub object")
    return document


def host_of(ap_id: str) -> str:
    return urlsplit(ap_id).netloc.lower()


def is_blocked_host(host: str) -> bool:
    """KENOMA_BLOCKED_INSTANCES (SPEC 24.6): exact domains, or `*.example` for its subdomains
    (and itself). The port is not part of the match."""
    name = host.lower().rsplit(":", 1)[0] if host.count(":") == 1 else host.lower()
    for pattern in current_app.config["BLOCKED_INSTANCES"]:
        if pattern.startswith("*."):
            if name == pattern[2:] or name.endswith(pattern[1:]):
                return True
        elif name == pattern:
            return True
    return False
