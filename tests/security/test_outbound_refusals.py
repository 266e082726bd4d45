"""Every endpoint that fetches from another server refuses loopback, link-local, private and
reserved addresses (however spelled) unless ALLOW_PRIVATE_FETCH: the refusal happens inside
outbound's connect-time guard, before any socket connects (the `connections` fixture fails the
test on a connection to anything but loopback, and here no connection is made at all)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from models import Account
from models import db
from tests.conftest import copy_fixture_pack
from tests.security.conftest import Connections
from tests.security.conftest import World
from tests.security.conftest import assert_json_error

# Hosts that must never be reached from the server: loopback, cloud metadata (link-local),
# RFC 1918, CGNAT, unspecified, IPv6 forms and the numeric spellings resolvers accept.
HOSTS = (
    "127.0.0.1",
    "127.1",
    "localhost",
    "2130706433",
    "0x7f000001",
    "0177.0.0.1",
    "0x7f.1",
    "0.0.0.0",
    "169.254.169.254",
    "10.0.0.1",
    "172.16.0.1",
    "192.168.1.1",
    "100.64.0.1",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "[::ffff:169.254.169.254]",
    "[64:ff9b::a9fe:a9fe]",
    "[fe80::1]",
    "[fc00::1]",
    "169.254.169.254:8080",
)
REFUSED = "refused non-public address"


@pytest.fixture
def admin_h(world: World) -> dict:
    return world.admin_h


@pytest.fixture
def pack(app: Flask) -> None:
    copy_fixture_pack(app, "test_pack")


def _each_host(connections: Connections, unchanged: Callable[..., Any], call: Callable[[str], None]) -> int:
    for host in HOSTS:
        with unchanged():
            call(host)
    assert connections.attempts == [], connections.attempts
    return len(HOSTS)


def test_emoji_remote_listing_refuses_private_hosts(
    client: FlaskClient, admin_h: dict, connections: Connections, unchanged: Callable[..., Any]
) -> None:
    def call(host: str) -> None:
        response = client.get(f"/api/v1/pleroma/emoji/packs/remote?url=http://{host}", headers=admin_h)
        # SPEC 17 keeps Pleroma's 500 for remote failures; the reason says what happened.
        assert REFUSED in assert_json_error(response, 500)["error"]

    _each_host(connections, unchanged, call)


def test_emoji_pack_download_refuses_private_hosts(
    client: FlaskClient, admin_h: dict, connections: Connections, unchanged: Callable[..., Any]
) -> None:
    def call(host: str) -> None:
        body = {"url": f"https://{host}", "name": "test_pack", "as": "stolen"}
        response = client.post("/api/v1/pleroma/emoji/packs/download", data=body, headers=admin_h)
        assert REFUSED in assert_json_error(response, 500)["error"]

    _each_host(connections, unchanged, call)


def test_emoji_fallback_src_refuses_private_hosts(
    client: FlaskClient, admin_h: dict, pack: None, connections: Connections, unchanged: Callable[..., Any]
) -> None:
    def call(host: str) -> None:
        body = {"name": "test_pack", "metadata": {"fallback-src": f"http://{host}/pack.zip", "license": "x"}}
        response = client.patch("/api/v1/pleroma/emoji/pack", json=body, headers=admin_h)
        assert REFUSED in assert_json_error(response, 500)["error"]

    _each_host(connections, unchanged, call)


def test_emoji_file_from_url_refuses_private_hosts(
    client: FlaskClient, admin_h: dict, pack: None, connections: Connections, unchanged: Callable[..., Any]
) -> None:
    def call(host: str) -> None:
        body = {
            "name": "test_pack",
            "shortcode": "stolen",
            "filename": "stolen.png",
            "file": f"http://{host}/x.png",
        }
        response = client.post("/api/v1/pleroma/emoji/packs/files", data=body, headers=admin_h)
        assert REFUSED in assert_json_error(response, 500)["error"]

    _each_host(connections, unchanged, call)


def test_remote_interaction_refuses_private_hosts(
    client: FlaskClient, world: World, connections: Connections, unchanged: Callable[..., Any]
) -> None:
    def call(host: str) -> None:
        body = {
            "ap_id": f"http://127.0.0.1:5000/notice/{world.ids['public_status']}",
            "profile": f"eve@{host}",
        }
        response = client.post("/api/v1/pleroma/remote_interaction", data=body)
        # SPEC 21.12: every failed lookup is 200 with this body.
        assert (response.status_code, response.get_json()) == (200, {"error": "Couldn't find user"})

    _each_host(connections, unchanged, call)


def test_imports_refuse_private_hosts(
    client: FlaskClient, world: World, connections: Connections, unchanged: Callable[..., Any]
) -> None:
    def call(host: str) -> None:
        names = f"eve@{host}\nhttp://{host}/users/eve\n"
        for kind in ("follow_import", "blocks_import", "mutes_import"):
            response = client.post(f"/api/pleroma/{kind}", data={"list": names}, headers=world.alice_h)
            assert (response.status_code, response.get_json()) == (200, "job started")

    _each_host(connections, unchanged, call)
    assert db.session.scalar(db.select(db.func.count(Account.id)).where(Account.domain.is_not(None))) == 0


def test_aliases_and_move_refuse_private_hosts(
    client: FlaskClient, world: World, connections: Connections, unchanged: Callable[..., Any]
) -> None:
    def call(host: str) -> None:
        for alias in (f"eve@{host}", f"http://{host}/users/eve"):
            response = client.put("/api/pleroma/aliases", data={"alias": alias}, headers=world.alice_h)
            assert_json_error(response, 404)
            move = {"password": "secret-pw", "target_account": alias}
            response = client.post("/api/pleroma/move_account", data=move, headers=world.alice_h)
            assert response.status_code in (200, 404) and "error" in response.get_json()

    _each_host(connections, unchanged, call)


def test_lookups_never_fetch(
    client: FlaskClient, world: World, connections: Connections, unchanged: Callable[..., Any]
) -> None:
    """Account references in reads and mentions resolve only what the server already knows."""

    def call(host: str) -> None:
        h = world.alice_h
        assert_json_error(client.get(f"/api/v1/accounts/lookup?acct=eve@{host}", headers=h), 404)
        assert client.get(f"/api/v2/search?q=eve@{host}&resolve=true", headers=h).status_code == 200
        assert_json_error(client.post(f"/api/v1/accounts/eve@{host}/follow", headers=h), 404)
        assert client.get(f"/ostatus_subscribe?acct=eve@{host}").status_code == 404

    _each_host(connections, unchanged, call)


def test_private_fetch_switch_lets_loopback_through(
    app: Flask, client: FlaskClient, world: World, live_server: Callable[..., Any], connections: Connections
) -> None:
    """The same lookup reaches a server on loopback once ALLOW_PRIVATE_FETCH is on (tests, dev)."""
    remote = live_server()
    with remote.app.app_context():
        from services.accounts import create_local_account

        create_local_account("eve", "pw-123456")
    body = {"ap_id": "https://x.example/notice/1", "profile": f"eve@{remote.host}"}
    refused = client.post("/api/v1/pleroma/remote_interaction", data=body)
    assert refused.get_json() == {"error": "Couldn't find user"}
    assert connections.attempts == []
    app.config["ALLOW_PRIVATE_FETCH"] = True
    allowed = client.post("/api/v1/pleroma/remote_interaction", data=body)
    assert allowed.get_json() == {"url": f"{remote.url}/ostatus_subscribe?acct=https://x.example/notice/1"}
    assert connections.attempts and not connections.non_loopback()
