"""The scaled layout under test (SPEC 28): `KENOMA_TEST_DB=postgres` runs the whole suite on a
throwaway PostgreSQL and Redis that this module starts itself, from Debian's `postgresql` and
`redis-server` packages (`make test-postgres` installs them when missing), in a temporary folder on
free ports, and stops at the end of the session. Nothing must already be running.

Every instance folder a test makes gets a database of its own, so two servers in one test (the
federation tests) stay two instances, and an app made again on the same folder finds its data:
databases are numbered per test and reused across tests, emptied (TRUNCATE) when handed out
again. They are clones of a template that has the models' schema, as `db.create_all()` in the
SQLite run would make it; a test that migrates asks for an empty one (`empty_database`).
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from flask import Flask

SCALED = os.environ.get("KENOMA_TEST_DB", "sqlite") == "postgres"
USER = "kenoma"
# Redis databases: each PostgreSQL database has one of its own (see Databases.redis_db), so two
# instances in one test never share a job queue, and an app left over from an earlier test never
# takes a job queued by the running one.
REDIS_DATABASES = 1024
FIRST_EMPTY_REDIS_DB = 64

# Run by a watchdog process next to each pytest process (see Watchdog): it blocks on a pipe whose
# only writer is the pytest process, so end-of-file means that process is gone, whatever killed
# it (SIGKILL included). Unless told "done" first, it then stops PostgreSQL (SIGQUIT: immediate
# shutdown) and redis-server by pid, and removes their folder. argv: folder, postmaster pid,
# redis pid.
WATCHDOG = """
import os, shutil, signal, sys, time
told = sys.stdin.buffer.read()
if told.strip() != b"done":
    folder, pids = sys.argv[1], [int(pid) for pid in sys.argv[2:]]
    for pid, sig in zip(pids, (signal.SIGQUIT, signal.SIGTERM)):
        try:
            os.kill(pid, sig)
        except OSError:
            pass
    deadline = time.monotonic() + 30
    while pids and time.monotonic() < deadline:
        pids = [pid for pid in pids if os.path.exists(f"/proc/{pid}")]
        time.sleep(0.05)
    shutil.rmtree(folder, ignore_errors=True)
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _pg_bin(name: str) -> str:
    """A PostgreSQL program: Debian keeps them in /usr/lib/postgresql/<version>/bin, off PATH."""
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name), reverse=True
    )
    for folder in versions:
        if (folder / name).exists():
            return str(folder / name)
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} not found: install PostgreSQL (make test-postgres does)")
    return found


def _unprivileged() -> pwd.struct_passwd | None:
    """PostgreSQL refuses to run as root: then it runs as the `postgres` user the package made."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root and no unprivileged user to run PostgreSQL as")


def _wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing answers on port {port}")


class Postgres:
    """A throwaway PostgreSQL cluster: no fsync, trust authentication on 127.0.0.1 only."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.data = folder / "data"
        self.port = _free_port()
        self.owner = _unprivileged()

    def _run(self, *args: str) -> None:
        owner = self.owner
        done = subprocess.run(
            args,
            capture_output=True,
            text=True,
            cwd=self.folder,
            user=owner.pw_uid if owner else None,
            group=owner.pw_gid if owner else None,
            env={**os.environ, "LC_ALL": "C.UTF-8"},
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed: {done.stdout}{done.stderr}")

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.owner is not None:
            os.chown(self.folder, self.owner.pw_uid, self.owner.pw_gid)
        self._run(
            _pg_bin("initdb"), "-D", str(self.data), "-U", USER, "--auth=trust", "-E", "UTF8", "--no-sync"
        )
        # No autovacuum: its ANALYZE takes a transaction id, which moves the snapshot that
        # readcache.py's probe reads, so a test's kept answer could be retired by chance.
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c max_connections=300 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c autovacuum=off"
        )
        log = str(self.folder / "postgres.log")
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-l", log, "-o", options, "-w", "start")

    def pid(self) -> int:
        """The postmaster's pid (the first line of its pid file)."""
        return int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])

    def stop(self) -> None:
        try:
            self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        except RuntimeError:
            pass

    def uri(self, database: str) -> str:
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{database}"

    def admin(self) -> Any:
        import psycopg

        return psycopg.connect(
            f"host=127.0.0.1 port={self.port} user={USER} dbname=postgres", autocommit=True
        )


class Redis:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = _free_port()
        self.url = self.url_for(0)
        self.process: subprocess.Popen | None = None

    def url_for(self, database: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        server = shutil.which("redis-server")
        if server is None:
            raise RuntimeError("redis-server not found: install it (make test-postgres does)")
        self.process = subprocess.Popen(
            [
                server,
                *("--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"),
                *("--databases", str(REDIS_DATABASES)),
            ],
            cwd=self.folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_port(self.port)

    def flush(self) -> None:
        from redis import Redis as Client

        with Client.from_url(self.url) as client:
            client.flushall()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)


class Watchdog:
    """Stops the engines when the pytest process that started them dies without stopping them
    (SIGKILL, or a SIGTERM/SIGINT that ends it before the session's teardown). Its own session,
    so a Ctrl-C sent to the terminal's process group does not end it before it has cleaned up."""

    def __init__(self, folder: Path, pids: list[int]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", WATCHDOG, str(folder), *map(str, pids)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def dismiss(self) -> None:
        """The engines were stopped in order: nothing left to do."""
        try:
            self.process.communicate(b"done", timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()


def _exit_on_sigterm() -> Any:
    """SIGTERM ends Python without unwinding: make it a Ctrl-C instead (pytest stops the run
    on KeyboardInterrupt and tears the session down, Engines.stop included; SystemExit would
    only fail the running test). Only where nobody set a handler already. Returns the handler
    to put back once the engines are stopped (None: nothing to put back)."""
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return None

    def terminated(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminated)
    return signal.SIG_DFL


class Databases:
    """The numbered databases handed to the instance folders of the running test."""

    def __init__(self, postgres: Postgres, retire: Callable[[str], None]) -> None:
        self.postgres = postgres
        self.retire = retire  # called with a database's URI before it is handed out again
        self.made = 0
        self.by_instance: dict[str, str] = {}
        self.empties = itertools.count()
        self.tables: list[str] = []
        self.redis_dbs: dict[str, int] = {}

    def make_template(self) -> None:
        from sqlalchemy import create_engine

        from models import db

        with self.postgres.admin() as admin:
            admin.execute("CREATE DATABASE kenoma_template")
        engine = create_engine(self.postgres.uri("kenoma_template"))
        db.metadata.create_all(engine)
        engine.dispose()
        self.tables = [table.name for table in db.metadata.sorted_tables]

    def next_test(self) -> None:
        self.by_instance = {}

    def for_instance(self, instance_path: str) -> str:
        """The URI of the instance folder's database in this test: a fresh (emptied) one for a
        folder not seen yet."""
        if instance_path not in self.by_instance:
            number = len(self.by_instance)
            name = f"kenoma_{number}"
            uri = self.postgres.uri(name)
            if number < self.made:
                self.retire(uri)
                self._empty(name)
            else:
                with self.postgres.admin() as admin:
                    admin.execute(f"CREATE DATABASE {name} TEMPLATE kenoma_template")
                self.made += 1
                self.redis_dbs[uri] = number
            self.by_instance[instance_path] = uri
        return self.by_instance[instance_path]

    def empty_database(self) -> str:
        """A new database without any table, for a test that runs the migrations."""
        number = next(self.empties)
        name = f"kenoma_empty_{number}"
        with self.postgres.admin() as admin:
            admin.execute(f"CREATE DATABASE {name}")
        uri = self.postgres.uri(name)
        spread = REDIS_DATABASES - FIRST_EMPTY_REDIS_DB
        self.redis_dbs[uri] = FIRST_EMPTY_REDIS_DB + number % spread
        return uri

    def redis_db(self, uri: str) -> int:
        """The Redis database that goes with the PostgreSQL database `uri`."""
        return self.redis_dbs[uri]

    def _empty(self, name: str) -> None:
        import psycopg

        with self.postgres.admin() as admin:  # connections an earlier test left open
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
            )
        conninfo = f"host=127.0.0.1 port={self.postgres.port} user={USER} dbname={name}"
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute("SET lock_timeout = '10s'")
            connection.execute(f"TRUNCATE {', '.join(self.tables)} RESTART IDENTITY CASCADE")


class Engines:
    """One PostgreSQL and one Redis for this pytest process (each xdist worker has its own)."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="kenoma-engines-"))
        self.folder.chmod(0o755)  # PostgreSQL's user reaches its folder inside
        self.postgres = Postgres(self.folder / "postgres")
        self.redis = Redis(self.folder / "redis")
        self.databases = Databases(self.postgres, self.retire)
        self.embedded = False  # the running test is marked `embedded`: its apps stay on SQLite
        self.watchdog: Watchdog | None = None
        self.sigterm: Any = None  # SIGTERM's handler before start(), put back by stop()
        # Apps made in this process, by database URI: their job consumers are stopped once the
        # database goes to another instance (or the engines stop), so none runs a job on data
        # that is no longer its own, or polls a Redis that is gone.
        self.apps: dict[str, list[weakref.ref[Flask]]] = {}

    def start(self) -> None:
        self.sigterm = _exit_on_sigterm()
        try:
            self.postgres.start()
            self.redis.start()
            assert self.redis.process is not None
            self.watchdog = Watchdog(self.folder, [self.postgres.pid(), self.redis.process.pid])
            self.databases.make_template()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for uri in list(self.apps):
            self.retire(uri)
        self.redis.stop()
        self.postgres.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
        if self.watchdog is not None:
            self.watchdog.dismiss()
        if self.sigterm is not None:  # nothing left to clean up: a late SIGTERM just ends us
            signal.signal(signal.SIGTERM, self.sigterm)
            self.sigterm = None

    def track(self, app: Flask) -> None:
        """Note an app made on the engines (tests/conftest.py calls this for every app)."""
        uri = str(app.config.get("SQLALCHEMY_DATABASE_URI", ""))
        if uri in self.databases.redis_dbs:
            self.apps.setdefault(uri, []).append(weakref.ref(app))

    def retire(self, uri: str) -> None:
        """Stop the job consumers and the streaming listeners (Redis pub/sub) of the apps made
        on database `uri`: a listener left running would outlive the session's Redis and log
        its lost subscription."""
        for ref in self.apps.pop(uri, []):
            app = ref()
            if app is None:
                continue
            queue = app.extensions.get("kenoma_jobs")
            if queue is not None:
                queue.stop_consumer()
            hub = app.extensions.get("kenoma_streaming")
            if hub is not None:
                hub.transport.stop()

    def next_test(self) -> None:
        self.databases.next_test()
        self.redis.flush()

    def config_for(self, instance_path: str) -> dict[str, str]:
        return self.config_of(self.databases.for_instance(instance_path))

    def config_of(self, uri: str) -> dict[str, str]:
        """The database `uri` and the Redis database that goes with it."""
        return {
            "SQLALCHEMY_DATABASE_URI": uri,
            "REDIS_URL": self.redis.url_for(self.databases.redis_db(uri)),
        }

    def env_for(self, instance_path: str, *, empty: bool = False) -> dict[str, str]:
        """KENOMA_* variables for a server or CLI run in a subprocess on `instance_path`."""
        uri = self.databases.empty_database() if empty else self.databases.for_instance(instance_path)
        if empty:
            self.databases.by_instance[instance_path] = uri
        return {f"KENOMA_{key}": value for key, value in self.config_of(uri).items()}


# The running session's engines (set by tests/conftest.py when SCALED), for helpers that build
# apps or subprocess environments outside the fixtures.
current: Engines | None = None


def instance_config(instance_path: str | Path) -> dict[str, str]:
    """Config keys that put an app on `instance_path` onto the scaled engines ({} on SQLite)."""
    return current.config_for(str(Path(instance_path).resolve())) if current is not None else {}


def instance_env(instance_path: str | Path, *, empty: bool = False) -> dict[str, str]:
    """The same as KENOMA_* variables for a subprocess ({} on SQLite). `empty`: a database with
    no table yet, for `flask db upgrade`."""
    if current is None:
        return {}
    return current.env_for(str(Path(instance_path).resolve()), empty=empty)


def empty_database() -> dict[str, str]:
    """Config for an app whose database has no table yet (migration tests; {} on SQLite)."""
    if current is None:
        return {}
    return current.config_of(current.databases.empty_database())
