"""Background jobs on huey: a SqliteHuey in the instance folder, or with REDIS_URL set one RedisHuey
queue that every app server shares (SPEC 28), run by a consumer thread inside the app (or
`flask jobs` as a separate worker), immediate in tests.

Each queued or scheduled job is taken by exactly one consumer, however many servers run one:
huey pops a queued job atomically and moves a due scheduled job to the queue in one Redis script.
"""

from __future__ import annotations

import functools
import importlib
import sqlite3
import sys
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

import click
from flask import Flask
from flask import current_app

import engines

if TYPE_CHECKING:
    from huey import Huey
    from huey.api import Result
    from huey.consumer import Consumer

MAX_POLL_DELAY = 0.25  # seconds between polls of an idle in-app consumer, at most

# Job functions by name; services register theirs with @job so a queued job names what to run.
_REGISTRY: dict[str, Callable[..., Any]] = {}
# Jobs queued whenever a consumer starts: sweeps for work that fell due while none ran.
_AT_START: list[str] = []


def job(func: Callable[..., Any]) -> Callable[..., Any]:
    _REGISTRY[func.__name__] = func
    return func


def at_consumer_start(func: Callable[..., Any]) -> Callable[..., Any]:
    """Queue this job (registered with @job) each time a consumer starts."""
    _AT_START.append(func.__name__)
    return func


class Jobs:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.huey = _huey(app)
        self._lock = threading.Lock()
        self._consumer: Consumer | None = None
        self._run = self.huey.task(name="run_job", retries=0)(self._execute)

    def _execute(self, name: str, kwargs: dict[str, Any]) -> None:
        with self.app.app_context():
            _REGISTRY[name](**kwargs)

    def enqueue(
        self, name: str, *, delay: float | None = None, eta: datetime | None = None, **kwargs: Any
    ) -> Result | None:
        """Run a job now, or later: `delay` seconds from now or at `eta` (naive UTC)."""
        if name not in _REGISTRY:
            raise KeyError(f"unknown job {name}")
        if delay is not None or eta is not None:
            return self._run.schedule(args=(name, kwargs), delay=delay, eta=eta)
        return self._run(name, kwargs)

    def ensure_consumer(self) -> None:
        """Start the in-process consumer once per process, on first use (never in CLI commands)."""
        if self.huey.immediate or not self.app.config["JOBS_CONSUMER_THREAD"] or self._consumer:
            return
        with self._lock:
            if self._consumer is None:
                # An idle consumer polls less and less often, up to max_delay: huey's default of
                # 10 s would leave a job queued after a quiet spell waiting that long. A poll is
                # one read of the small jobs database.
                consumer = _in_process_consumer()(
                    self.huey, workers=1, worker_type="thread", periodic=False, max_delay=MAX_POLL_DELAY
                )
                consumer.start()
                self._consumer = consumer
                self.enqueue_start_jobs()

    def stop_consumer(self, timeout: float = 5.0) -> None:
        """Stop the in-process consumer, letting a job in hand finish for up to `timeout` s. For
        an app that is done with (the test suite: an app whose database is handed to another);
        a request to the app afterwards starts a new one."""
        with self._lock:
            consumer, self._consumer = self._consumer, None
        if consumer is not None:
            consumer.shutdown_timeout = timeout
            consumer.stop(graceful=True)

    def enqueue_start_jobs(self) -> None:
        for name in _AT_START:
            self.enqueue(name)


# Clients huey.storage imports whenever they are installed; the scaled layout installs them.
_OPTIONAL_CLIENTS = ("redis", "psycopg")


def _load_huey(with_redis: bool) -> None:
    """Import huey, without the Redis and PostgreSQL clients unless Redis is configured: its
    storage module imports both when they are installed (SPEC 28's layout installs them), ~16 MB
    in every process of an install that uses neither. A later app of the same process that
    wants Redis (the tests build both layouts) imports huey's storage again with it."""
    hidden = [
        name for name in _OPTIONAL_CLIENTS if name not in sys.modules and not (with_redis and name == "redis")
    ]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # importing it raises ImportError
    try:
        import huey.storage

        if with_redis and huey.storage.Redis is None:
            importlib.reload(huey.storage)  # _huey() takes its RedisStorage from the module again
    finally:
        for name in hidden:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


@functools.cache
def _in_process_consumer() -> type[Consumer]:
    from huey.consumer import Consumer

    class InProcessConsumer(Consumer):
        def _set_signal_handlers(self) -> None:
            # The server (gunicorn or flask run) owns the process signals; the consumer's
            # threads are daemons and end with the worker.
            pass

    return InProcessConsumer


@functools.cache
def _jobs_storage() -> type:
    from huey.storage import SqliteStorage

    class JobsStorage(SqliteStorage):
        """huey's SQLite storage with the main database's durability: WAL with
        synchronous=NORMAL. huey leaves SQLite's default (FULL: an fsync on every commit, 1-10
        ms per queued job, paid inside the request that queues it) or offers OFF. NORMAL syncs
        at checkpoints only: a job survives the process crashing, and may be lost only with the
        machine, as the statuses and inbox rows it was queued with may (app.py: kenoma.db)."""

        def _create_connection(self) -> sqlite3.Connection:
            connection = super()._create_connection()
            connection.execute("PRAGMA synchronous=NORMAL")
            return connection

    return JobsStorage


def _huey(app: Flask) -> Huey:
    immediate = bool(app.config["JOBS_IMMEDIATE"])  # huey then keeps everything in memory
    redis_url = engines.redis_url(app)
    _load_huey(with_redis=bool(redis_url))
    from huey import RedisHuey
    from huey import SqliteHuey
    from huey import storage

    if redis_url:
        # The storage class as the module has it now (_load_huey may have imported it again).
        return RedisHuey(
            name="kenoma",
            url=redis_url,
            immediate=immediate,
            results=False,
            storage_class=storage.RedisStorage,
        )
    filename = str(Path(app.instance_path) / "jobs.db")
    return SqliteHuey(
        name="kenoma", filename=filename, immediate=immediate, results=False, storage_class=_jobs_storage()
    )


def init_app(app: Flask) -> None:
    jobs = Jobs(app)
    app.extensions["kenoma_jobs"] = jobs
    app.before_request(jobs.ensure_consumer)

    @app.cli.command("jobs")
    def run_jobs() -> None:
        """Run the job consumer in this process (instead of the in-app thread)."""
        click.echo("kenoma jobs consumer started")
        with app.app_context():
            jobs.enqueue_start_jobs()
        jobs.huey.create_consumer(workers=2, worker_type="thread", periodic=False).run()


def enqueue(
    name: str, *, delay: float | None = None, eta: datetime | None = None, **kwargs: Any
) -> Result | None:
    return current_app.extensions["kenoma_jobs"].enqueue(name, delay=delay, eta=eta, **kwargs)
