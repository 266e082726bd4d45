"""Web Push delivery (SPEC 25.2) end to end: a subscription made with a real P-256 key pair, a
notification, the push caught by a loopback push service and decrypted with http_ece (the
`aesgcm` Mastodon.py and most apps decode, and RFC 8291 `aes128gcm` for standard=true)."""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer

import http_ece
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from models import Account
from services import web_push
from tests.conftest import LiveServer
from tests.conftest import password_token


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class PushService:
    """A loopback push service: records each POST and answers `status`."""

    url: str
    status: int = 201
    answers: list[int] = field(default_factory=list)  # answered first, one per POST, then `status`
    received: list[dict] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def push_service() -> Iterator[PushService]:
    service = PushService(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            service.received.append({"path": self.path, "headers": dict(self.headers), "body": body})
            self.send_response(service.answers.pop(0) if service.answers else service.status)
            self.send_header("Content-Length", "0")
            self.end_headers()
            service.arrived.set()

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    service.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield service
    server.shutdown()


@dataclass
class Device:
    """The browser side of a subscription: its key pair and auth secret."""

    key: ec.EllipticCurvePrivateKey
    auth: bytes

    @classmethod
    def new(cls) -> Device:
        return cls(ec.generate_private_key(ec.SECP256R1()), os.urandom(16))

    @property
    def p256dh(self) -> str:
        point = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return _b64(point)

    def decrypt(self, message: dict, standard: bool) -> dict:
        if standard:
            plain = http_ece.decrypt(
                message["body"], private_key=self.key, auth_secret=self.auth, version="aes128gcm"
            )
        else:
            headers = {k.lower(): v for k, v in message["headers"].items()}
            salt = dict(p.split("=", 1) for p in headers["encryption"].split(";"))["salt"]
            crypto = dict(p.split("=", 1) for p in headers["crypto-key"].split(";"))
            plain = http_ece.decrypt(
                message["body"],
                salt=_unb64(salt),
                dh=_unb64(crypto["dh"]),
                private_key=self.key,
                auth_secret=self.auth,
                version="aesgcm",
            )
        return json.loads(plain)


@pytest.fixture
def server(live_server: Callable[..., LiveServer]) -> LiveServer:
    return live_server()


def _accounts(server: LiveServer) -> tuple[dict, dict]:
    """alice and bob with their tokens (bob's covers push)."""
    client = server.app.test_client()
    registered = client.post(
        "/api/v1/apps",
        data={
            "client_name": "push",
            "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
            "scopes": "read write follow push",
        },
    ).get_json()
    with server.app.app_context():
        from models import db
        from services.accounts import create_local_account

        for name in ("alice", "bob"):
            create_local_account(name, "secret-pw", email=f"{name}@example.org")
        db.session.commit()
        ids = {a.nickname: a.id for a in db.session.query(Account).all()}
    tokens = {n: password_token(client, registered, n, "read write follow push") for n in ("alice", "bob")}
    return ids, tokens


def _subscribe(
    server: LiveServer, token: str, endpoint: str, device: Device, **extra: object
) -> requests.Response:
    body = {
        "subscription": {"endpoint": endpoint, "keys": {"p256dh": device.p256dh, "auth": _b64(device.auth)}},
        "data": {"alerts": {"mention": True, "follow": True, "favourite": False}},
    }
    for key, value in extra.items():
        section, name = key.split("__")
        body[section][name] = value
    return requests.post(
        f"{server.url}/api/v1/push/subscription",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


def _post(server: LiveServer, token: str, path: str, **data: str) -> dict:
    response = requests.post(
        f"{server.url}{path}", data=data, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("standard", [False, True])
def test_a_mention_is_pushed_encrypted(server: LiveServer, push_service: PushService, standard: bool) -> None:
    ids, tokens = _accounts(server)
    device = Device.new()
    subscribed = _subscribe(
        server, tokens["bob"], f"{push_service.url}/push/bob", device, subscription__standard=standard
    )
    assert subscribed.status_code == 200, subscribed.text
    assert subscribed.json()["standard"] is standard and subscribed.json()["policy"] == "all"

    status = _post(server, tokens["alice"], "/api/v1/statuses", status="hello @bob, are you there?")
    assert push_service.arrived.wait(5)
    [message] = push_service.received
    headers = {k.lower(): v for k, v in message["headers"].items()}
    assert headers["content-encoding"] == ("aes128gcm" if standard else "aesgcm")
    assert headers["ttl"] == str(48 * 3600)
    if standard:
        assert headers["authorization"].startswith("vapid t=")
    else:  # Mastodon's legacy form: the VAPID key rides in Crypto-Key
        assert headers["authorization"].startswith("WebPush ")
        assert "p256ecdsa=" in headers["crypto-key"]
    pushed = device.decrypt(message, standard)
    notification = requests.get(
        f"{server.url}/api/v1/notifications", headers={"Authorization": f"Bearer {tokens['bob']}"}, timeout=10
    ).json()[0]
    assert pushed == {
        "access_token": tokens["bob"],
        "preferred_locale": "en",
        "notification_id": notification["id"],
        "notification_type": "mention",
        "icon": notification["account"]["avatar"],
        "title": "alice mentioned you",
        "body": "hello @bob, are you there?",
    }
    assert notification["status"]["id"] == status["id"]


def test_alerts_and_policy_are_honoured(server: LiveServer, push_service: PushService) -> None:
    ids, tokens = _accounts(server)
    device = Device.new()
    assert (
        _subscribe(
            server, tokens["bob"], f"{push_service.url}/p", device, data__policy="followed"
        ).status_code
        == 200
    )
    status = _post(server, tokens["bob"], "/api/v1/statuses", status="like me")
    _post(server, tokens["alice"], f"/api/v1/statuses/{status['id']}/favourite")  # favourite: alert off
    _post(server, tokens["alice"], "/api/v1/statuses", status="@bob from a stranger")  # not followed
    assert push_service.received == []
    _post(server, tokens["bob"], f"/api/v1/accounts/{ids['alice']}/follow")
    _post(server, tokens["alice"], "/api/v1/statuses", status="@bob from a friend")
    assert push_service.arrived.wait(5)
    assert [device.decrypt(m, False)["body"] for m in push_service.received] == ["@bob from a friend"]


@pytest.mark.parametrize("status", [404, 410])
def test_a_gone_subscription_is_removed(server: LiveServer, push_service: PushService, status: int) -> None:
    ids, tokens = _accounts(server)
    push_service.status = status
    assert _subscribe(server, tokens["bob"], f"{push_service.url}/gone", Device.new()).status_code == 200
    _post(server, tokens["alice"], f"/api/v1/accounts/{ids['bob']}/follow")  # a follow alert
    assert push_service.arrived.wait(5)
    response = requests.get(
        f"{server.url}/api/v1/push/subscription",
        headers={"Authorization": f"Bearer {tokens['bob']}"},
        timeout=10,
    )
    assert response.status_code == 404
    assert response.json() == {"error": "Record not found"}
    assert _retries(server) == []  # gone is gone: nothing is tried again


def _retries(server: LiveServer) -> list:
    return server.app.extensions["kenoma_jobs"].huey.scheduled()


def _run_due_retries(server: LiveServer) -> None:
    """Run the scheduled retries now, as the consumer does once they fall due (jobs run inline
    in tests, and a delayed job waits in the schedule)."""
    huey = server.app.extensions["kenoma_jobs"].huey
    later = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=1)
    for task in huey.read_schedule(later):
        huey.execute(task, timestamp=later)


def _subscription_kept(server: LiveServer, token: str) -> bool:
    response = requests.get(
        f"{server.url}/api/v1/push/subscription", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    return response.status_code == 200


def test_a_failed_push_is_retried_until_delivered(server: LiveServer, push_service: PushService) -> None:
    ids, tokens = _accounts(server)
    push_service.answers = [500]  # then 201
    device = Device.new()
    assert _subscribe(server, tokens["bob"], f"{push_service.url}/flaky", device).status_code == 200
    _post(server, tokens["alice"], "/api/v1/statuses", status="@bob second time lucky")
    assert len(push_service.received) == 1
    [retry] = _retries(server)
    name, kwargs = retry.args
    assert name == "send_web_push" and kwargs["attempt"] == 1
    assert (
        timedelta(seconds=5)
        < retry.eta - datetime.now(UTC).replace(tzinfo=None)
        <= timedelta(seconds=web_push.RETRY_DELAYS[0])
    )
    _run_due_retries(server)
    assert len(push_service.received) == 2
    assert device.decrypt(push_service.received[1], False)["body"] == "@bob second time lucky"
    assert _retries(server) == []  # delivered: nothing more to try
    assert _subscription_kept(server, tokens["bob"])


def test_a_push_service_that_keeps_failing_is_given_up(server: LiveServer, push_service: PushService) -> None:
    ids, tokens = _accounts(server)
    push_service.status = 500
    assert _subscribe(server, tokens["bob"], f"{push_service.url}/down", Device.new()).status_code == 200
    _post(server, tokens["alice"], f"/api/v1/accounts/{ids['bob']}/follow")
    for _ in web_push.RETRY_DELAYS:
        assert len(_retries(server)) == 1
        _run_due_retries(server)
    # The first attempt and one per delay; then nothing more is scheduled, and a server error
    # (unlike 404/410) does not remove the subscription.
    assert len(push_service.received) == 1 + len(web_push.RETRY_DELAYS)
    assert _retries(server) == []
    assert _subscription_kept(server, tokens["bob"])
