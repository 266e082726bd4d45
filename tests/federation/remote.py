"""A minimal other ActivityPub server on loopback for inbound tests: it serves its actors and any
document put on it, and records every POST its inboxes receive (answering 202). Activities are
sent to Kenoma signed with the actor's key (`RemoteActor.send`), or tampered with on purpose."""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass
from dataclasses import field
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import requests

from federation.signatures import sign_request
from keys import new_account_keys

AS_PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
CONTEXT = ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"]
TIMEOUT = 15


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class RemoteServer:
    """`host` is the name the server is reached by (`localhost` gives a second, distinct host)."""

    host: str = "127.0.0.1"
    documents: dict[str, dict] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                document = owner.documents.get(urlsplit(self.path).path)
                body = json.dumps(document).encode() if document is not None else b"{}"
                self.send_response(200 if document is not None else 404)
                self.send_header("Content-Type", "application/activity+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                owner.received.append(Received("POST", self.path, dict(self.headers.items()), body))
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://{self.host}:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def put(self, document: dict) -> dict:
        """Serve `document` at its own id."""
        self.documents[urlsplit(document["id"]).path] = document
        return document

    def actor(self, name: str) -> RemoteActor:
        return RemoteActor(self, name)

    def inbox_posts(self) -> list[Received]:
        return [r for r in self.received if r.path.endswith("inbox")]


class RemoteActor:
    def __init__(self, server: RemoteServer, name: str) -> None:
        self.server, self.name = server, name
        self.ap_id = f"{server.url}/users/{name}"
        self.key_id = f"{self.ap_id}#main-key"
        self.private_pem, self.public_pem = new_account_keys()
        server.put(self.document())

    def document(self) -> dict:
        return {
            "@context": CONTEXT,
            "id": self.ap_id,
            "type": "Person",
            "preferredUsername": self.name,
            "inbox": f"{self.ap_id}/inbox",
            "outbox": f"{self.ap_id}/outbox",
            "followers": f"{self.ap_id}/followers",
            "endpoints": {"sharedInbox": f"{self.server.url}/inbox"},
            "publicKey": {"id": self.key_id, "owner": self.ap_id, "publicKeyPem": self.public_pem},
        }

    def new_id(self, kind: str = "activities") -> str:
        return f"{self.server.url}/{kind}/{uuid.uuid4()}"

    def note(self, content: str, to: list[str] | None = None, **extra: Any) -> dict:
        return {
            "id": self.new_id("objects"),
            "type": "Note",
            "attributedTo": self.ap_id,
            "content": content,
            "published": "2026-01-01T00:00:00Z",
            "to": to if to is not None else [AS_PUBLIC],
            "cc": [f"{self.ap_id}/followers"],
            **extra,
        }

    def activity(self, kind: str, obj: Any, **extra: Any) -> dict:
        return {
            "@context": CONTEXT,
            "id": self.new_id(),
            "type": kind,
            "actor": self.ap_id,
            "object": obj,
            **extra,
        }

    def create(self, note: dict) -> dict:
        return self.activity("Create", note, to=note.get("to", []), cc=note.get("cc", []))

    def signed_headers(
        self, url: str, body: bytes, key_id: str | None = None, private_pem: str | None = None
    ) -> dict:
        signed = sign_request("POST", url, body, key_id or self.key_id, private_pem or self.private_pem)
        return {"Content-Type": "application/activity+json", **signed}

    def send(self, inbox_url: str, activity: dict | bytes, **signing: Any) -> requests.Response:
        """POST the activity signed by this actor (or with the key given in `signing`)."""
        body = activity if isinstance(activity, bytes) else json.dumps(activity).encode()
        headers = self.signed_headers(inbox_url, body, **signing)
        return requests.post(inbox_url, data=body, headers=headers, timeout=TIMEOUT)
