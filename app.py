"""Kenoma: a small Pleroma-API server. `create_app()` builds the whole application."""

from __future__ import annotations

import json
import math
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any
from typing import NoReturn

import click
import orjson
from apiflask import APIFlask
from flask import Flask
from flask import Request
from flask import Response
from flask import g
from flask.config import Config
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SecureCookieSession
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import event

import auth
import cli
import emoji_packs
import engines
import errors
import jobs
import keys
import mail
import openapi
import params  # noqa: F401 - registers the request parameter loaders
import ratelimits
import readcache
import security_headers
import streaming.hub
import writelock
from models import db
from routes import register_blueprints

ROOT = Path(__file__).resolve().parent

DEFAULTS: dict[str, Any] = {
    # Unset, BASE_URL follows PORT (what `make run` binds): http://127.0.0.1:<PORT>.
    "BASE_URL": "",
    "PORT": 5000,
    "REGISTRATIONS_OPEN": False,
    # New accounts must open a link mailed to them before they can log in (SPEC 26, 29).
    "ACCOUNT_ACTIVATION_REQUIRED": False,
    "EMOJI_DIR": str(ROOT / "static" / "emoji"),
    "ALLOW_PRIVATE_FETCH": False,
    # ActivityPub (SPEC 24): inboxes and deliveries; instances neither accepted from nor sent to
    # (comma-separated domains, `*.example` for subdomains).
    "FEDERATING": True,
    "BLOCKED_INSTANCES": [],
    # Rate limits (Flask-Limiter, ratelimits.py), Pleroma's :rate_limit defaults. `memory://` counts
    # in each process: several gunicorn workers count separately unless this points at redis.
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "memory://",  # with REDIS_URL set, the counters live there
    # Redis (SPEC 28): jobs, rate-limit counters and fan-out shared by several app servers.
    "REDIS_URL": "",
    "RATELIMIT_HEADERS_ENABLED": True,  # X-RateLimit-* and Retry-After
    "RATELIMIT_AUTHENTICATION": "15 per minute",  # token, login form, MFA steps; per address
    "RATELIMIT_ACCOUNT_CREATION": "25 per 30 minutes",  # registration; per address
    "RATELIMIT_PASSWORD": "5 per 30 minutes",  # password-checked account changes; per account
    "RATELIMIT_MFA_ACCOUNT": "10 per hour",  # wrong second-factor codes; per account, all addresses
    "RATELIMIT_PASSWORD_RESET": "5 per 30 minutes",  # reset requests and form posts; per address
    "TRUSTED_PROXIES": 0,  # reverse proxies in front (nginx: 1); the client address is read behind them
    "INSTANCE_NAME": "Kenoma",
    "INSTANCE_DESCRIPTION": "A small Pleroma-compatible server",
    "INSTANCE_EMAIL": "",
    # E-mail (mail.py): SMTP when MAIL_SERVER is set, else each message is a file in <instance>/mail/.
    "MAIL_SERVER": "",
    "MAIL_PORT": 25,
    "MAIL_USERNAME": None,
    "MAIL_PASSWORD": None,
    "MAIL_USE_TLS": False,
    "MAIL_DEFAULT_SENDER": "",  # empty: "<INSTANCE_NAME> <noreply@<BASE_URL's host>>"
    "MAIL_TIMEOUT": 30,
    "MAX_TOOT_CHARS": 5000,
    # A scheduled status must be at least this far ahead (Mastodon: 5 minutes; SPEC 26).
    "SCHEDULED_STATUSES_MIN_SECONDS": 300,
    "UPLOAD_LIMIT": 16 * 1024 * 1024,
    "AVATAR_UPLOAD_LIMIT": 2 * 1024 * 1024,
    "BANNER_UPLOAD_LIMIT": 2 * 1024 * 1024,
    "BACKGROUND_UPLOAD_LIMIT": 2 * 1024 * 1024,
    "BACKUP_LIMIT_DAYS": 7,
    "SHOW_REACTIONS": True,
    # Rendered answers of the busiest reads, kept until the database changes (readcache.py); the
    # bound is per worker process.
    "READ_CACHE": True,
    "READ_CACHE_BYTES": 8 * 1024 * 1024,
    # SQLite's page caches (2 MB per connection, some ten connections per worker) are recycled
    # beyond this, process-wide (PRAGMA soft_heap_limit); the OS keeps the file's pages anyway.
    "SQLITE_HEAP_BYTES": 4 * 1024 * 1024,
    "HEALTHCHECK": True,
    "CAPTCHA_ENABLED": False,
    "CAPTCHA_SECONDS_VALID": 300,
    "FRONTEND_CONFIGURATIONS": {},
    # The served front-end (SPEC 27); empty: <instance>/frontend.
    "FRONTEND_DIR": "",
    # POST /api/kenoma/testing/reset for client test suites (loopback only); KENOMA_TESTING=true.
    "TESTING_API": False,
    "JOBS_IMMEDIATE": False,
    # Seconds between streaming heartbeats (an SSE comment, a websocket ping); SPEC 25.1: <= 30.
    "STREAMING_HEARTBEAT": 25,
    "JOBS_CONSUMER_THREAD": True,
    "SESSION_COOKIE_NAME": "_pleroma_key",
    "ARGON2_TIME_COST": 3,  # argon2-cffi's defaults
    "ARGON2_MEMORY_COST": 65536,
    # orjson reads the JSON columns (fields, also_known_as...): a page of statuses decodes ~100.
    # hide_parameters: a failing statement's values (password hashes, tokens, bodies) stay out of
    # the error log; the statement itself is kept (SECURITY.md, "What is logged").
    # The connect timeout is added per driver (engines.engine_options).
    "SQLALCHEMY_ENGINE_OPTIONS": {
        "json_deserializer": orjson.loads,
        "hide_parameters": True,
    },
    # OpenAPI document (APIFlask)
    "OPENAPI_VERSION": "3.1.0",
    "SPEC_FORMAT": "json",
    "VALIDATION_ERROR_STATUS_CODE": 400,
    "VALIDATION_ERROR_DESCRIPTION": "Bad request",
    "AUTO_404_RESPONSE": False,
    # Bench/test hook (bench/README.md): answer X-Kenoma-Queries, the SQL statements the request
    # ran. Off by default, and then nothing is registered at all.
    "QUERY_COUNT_HEADER": False,
}


def _instance_path(test_config: dict | None) -> str:
    configured = (test_config or {}).get("INSTANCE_PATH") or os.environ.get("KENOMA_INSTANCE_PATH")
    return str(Path(configured or ROOT / "instance").resolve())


def _configure(app: APIFlask, test_config: dict | None) -> None:
    app.config.update(DEFAULTS)
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(app.instance_path) / 'kenoma.db'}"
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("KENOMA")
    # SPEC 29 names it KENOMA_TESTING, which Flask reads as its own TESTING flag too.
    app.config["TESTING_API"] = app.config["TESTING_API"] or os.environ.get("KENOMA_TESTING", "") == "true"
    if test_config:
        app.config.update(test_config)
    blocked = app.config["BLOCKED_INSTANCES"]
    if isinstance(blocked, str):
        blocked = blocked.split(",")
    app.config["BLOCKED_INSTANCES"] = [name.strip().lower() for name in blocked if name.strip()]
    base_url = app.config["BASE_URL"] or f"http://127.0.0.1:{app.config['PORT']}"
    app.config["BASE_URL"] = base_url.rstrip("/")
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = keys.secret_key(Path(app.instance_path))
    app.config["VAPID_PUBLIC_KEY"] = keys.vapid_public_key(Path(app.instance_path))
    keys.instance_actor_keys(Path(app.instance_path))  # made at the first start, like the others
    app.config["MAX_CONTENT_LENGTH"] = app.config["UPLOAD_LIMIT"] + 1024 * 1024
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engines.engine_options(
        app.config["SQLALCHEMY_DATABASE_URI"], app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    )
    if app.config["REDIS_URL"] and app.config["RATELIMIT_STORAGE_URI"] == "memory://":
        # Several app servers share one budget per address, as one server would.
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"]


def _sqlite_pragmas(heap_bytes: int) -> Callable[[Any, Any], None]:
    # WAL lets readers run while one writer commits; busy_timeout makes writers wait instead of
    # failing with "database is locked" when two gunicorn workers write at once. soft_heap_limit
    # is the process' (every connection's, readcache's probes too): set with each, it holds.
    pragmas = ("journal_mode=WAL", "busy_timeout=30000", "foreign_keys=ON", "synchronous=NORMAL")
    pragmas += (f"soft_heap_limit={int(heap_bytes)}",)

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        if not isinstance(dbapi_connection, sqlite3.Connection):
            return
        cursor = dbapi_connection.cursor()
        for pragma in pragmas:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    return on_connect


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions (the login form's `_pleroma_key`), without building an
    itsdangerous serializer for a request that carries no session cookie: API clients send a
    token instead, and the serializer cost more than the rest of a cached answer's view."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        # No Cookie header at all (an API client): not even the cookie parser runs.
        if app.secret_key and (
            "HTTP_COOKIE" not in request.environ or not request.cookies.get(self.get_cookie_name(app))
        ):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        # An empty session nobody read or changed sets, deletes and varies on nothing: Flask's
        # save_session would only read seven cookie settings first.
        if not session and not session.modified and not session.accessed:
            return
        super().save_session(app, session, response)


class VersionedConfig(Config):
    """Flask's config, counting its changes: readcache.py keeps an answer built from settings
    (the instance's) only while `version` is the one it was built under. Settings are fixed once
    create_app returns; tests change some between requests, and must see the change."""

    version = 0

    def __setitem__(self, key: str, value: Any) -> None:
        self.version += 1
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self.version += 1
        super().__delitem__(key)

    def update(self, *args: Any, **kwargs: Any) -> None:
        self.version += 1
        super().update(*args, **kwargs)

    def pop(self, *args: Any) -> Any:
        self.version += 1
        return super().pop(*args)

    def setdefault(self, key: str, default: Any = None) -> Any:
        self.version += 1
        return super().setdefault(key, default)


class KenomaFlask(APIFlask):
    config_class = VersionedConfig


class OrjsonProvider(DefaultJSONProvider):
    """Answers are encoded with orjson, about ten times faster than the json module on a page of
    statuses. Types orjson leaves to us (dates, Decimal...) get Flask's own conversions."""

    _OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if kwargs:  # a caller asking for the json module's options (indent, sort_keys...)
            return super().dumps(obj, **kwargs)
        try:
            return orjson.dumps(obj, default=self.default, option=self._OPTIONS).decode()
        except TypeError:  # an integer past 64 bits (a client's settings may hold one)
            return super().dumps(obj)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        obj = self._prepare_response_obj(args, kwargs)
        option = self._OPTIONS | (orjson.OPT_INDENT_2 if self._app.debug else 0)
        try:
            body = orjson.dumps(obj, default=self.default, option=option) + b"\n"
        except TypeError:  # an integer past 64 bits: the json module writes it
            return super().response(obj)
        return self._app.response_class(body, mimetype=self.mimetype)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Request bodies: NaN, Infinity and numbers past a double (`1e400`) are refused (400),
        as JSON has no such values and the stored JSON columns could not be read back."""
        return json.loads(s, parse_constant=_not_a_number, parse_float=_finite_float, **kwargs)


def _not_a_number(text: str) -> NoReturn:
    raise ValueError(f"{text} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value


def _query_count_header(app: APIFlask) -> None:
    """Count the statements each request runs (the job thread has no request: not counted)."""

    # The probe connection's statements (readcache.py) are counted by the same function.
    event.listen(db.engine, "before_cursor_execute", lambda *_args: readcache.count_statement())

    @app.after_request
    def header(response: Response) -> Response:
        response.headers["X-Kenoma-Queries"] = str(g.get("kenoma_queries", 0))
        return response


# Flask-Migrate imports alembic, mako and pygments: about 11 MB in every gunicorn process, none
# of which migrates. So it is set up the first time something asks for it: the `flask db` group
# or app.extensions["migrate"] (read by flask_migrate.upgrade() and friends).
def _init_migrate(app: APIFlask) -> click.Group:
    from flask_migrate import Migrate  # lazy: see above

    added = app.cli.commands["db"].commands  # joined `flask db` before it was real (`backup`)
    Migrate(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    group = app.cli.commands["db"]  # Migrate put its own group in place of _MigrateGroup
    for name, command in added.items():
        group.add_command(command, name)
    return group


class _MigrateGroup(click.Group):
    """`flask db` until it runs: listed in `flask --help`, set up when parsed."""

    def __init__(self, app: APIFlask) -> None:
        super().__init__("db", help="Perform database migrations.")
        self.app = app

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        # Click invokes the context's command, so the real group takes over from here.
        return _init_migrate(self.app).make_context(info_name, args, parent, **extra)


class _MigrateConfig:
    """app.extensions["migrate"] until the first attribute read sets up Flask-Migrate."""

    def __init__(self, app: APIFlask) -> None:
        self.app = app

    def __getattr__(self, name: str) -> Any:
        _init_migrate(self.app)
        return getattr(self.app.extensions["migrate"], name)


def _register_migrate(app: APIFlask) -> None:
    app.cli.add_command(_MigrateGroup(app))
    app.extensions["migrate"] = _MigrateConfig(app)


def create_app(test_config: dict | None = None) -> APIFlask:
    app = KenomaFlask(
        __name__,
        title="Kenoma",
        version="2.7.2",
        instance_path=_instance_path(test_config),
        instance_relative_config=True,
        spec_path="/openapi.json",
        # /static/ is routes/frontend.py's: the front-end's files first, Kenoma's as the fallback.
        static_folder=None,
        docs_path="/docs",
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    _configure(app, test_config)
    # A server killed mid-download leaves its hidden staging folder: never a pack, but debris.
    emoji_packs.clean_staging(Path(app.config["EMOJI_DIR"]), Path(app.instance_path) / "tmp")
    # Clients ask for /api/v1/instance/ and /oauth/authorize/ (CLIENTS.md §4): no 308, no 404.
    app.url_map.strict_slashes = False
    app.json = OrjsonProvider(app)
    app.session_interface = CookieSessions()
    app.json.sort_keys = False  # entities keep SPEC's key order, as Pleroma sends them
    db.init_app(app)
    _register_migrate(app)
    with app.app_context():
        if engines.is_sqlite(app):
            # PostgreSQL has row locks and MVCC of its own: no pragmas, no shared write lock.
            event.listen(db.engine, "connect", _sqlite_pragmas(app.config["SQLITE_HEAP_BYTES"]))
            writelock.install(db.engine)
        if app.config["QUERY_COUNT_HEADER"]:
            _query_count_header(app)
    errors.register_error_handlers(app)
    security_headers.init_app(app)
    jobs.init_app(app)
    streaming.hub.init_app(app)
    mail.init_app(app)
    auth.init_oauth(app)
    ratelimits.init_app(app)
    readcache.init_app(app)
    cli.register(app)
    register_blueprints(app)
    openapi.init_app(app)
    return app
