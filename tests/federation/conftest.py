"""Helpers for the ActivityPub tests: statuses made through the client API, a custom emoji pack,
and JSON-LD expansion by pyld (an independent JSON-LD processor) against the two W3C contexts,
shipped here so that no test reaches the network."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pyld import jsonld

from models import Status
from models import db

CONTEXTS = Path(__file__).parent / "contexts"
KNOWN_CONTEXTS = {
    "https://www.w3.org/ns/activitystreams": CONTEXTS / "activitystreams.jsonld",
    "https://w3id.org/security/v1": CONTEXTS / "security-v1.jsonld",
}
AP = "application/activity+json"


def _offline_loader(url: str, options: Any = None) -> dict:
    path = KNOWN_CONTEXTS.get(url)
    if path is None:
        raise jsonld.JsonLdError(
            f"no offline copy of {url}", "jsonld.LoadDocumentError", code="loading document failed"
        )
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": json.loads(path.read_text()),
    }


def expand(document: dict) -> list:
    """The document expanded by pyld; fails when a key or a type is a term no context defines
    (the ActivityStreams context maps those to `_:` blank-node names)."""
    expanded = jsonld.expand(document, {"documentLoader": _offline_loader})
    undefined = sorted(_undefined(expanded))
    assert undefined == [], f"terms no context defines: {undefined}"
    return expanded


def _undefined(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, list):
        for item in node:
            found |= _undefined(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key.startswith("_:"):
                found.add(key)
            if key == "@type":
                found |= {t for t in (value if isinstance(value, list) else [value]) if t.startswith("_:")}
            found |= _undefined(value)
    return found


def first(expanded: list, iri: str) -> Any:
    """The first value of property `iri` of the expanded top node."""
    values = expanded[0].get(iri, [])
    return values[0] if values else None


AS = "https://www.w3.org/ns/activitystreams#"


@pytest.fixture
def post(client: FlaskClient) -> Callable[..., Status]:
    """post(headers, status="...", visibility=..., ...) -> the Status row made by the client API."""

    def make(headers: dict, **data: Any) -> Status:
        response = client.post("/api/v1/statuses", json=data, headers=headers)
        assert response.status_code == 200, response.get_json()
        found = db.session.get(Status, response.get_json()["id"])
        assert found is not None
        return found

    return make


@pytest.fixture
def emoji_pack(app: Flask) -> str:
    """A pack with one custom emoji, `:kenoma:`; answers its image URL."""
    folder = Path(app.config["EMOJI_DIR"]) / "fed"
    folder.mkdir(parents=True)
    (folder / "pack.json").write_text(json.dumps({"files": {"kenoma": "kenoma.png"}, "pack": {}}))
    (folder / "kenoma.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    return f"{app.config['BASE_URL']}/emoji/fed/kenoma.png"


def get_ap(client: FlaskClient, path: str, **kwargs: Any) -> Any:
    return client.get(path, headers={"Accept": AP}, **kwargs)


@pytest.fixture
def peers(live_server: Callable[..., Any]) -> tuple[Any, Any]:
    """Two live Kenomas: alice and dave here, carol and erin there."""
    from tests.federation.peers import Peer

    return Peer(live_server(), "alice", "dave"), Peer(live_server(), "carol", "erin")
