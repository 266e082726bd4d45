"""Helpers for the hostile-input tests: a snapshot of the whole database and of the files on disk,
so that every refusal can be shown to have changed nothing, and a small populated world."""

from __future__ import annotations

import hashlib
import io
import socket
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from models import Account
from models import db

# Files that change on every request without meaning anything (SQLite's own files).
_VOLATILE = ("kenoma.db", "kenoma.db-wal", "kenoma.db-shm", "kenoma.db-journal", "jobs.db")


def db_state(tables: tuple[str, ...] = ()) -> dict[str, list[tuple]]:
    """Every row of every table (or of `tables`), sorted: equal snapshots mean nothing changed."""
    db.session.expire_all()
    state = {}
    for table in db.metadata.sorted_tables:
        if tables and table.name not in tables:
            continue
        rows = db.session.execute(text(f'SELECT * FROM "{table.name}"')).all()
        state[table.name] = sorted(tuple(map(repr, row)) for row in rows)
    return state


def row_counts() -> dict[str, int]:
    return {name: len(rows) for name, rows in db_state().items()}


def disk_state(root: Path) -> dict[str, str]:
    """Relative path → content digest of every file (and `link` for links) under root."""
    found = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.name.startswith(_VOLATILE):
            continue
        if path.is_symlink():
            found[rel] = "link"
        elif path.is_dir():
            # Scratch folders (instance/tmp) stay once made; a folder with anything in it shows
            # through its files.
            continue
        else:
            found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


@pytest.fixture
def root(app: Flask) -> Path:
    """The test's temporary folder: instance (database, media, backups) and emoji folder."""
    return Path(app.instance_path).parent


@pytest.fixture
def unchanged(root: Path) -> Callable[..., Any]:
    """`with unchanged():` fails the test if the block changed a row or a file.
    `counts_only=True` compares row counts (for refusals that legitimately count an attempt)."""

    @contextmanager
    def check(counts_only: bool = False) -> Iterator[None]:
        before_db = row_counts() if counts_only else db_state()
        before_disk = disk_state(root)
        yield
        db.session.rollback()
        after_db = row_counts() if counts_only else db_state()
        assert after_db == before_db, _diff(before_db, after_db)
        assert disk_state(root) == before_disk

    return check


def _diff(before: dict, after: dict) -> str:
    changed = [name for name in before if before[name] != after.get(name)]
    return f"tables changed: {changed}"


def assert_json_error(response: Any, status: int | tuple[int, ...], message: str | None = None) -> dict:
    """A clear client error: the status, JSON content type, `{"error": "<text>"}`."""
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, (response.status_code, response.get_data(as_text=True)[:300])
    assert response.mimetype == "application/json", response.mimetype
    body = response.get_json()
    assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"], body
    if message is not None:
        assert body["error"] == message, body
    return body


# ---------------------------------------------------------------------------------------------
# Outbound traffic: a guard that fails the test on any connection it did not expect


@dataclass
class Connections:
    attempts: list[Any]

    def non_loopback(self) -> list[Any]:
        return [a for a in self.attempts if not _is_loopback(a)]


def _is_loopback(address: Any) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    host = str(host).split("%", 1)[0]
    return host in ("127.0.0.1", "::1", "localhost") or host.startswith("127.")


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> Connections:
    """Records every socket connect; a non-loopback one fails the test at once (no packet leaves)."""
    seen = Connections([])
    real_connect = socket.socket.connect
    real_create = socket.create_connection

    def guarded_connect(sock: socket.socket, address: Any) -> Any:
        seen.attempts.append(address)
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
            pytest.fail(f"outbound connection to {address!r}")
        return real_connect(sock, address)

    def guarded_create(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        seen.attempts.append(address)
        if not _is_loopback(address):
            pytest.fail(f"outbound connection to {address!r}")
        return real_create(address, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "create_connection", guarded_create)
    return seen


# ---------------------------------------------------------------------------------------------
# A small world: three accounts, private things of bob's that alice must not reach


PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c63f8cf"
    "c0f01f00050001ff89993d1d0000000049454e44ae426082"
)


def png_upload(name: str = "pixel.png", data: bytes = PNG_1PX, mimetype: str = "image/png") -> tuple:
    return (io.BytesIO(data), name, mimetype)


@pytest.fixture
def admin_headers(make_account: Callable[..., Account], auth_headers: Callable[..., dict]) -> dict:
    """Just an administrator's token, for tests that need no other account."""
    return auth_headers(make_account("admin", is_admin=True), "read write follow push admin")


@dataclass
class World:
    alice: Account
    bob: Account
    admin: Account
    alice_h: dict
    bob_h: dict
    admin_h: dict
    ids: dict[str, str]


@pytest.fixture
def world(
    client: FlaskClient, make_account: Callable[..., Account], auth_headers: Callable[..., dict]
) -> World:
    """alice (the attacker), bob (the victim) with private things of every kind, an admin."""
    alice = make_account("alice")
    bob = make_account("bob")
    admin = make_account("admin", is_admin=True)
    alice_h = auth_headers(alice, "read write follow push")
    bob_h = auth_headers(bob, "read write follow push")
    admin_h = auth_headers(admin, "read write follow push admin")
    ids: dict[str, str] = {}

    def ok(response: Any) -> Any:
        assert response.status_code == 200, (response.status_code, response.get_data(as_text=True)[:300])
        return response.get_json()

    ids["public_status"] = ok(client.post("/api/v1/statuses", data={"status": "hi"}, headers=alice_h))["id"]
    ids["bob_private"] = ok(
        client.post("/api/v1/statuses", data={"status": "secret", "visibility": "private"}, headers=bob_h)
    )["id"]
    ids["bob_direct"] = ok(
        client.post("/api/v1/statuses", data={"status": "@admin psst", "visibility": "direct"}, headers=bob_h)
    )["id"]
    ok(client.post(f"/api/v1/statuses/{ids['public_status']}/favourite", headers=bob_h))
    # admin's notification (bob mentioned them): alice must not reach it.
    ids["admin_notification"] = ok(client.get("/api/v1/notifications", headers=admin_h))[0]["id"]
    ids["bob_conversation"] = ok(client.get("/api/v1/conversations", headers=bob_h))[0]["id"]
    ids["bob_media"] = ok(client.post("/api/v1/media", data={"file": png_upload()}, headers=bob_h))["id"]
    ids["bob_folder"] = ok(
        client.post("/api/v1/pleroma/bookmark_folders", data={"name": "mine"}, headers=bob_h)
    )["id"]
    ids["bob_token"] = str(ok(client.get("/api/oauth_tokens", headers=bob_h))[0]["id"])
    ok(client.post("/api/v1/pleroma/backups", headers=bob_h))
    ids["alice_status"] = ids["public_status"]
    db.session.expire_all()
    return World(alice, bob, admin, alice_h, bob_h, admin_h, ids)
