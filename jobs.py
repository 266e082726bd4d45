"""Background jobs on huey: a SqliteHuey in the instance folder, or with REDIS_URL set one RedisHuey
queue that every app server shares (SPEC 28), run by a consumer thread inside the app (or
`flask jobs` as a separate worker), immediate in tests.

Each queued or scheduled job is taken by exactly one consumer, however many servers run one:
huey pops a queued job atomically and moves a due scheduled job to the queue in one Redis script.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask import current_app
from huey import Huey
from huey import RedisHuey
from huey import SqliteHuey
from huey.api import Result
from huey.consumer import Consumer

import engines

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


class _InProcessConsumer(Consumer):
    def _set_signal_handlers(self) -> None:
        # The server (gunicorn or flask run) owns the process signals; the consumer's threads
        # are daemons and end with the worker.
        pass


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
                consumer = _InProcessConsumer(
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


def _huey(app: Flask) -> Huey:
    immediate = bool(app.config["JOBS_IMMEDIATE"])  # huey then keeps everything in memory
    if engines.redis_url(app):
        return RedisHuey(name="kenoma", url=engines.redis_url(app), immediate=immediate, results=False)
    filename = str(Path(app.instance_path) / "jobs.db")
    return SqliteHuey(name="kenoma", filename=filename, immediate=immediate, results=False)


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
