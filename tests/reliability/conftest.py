"""Real Kenoma servers for the reliability tests: an instance folder migrated with `flask db upgrade`
and gunicorn started from gunicorn.conf.py as `make run` does, each in its own process group so a
test can kill it like the kernel would (SIGKILL, no clean-up)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
LOCKED = "database is locked"


def kenoma_env(instance: Path, emoji: Path, base_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KENOMA_", "FLASK_"))}
    env |= {
        "KENOMA_INSTANCE_PATH": str(instance),
        "KENOMA_EMOJI_DIR": str(emoji),
        "KENOMA_BASE_URL": base_url,
        "KENOMA_RATELIMIT_ENABLED": "false",
        "KENOMA_REGISTRATIONS_OPEN": "true",
        # Cheap password hashing: the tests register and log in many accounts.
        "KENOMA_ARGON2_TIME_COST": "1",
        "KENOMA_ARGON2_MEMORY_COST": "64",
        "PYTHONUNBUFFERED": "1",
    }
    return env | extra


def flask_cli(env: dict[str, str], *args: str, timeout: float = 60) -> str:
    """`flask --app app ...` in a subprocess, as an operator runs it; its stdout."""
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, f"flask {' '.join(args)}: {result.stdout}{result.stderr}"
    return result.stdout


class Server:
    """A gunicorn serving one instance folder on 127.0.0.1:<free port>."""

    def __init__(self, folder: Path, port: int | None = None, **env: str) -> None:
        self.folder = folder
        self.instance = folder / "instance"
        self.emoji = folder / "emoji"
        self.emoji.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = kenoma_env(self.instance, self.emoji, self.url, **env)
        self.process: subprocess.Popen | None = None
        self.runs = 0

    @property
    def database(self) -> Path:
        return self.instance / "kenoma.db"

    @property
    def stderr_path(self) -> Path:
        return self.folder / f"gunicorn-{self.runs}.err"

    def migrate(self) -> None:
        flask_cli(self.env, "db", "upgrade")

    def start(self, workers: int = 2, timeout: float = 60) -> None:
        """Start gunicorn (gunicorn.conf.py: gthread, 4 threads) and wait until it answers."""
        self.runs += 1
        with (
            open(self.folder / f"gunicorn-{self.runs}.out", "wb") as out,
            open(self.stderr_path, "wb") as err,
        ):
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "--config",
                    "gunicorn.conf.py",
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--workers",
                    str(workers),
                    "app:create_app()",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=err,
                start_new_session=True,  # its own process group: kill() reaches every worker
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"gunicorn exited: {self.stderr()}"
            try:
                if requests.get(f"{self.url}/api/v1/instance", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise AssertionError(f"gunicorn did not answer in {timeout}s: {self.stderr()}")

    def stderr(self) -> str:
        """Everything the server wrote to stderr, over all its runs."""
        return "".join(
            (self.folder / f"gunicorn-{run}.err").read_text(errors="replace")
            for run in range(1, self.runs + 1)
        )

    def kill(self) -> None:
        """SIGKILL the master and every worker at once: no handler runs, nothing is flushed."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGINT)  # gunicorn's quick shutdown
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            pass
        self.process = None

    def sql(self, query: str, *args: Any) -> list[tuple]:
        """Read the server's database directly (WAL: fine while it runs)."""
        with closing(sqlite3.connect(self.database, timeout=30)) as conn:
            return conn.execute(query, args).fetchall()

    # HTTP helpers -------------------------------------------------------------------------

    def register_app(self) -> dict:
        response = requests.post(
            f"{self.url}/api/v1/apps",
            data={
                "client_name": "reliability",
                "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                "scopes": "read write follow push admin",
            },
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return response.json()

    def app_token(self, app: dict) -> str:
        response = requests.post(
            f"{self.url}/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
                "scope": "read write follow push",
            },
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    def register_accounts(self, nicknames: list[str]) -> dict[str, tuple[str, str]]:
        """Register accounts over HTTP: nickname -> (account id, user token)."""
        app_token = self.app_token(self.register_app())
        accounts = {}
        with requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {app_token}"
            for nickname in nicknames:
                response = session.post(
                    f"{self.url}/api/v1/accounts",
                    data={
                        "username": nickname,
                        "password": "secret-pw",
                        "email": f"{nickname}@example.org",
                        "agreement": "true",
                    },
                    timeout=30,
                )
                assert response.status_code == 200, response.text
                user_token = response.json()["access_token"]
                me = session.get(
                    f"{self.url}/api/v1/accounts/verify_credentials",
                    headers={"Authorization": f"Bearer {user_token}"},
                    timeout=30,
                )
                assert me.status_code == 200, me.text
                accounts[nickname] = (me.json()["id"], user_token)
        return accounts

    def password_token(self, nickname: str, password: str = "secret-pw") -> str:
        app = self.register_app()
        response = requests.post(
            f"{self.url}/oauth/token",
            data={
                "grant_type": "password",
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
                "username": nickname,
                "password": password,
                "scope": "read write follow push admin",
            },
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return response.json()["access_token"]


def integrity(database: Path) -> str:
    with closing(sqlite3.connect(database, timeout=30)) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


def counter_mismatches(database: Path) -> list[tuple]:
    """Every denormalised counter that differs from the rows it counts (empty when consistent)."""
    checks = {
        "statuses_count": """
            SELECT a.id, a.statuses_count, (SELECT COUNT(*) FROM status s
                WHERE s.account_id = a.id AND s.reblog_of_id IS NULL) FROM account a""",
        "followers_count": """
            SELECT a.id, a.followers_count, (SELECT COUNT(*) FROM follow f
                WHERE f.followee_id = a.id AND NOT f.is_pending) FROM account a""",
        "following_count": """
            SELECT a.id, a.following_count, (SELECT COUNT(*) FROM follow f
                WHERE f.follower_id = a.id AND NOT f.is_pending) FROM account a""",
        "favourites_count": """
            SELECT s.id, s.favourites_count, (SELECT COUNT(*) FROM favourite f
                WHERE f.status_id = s.id) FROM status s""",
        "replies_count": """
            SELECT s.id, s.replies_count, (SELECT COUNT(*) FROM status r
                WHERE r.in_reply_to_id = s.id) FROM status s""",
        "reblogs_count": """
            SELECT s.id, s.reblogs_count, (SELECT COUNT(*) FROM status r
                WHERE r.reblog_of_id = s.id) FROM status s""",
    }
    wrong = []
    with closing(sqlite3.connect(database, timeout=30)) as conn:
        for name, query in checks.items():
            wrong += [(name, *row) for row in conn.execute(query) if row[1] != row[2]]
    return wrong


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator[Any]:
    """make_server(name, **env) -> a migrated, not yet started Server; all stopped at the end."""
    servers: list[Server] = []

    def make(name: str = "server", **env: str) -> Server:
        server = Server(tmp_path / name, **env)
        server.migrate()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()
