"""Answers of read endpoints, kept until the database changes (issue 6).

A page of statuses costs milliseconds of Python to render, and clients ask for the same page
again and again: polling, a tab brought back, a second client of the same user. SQLite can say
cheaply whether anything changed: `PRAGMA data_version` moves whenever another connection (a
request's session, another worker, the job consumer, the CLI, a sqlite3 shell) commits. Each
thread keeps one read-only *probe* connection that never writes, so for it every commit is
another connection's: an answer is kept with the probe's data_version and served only while the
probe still reports it. The first write anywhere retires every kept answer; nothing has to know
which write touches which page.

Beyond the database an answer depends on the emoji packs on disk (their pack.json stats are part
of the key) and on the clock only through mutes with an end date: an answer for a reader is kept
no longer than the reader's next mute ends. The probe also serves auth.py's token lookup, which
reads the state and the next mute end in the same statement: a kept answer costs that one
statement, and no Session, pool checkout or ORM object.

On PostgreSQL (SPEC 28) the probe is a psycopg connection in autocommit and the state is the text
of the current snapshot (oldest running transaction : one past the newest finished one : those
running): any transaction that wrote moves it when it starts or ends, whichever app server ran
it, so every server retires its kept answers at the first write anywhere, as one server would.
"""

from __future__ import annotations

import functools
import itertools
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable
from collections.abc import Mapping
from datetime import datetime
from functools import wraps
from typing import Any
from typing import NamedTuple

from flask import Response
from flask import current_app
from flask import g
from flask import has_request_context
from flask import request
from sqlalchemy.engine import URL
from sqlalchemy.engine import make_url

import emoji_packs
import engines
from models import db
from models import utcnow
from precompiled import Precompiled

_serials = itertools.count(1)


NEXT_MUTE_END = (
    "(SELECT min(m.expires_at) FROM mute AS m WHERE m.account_id = {account} AND m.expires_at > ?)"
)
# The database state, as a scalar subquery (auth.py's token lookup reads it too). Written for
# SQLite; _postgres_sql() swaps in PostgreSQL's.
STATE = "(SELECT data_version FROM pragma_data_version())"
_POSTGRES_STATE = "(SELECT pg_current_snapshot()::text)"
_STATE_SQL = f"SELECT {STATE}"
_READER_STATE_SQL = f"SELECT {STATE}, {NEXT_MUTE_END.format(account='?')}"


class Kept(NamedTuple):
    state: tuple
    until: datetime | None  # the reader's next mute end, when the answer stops being true
    body: bytes
    status: int
    headers: list[tuple[str, str]]


class Store:
    """A least-recently-used map bounded in bytes, shared by the threads of one process."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.entries: OrderedDict[tuple, Kept] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple) -> Kept | None:
        with self.lock:
            kept = self.entries.get(key)
            if kept is not None:
                self.entries.move_to_end(key)
            return kept

    def put(self, key: tuple, kept: Kept) -> None:
        if len(kept.body) * 4 > self.max_bytes:  # one huge page must not flush everything else
            return
        with self.lock:
            old = self.entries.pop(key, None)
            if old is not None:
                self.size -= len(old.body)
            self.entries[key] = kept
            self.size += len(kept.body)
            while self.size > self.max_bytes:
                _, dropped = self.entries.popitem(last=False)
                self.size -= len(dropped.body)


class _State:
    def __init__(self, url: URL, max_bytes: int) -> None:
        self.url = url
        self.postgres = url.get_backend_name() == "postgresql"
        self.store = Store(max_bytes)
        self.probes = threading.local()  # per thread: (connection, serial); gone with the app


def init_app(app: Any) -> None:
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if engines.is_sqlite(app) and (not url.database or url.database == ":memory:"):
        raise RuntimeError("Kenoma needs its SQLite database in a file (SQLALCHEMY_DATABASE_URI)")
    app.extensions["kenoma_readcache"] = _State(url, app.config["READ_CACHE_BYTES"])


def _connect(state: _State) -> Any:
    if state.postgres:
        import psycopg  # lazy: the embedded layout never loads it

        # libpq reads the URL as SQLAlchemy's, less the "+psycopg" driver name.
        conninfo = state.url.set(drivername="postgresql").render_as_string(hide_password=False)
        # Autocommit: each probe statement sees the latest commits, and no transaction idles.
        return psycopg.connect(conninfo, autocommit=True, connect_timeout=engines.CONNECT_TIMEOUT_SECONDS)
    connection = sqlite3.connect(state.url.database, timeout=30, isolation_level=None)
    connection.execute("PRAGMA query_only = ON")  # a probe only reads; the sessions write
    return connection


def _probe() -> tuple[Any, int]:
    """This thread's probe, a cursor of its own connection, opened on first use: never before
    gunicorn forks. One cursor for every statement: psycopg's connection.execute() makes a new
    cursor each time, which cost as much client time as the rest of the statement."""
    state = current_app.extensions["kenoma_readcache"]
    opened = getattr(state.probes, "opened", None)
    if opened is None:
        # The serial is part of a kept answer's key. SQLite's data_version counts the commits
        # other connections made since this one opened, so it means something only to its own
        # probe: each thread keeps its own answers. PostgreSQL's snapshot reads the same for
        # every connection at one moment and never repeats, so the threads of a process share
        # them: after a write, a page is built once per process instead of once per thread.
        serial = 0 if state.postgres else next(_serials)
        opened = state.probes.opened = (_connect(state).cursor(), serial)
    return opened


@functools.lru_cache(maxsize=32)
def _postgres_sql(sql: str) -> str:
    """The probe's SQL (written for SQLite) for psycopg: PostgreSQL's state, %s placeholders."""
    return sql.replace(STATE, _POSTGRES_STATE).replace("?", "%s")


def probe_row(sql: str, *values: Any) -> tuple[tuple | None, int]:
    """(the first row of `sql` on the probe connection, the probe's serial). Counted like the
    session's statements when QUERY_COUNT_HEADER is on (app.py)."""
    cursor, serial = _probe()
    if current_app.config["QUERY_COUNT_HEADER"]:
        count_statement()
    if current_app.extensions["kenoma_readcache"].postgres:
        return cursor.execute(_postgres_sql(sql), values).fetchone(), serial
    return cursor.execute(sql, values).fetchone(), serial


def probe_rows(sql: str, params: Any) -> list[tuple]:
    """Every row of `sql` on the probe connection, `sql` and `params` already in the driver's
    paramstyle (precompiled.Precompiled.bound: a statement SQLAlchemy compiled for this
    database). For reads that need no transaction of the request's Session (readcache's own
    rows, the answer's facts before a write): no session open, pool checkout or BEGIN."""
    cursor, _ = _probe()
    if current_app.config["QUERY_COUNT_HEADER"]:
        count_statement()
    return cursor.execute(sql, params).fetchall()


def request_rows(statement: Precompiled, values: Mapping[str, Any]) -> list[Any]:
    """The rows of a read a request makes beside its writes (the answer's facts, notify()'s
    checks): on the probe while the request's Session has not begun, where on the Session it
    would be the first statement and pay the session's open, the pool checkout and BEGIN (~180
    us, more than the statement); once the Session has begun (a write made, or about to be:
    anything added to it begins it) on its connection, so the read sees the transaction's own
    writes. Either way the rows are the driver's, unprocessed (precompiled.py)."""
    session = db.session()
    if has_request_context() and not session.in_transaction():
        bound = statement.bound(db.engine.dialect, values)
        if bound is not None:
            return probe_rows(*bound)
    if session.autoflush:  # as session.execute would
        session.flush()
    return statement.rows(session.connection(), values)


def count_statement() -> None:
    """One more SQL statement for this request's X-Kenoma-Queries (app.py, bench/README.md)."""
    if has_request_context():
        g.kenoma_queries = g.get("kenoma_queries", 0) + 1


def now_param() -> str | datetime:
    """The time now, as the probe compares it with stored times: SQLAlchemy's text on SQLite
    (`%Y-%m-%d %H:%M:%S.%f`, which isoformat writes in a third of strftime's time)."""
    if current_app.extensions["kenoma_readcache"].postgres:
        return utcnow()
    return utcnow().isoformat(" ", "microseconds")


def _time(value: str | datetime | None) -> datetime | None:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value) if value else None


def note_state(serial: int, data_version: Any, next_mute: str | datetime | None) -> None:
    """auth.py read the state with the token on the probe: nothing more to ask."""
    request.environ["kenoma.state"] = (serial, data_version, _time(next_mute))


def _state(reader: str | None) -> tuple[tuple, datetime | None]:
    """(the database state as this thread's probe sees it, the reader's next mute end)."""
    noted = request.environ.get("kenoma.state")
    if noted is None:  # an anonymous, cookie or password caller: auth.py read nothing
        if reader is None:
            row, serial = probe_row(_STATE_SQL)
            noted = (serial, row[0], None)
        else:
            row, serial = probe_row(_READER_STATE_SQL, reader, now_param())
            noted = (serial, row[0], _time(row[1]))
    # The settings' version (app.py VersionedConfig): moved only by a test changing a setting.
    config_version = getattr(current_app.config, "version", 0)
    return (noted[0], noted[1], emoji_packs.version(), config_version), noted[2]


def true_until(moment: datetime) -> None:
    """The answer being built stops being true at `moment` (a poll in it ends then, and the next
    reading says `expired`): it is kept no longer, though nothing is written when a poll ends."""
    if has_request_context():
        earlier = request.environ.get("kenoma.true_until")
        if earlier is None or moment < earlier:
            request.environ["kenoma.true_until"] = moment


def kept_until_change(view: Callable[..., Any]) -> Callable[..., Any]:
    """Keep a GET view's 200 answers until the database, the emoji packs or the reader's mutes
    change. Place it under require_auth (the reader is part of the key) and above the input
    decorators (a kept answer needs no parsing)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_app.config["READ_CACHE"] or request.method != "GET":
            return view(*args, **kwargs)
        identity = g.get("identity")
        reader = identity.account_id if identity is not None else None
        state, until = _state(reader)
        environ = request.environ
        key = (state[0], environ.get("PATH_INFO"), environ.get("QUERY_STRING"), reader)
        store = current_app.extensions["kenoma_readcache"].store
        kept = store.get(key)
        if kept is not None and kept.state == state and (kept.until is None or kept.until > utcnow()):
            return Response(kept.body, kept.status, kept.headers)
        response = current_app.make_response(view(*args, **kwargs))
        ends = environ.get("kenoma.true_until")
        if ends is not None and (until is None or ends < until):
            until = ends
        if response.status_code == 200 and not response.is_streamed:
            headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
            store.put(key, Kept(state, until, response.get_data(), 200, headers))
        return response

    return wrapper
