"""A real Kenoma on 127.0.0.1:<free port> for driving with real client libraries."""

from __future__ import annotations

import threading
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer
from werkzeug.serving import make_server

from app import create_app
from models import db


@dataclass
class LiveServer:
    app: Flask
    base_url: str
    users: dict[str, str] = field(default_factory=dict)  # nickname -> id

    def cli(self, *args: str) -> str:
        """Run `flask --app app ...` against this server's instance; the command's stdout."""
        result = self.app.test_cli_runner().invoke(args=list(args))
        assert result.exit_code == 0, result.output
        return result.output

    def create_user(self, nickname: str, password: str, email: str | None = None) -> str:
        args = ["user", "create", nickname, "--password", password]
        if email:
            args += ["--email", email]
        account_id = self.cli(*args).strip()
        self.users[nickname] = account_id
        return account_id


def _serve(tmp: Path) -> Iterator[LiveServer]:
    holder: dict[str, Callable[..., Any]] = {}
    # Bind first (port 0: the OS picks a free one), then build the app with the real base URL.
    server: BaseWSGIServer = make_server(
        "127.0.0.1", 0, lambda environ, start: holder["app"](environ, start), threaded=True
    )
    base_url = f"http://127.0.0.1:{server.server_port}"
    app = create_app(
        {
            "INSTANCE_PATH": str(tmp / "instance"),
            "EMOJI_DIR": str(tmp / "emoji"),
            "BASE_URL": base_url,
            "REGISTRATIONS_OPEN": True,
            "RATELIMIT_ENABLED": False,
            # Jobs inline keep the client-visible effects deterministic.
            "JOBS_IMMEDIATE": True,
        }
    )
    (tmp / "emoji").mkdir(exist_ok=True)
    with app.app_context():
        db.create_all()
    holder["app"] = app
    thread = threading.Thread(target=server.serve_forever, name="kenoma-live", daemon=True)
    thread.start()
    try:
        yield LiveServer(app=app, base_url=base_url)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from _serve(tmp_path_factory.mktemp("live"))


@pytest.fixture(scope="module")
def server(live_server: LiveServer) -> LiveServer:
    """The module's live server, under the name the client tests use."""
    return live_server


CLIENT_SCOPES = ["read", "write", "follow", "push"]
PASSWORDS = {"alice": "alice-pw-123", "bob": "bob-pw-456", "carol": "carol-pw-789"}


def mastodon_users(
    server: LiveServer, app_name: str, nicknames: tuple[str, ...], version_check_mode: str = "none"
) -> dict[str, Any]:
    """Each nickname made with the CLI, then logged in through Mastodon.py's own app registration
    and password login. Features newer than the Mastodon 2.7.2 that Pleroma's version string
    announces need `version_check_mode="none"`, as an app that knows it talks to Pleroma sets it."""
    from mastodon import Mastodon

    for nickname in nicknames:
        server.create_user(nickname, PASSWORDS[nickname], email=f"{nickname}@example.org")
    client_id, client_secret = Mastodon.create_app(
        app_name, scopes=CLIENT_SCOPES, api_base_url=server.base_url
    )
    users = {}
    for nickname in nicknames:
        api = Mastodon(
            client_id=client_id,
            client_secret=client_secret,
            api_base_url=server.base_url,
            feature_set="pleroma",
            ratelimit_method="throw",
            request_timeout=10,
            version_check_mode=version_check_mode,
        )
        api.log_in(nickname, PASSWORDS[nickname], scopes=CLIENT_SCOPES, allow_http=True)
        users[nickname] = api
    return users
