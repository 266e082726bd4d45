"""Shared fixtures: an app on a temporary instance folder, accounts and real OAuth tokens."""

from __future__ import annotations

import base64
import shutil
import socket
import threading
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask import Response
from flask.testing import FlaskClient
from sqlalchemy import event
from werkzeug.serving import make_server

import app as app_module
from app import create_app
from models import Account
from models import db
from tests import scaled
from tests.emoji_fixtures import fixture_packs

BASE_URL = "http://127.0.0.1:5000"


@pytest.fixture(scope="session", autouse=True)
def engines() -> Iterator[scaled.Engines | None]:
    """KENOMA_TEST_DB=postgres: the session's throwaway PostgreSQL and Redis (tests/scaled.py),
    and every app made in a test put onto them, one database per instance folder."""
    if not scaled.SCALED:
        yield None
        return
    started = scaled.Engines()
    started.start()
    scaled.current = started
    original = app_module._configure

    def configure(made: Flask, test_config: dict | None) -> None:
        config = dict(test_config or {})
        # A test that chose its database keeps it; one marked `embedded` keeps the SQLite file.
        if "SQLALCHEMY_DATABASE_URI" not in config and not started.embedded:
            config |= scaled.instance_config(made.instance_path)
        original(made, config)
        started.track(made)

    app_module._configure = configure
    try:
        yield started
    finally:
        app_module._configure = original
        scaled.current = None
        started.stop()


@pytest.fixture(autouse=True)
def _fresh_engines(engines: scaled.Engines | None, request: pytest.FixtureRequest) -> None:
    if engines is not None:
        engines.next_test()
        engines.embedded = request.node.get_closest_marker("embedded") is not None


def made_app(tmp_path: Path, **config: object) -> Iterator[Flask]:
    """The tests' app (`config` over its settings), its schema built; torn down after."""
    emoji_dir = tmp_path / "emoji"
    emoji_dir.mkdir()
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "EMOJI_DIR": str(emoji_dir),
            "BASE_URL": BASE_URL,
            "JOBS_IMMEDIATE": True,
            "RATELIMIT_ENABLED": False,
            "REGISTRATIONS_OPEN": True,
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_COST": 64,
            **config,
        }
    )
    with app.app_context():
        # Tests build the schema from the models; production paths only ever run migrations.
        db.create_all()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    yield from made_app(tmp_path)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def make_account(app: Flask) -> Callable[..., Account]:
    from services.accounts import create_local_account

    def make(nickname: str = "alice", password: str = "secret-pw", **kwargs: Any) -> Account:
        return create_local_account(
            nickname, password, email=kwargs.pop("email", f"{nickname}@example.org"), **kwargs
        )

    return make


@pytest.fixture
def account(make_account: Callable[..., Account]) -> Account:
    return make_account("alice")


@pytest.fixture
def bob(make_account: Callable[..., Account]) -> Account:
    return make_account("bob")


@pytest.fixture
def carol(make_account: Callable[..., Account]) -> Account:
    return make_account("carol")


@pytest.fixture
def oauth_app(client: FlaskClient) -> dict:
    response = client.post(
        "/api/v1/apps",
        data={
            "client_name": "Test client",
            "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
            "scopes": "read write follow push admin",
        },
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.fixture
def token(client: FlaskClient, oauth_app: dict) -> Callable[..., str]:
    """token(account, scopes="read write follow push") -> a real access token via the password grant."""

    def issue(who: Account, scopes: str = "read write follow push", password: str = "secret-pw") -> str:
        return password_token(client, oauth_app, who.nickname, scopes, password)

    return issue


def password_token(
    client: FlaskClient, registered: dict, nickname: str, scopes: str, password: str = "secret-pw"
) -> str:
    """An access token of the app `registered` (POST /api/v1/apps' answer), password grant."""
    response = client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": registered["client_id"],
            "client_secret": registered["client_secret"],
            "username": nickname,
            "password": password,
            "scope": scopes,
        },
    )
    assert response.status_code == 200, response.get_json()
    # A test client keeps cookies; tests of the cookie path ask for it explicitly.
    client.delete_cookie("_pleroma_key")
    return response.get_json()["access_token"]


@pytest.fixture
def auth_headers(token: Callable[..., str]) -> Callable[..., dict]:
    def headers(who: Account, scopes: str = "read write follow push") -> dict:
        return {"Authorization": f"Bearer {token(who, scopes)}"}

    return headers


@pytest.fixture
def alice_h(auth_headers: Callable[..., dict], account: Account) -> dict:
    return auth_headers(account)


@pytest.fixture
def bob_h(auth_headers: Callable[..., dict], bob: Account) -> dict:
    return auth_headers(bob)


@pytest.fixture
def carol_h(auth_headers: Callable[..., dict], carol: Account) -> dict:
    return auth_headers(carol)


def form_login(client: FlaskClient, registered: dict, nickname: str = "alice") -> Response:
    """Sign in through the login form (POST /oauth/authorize, out-of-band, scope read), which
    leaves the `_pleroma_key` session cookie in `client`."""
    return client.post(
        "/oauth/authorize",
        data={
            "authorization[name]": nickname,
            "authorization[password]": "secret-pw",
            "authorization[client_id]": registered["client_id"],
            "authorization[redirect_uri]": "urn:ietf:wg:oauth:2.0:oob",
            "authorization[scope]": "read",
        },
    )


def basic_headers(nickname: str, password: str = "secret-pw") -> dict:
    encoded = base64.b64encode(f"{nickname}:{password}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, *args: Any) -> None:
        self.statements.append(args[2])

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app: Flask) -> Callable[[], Any]:
    """with count_queries() as counter: ... ; counter.count is the number of SQL statements.

    Counting tests measure the work of building an answer, so kept answers (readcache.py, whose
    own statement counts are tested in tests/test_readcache.py) are off for them."""
    from contextlib import contextmanager

    app.config["READ_CACHE"] = False

    @contextmanager
    def counting() -> Iterator[QueryCounter]:
        counter = QueryCounter()
        # Requests of the test client share the test's session: start from nothing loaded, as a
        # request of a real server does.
        db.session.expire_all()
        event.listen(db.engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            event.remove(db.engine, "before_cursor_execute", counter)

    return counting


@contextmanager
def sql_log() -> Iterator[list[str]]:
    """The statements run, in order, with "COMMIT" where the transaction commits."""
    log: list[str] = []

    def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        log.append(" ".join(sql.split()))

    def commit(_conn: Any) -> None:
        log.append("COMMIT")

    event.listen(db.engine, "before_cursor_execute", statement)
    event.listen(db.engine, "commit", commit)
    try:
        yield log
    finally:
        event.remove(db.engine, "before_cursor_execute", statement)
        event.remove(db.engine, "commit", commit)


def copy_fixture_pack(app: Flask, name: str) -> Path:
    target = Path(app.config["EMOJI_DIR"]) / name
    shutil.copytree(fixture_packs() / "emoji" / name, target)
    return target


class LiveServer:
    """A real Kenoma on 127.0.0.1:<port> in a thread, with its own instance folder."""

    def __init__(self, app: Flask, port: int) -> None:
        self.app = app
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.host = f"127.0.0.1:{port}"
        self._server = make_server("127.0.0.1", port, app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """live_server(**config) -> a running LiveServer whose BASE_URL is its own loopback URL.
    Seed it inside `with server.app.app_context():`."""
    started: list[LiveServer] = []

    def start(**config: Any) -> LiveServer:
        port = free_port()
        folder = tmp_path / f"live-{port}"
        (folder / "emoji").mkdir(parents=True)
        app = create_app(
            {
                "TESTING": True,
                "INSTANCE_PATH": str(folder / "instance"),
                "EMOJI_DIR": str(folder / "emoji"),
                "BASE_URL": f"http://127.0.0.1:{port}",
                "JOBS_IMMEDIATE": True,
                "RATELIMIT_ENABLED": False,
                "ALLOW_PRIVATE_FETCH": True,
                "ARGON2_TIME_COST": 1,
                "ARGON2_MEMORY_COST": 64,
            }
            | config
        )
        with app.app_context():
            db.create_all()
        started.append(LiveServer(app, port))
        return started[-1]

    yield start
    for server in started:
        server.stop()
