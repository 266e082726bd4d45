"""Which engines an instance runs on (SPEC 28): the database (SQLite, the embedded default, or
PostgreSQL) and, when `REDIS_URL` is set, Redis for jobs, rate limits and fan-out.

Everything that differs between the embedded and the scaled layout asks here rather than parsing
the configuration itself, and every Redis user (jobs.py, ratelimits.py, streaming) gets its
connection settings from one place.
"""

from __future__ import annotations

import functools
import re
import select
from typing import TYPE_CHECKING
from typing import Any

from flask import Flask
from flask import current_app
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.engine import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import Pool

if TYPE_CHECKING:
    from redis import Redis

# A new connection gives up after this long instead of hanging a request on a dead engine.
CONNECT_TIMEOUT_SECONDS = 30


def backend(app: Flask | None = None) -> str:
    """ "sqlite" or "postgresql": the dialect of the configured database."""
    config = (app or current_app).config
    return make_url(config["SQLALCHEMY_DATABASE_URI"]).get_backend_name()


def is_sqlite(app: Flask | None = None) -> bool:
    return backend(app) == "sqlite"


def engine_options(uri: str, configured: dict[str, Any]) -> dict[str, Any]:
    """SQLAlchemy engine options for `uri`: the connect timeout is spelled per driver."""
    options = dict(configured)
    connect_args = dict(options.get("connect_args") or {})
    if make_url(uri).get_backend_name() == "sqlite":
        connect_args.setdefault("timeout", CONNECT_TIMEOUT_SECONDS)
    else:
        connect_args.pop("timeout", None)  # pysqlite's busy wait: libpq has no such option
        connect_args.setdefault("connect_timeout", CONNECT_TIMEOUT_SECONDS)
        # No pool_pre_ping: its test query is a round trip per checkout, a fifth of a small
        # request's. _closed_by_server() tests each checkout without one.
        # Services read an INSERT ... ON CONFLICT DO NOTHING's rowcount to learn whether it added
        # the row; SQLAlchemy keeps it for psycopg only when asked.
        options["execution_options"] = {"preserve_rowcount": True} | dict(
            options.get("execution_options") or {}
        )
    options["connect_args"] = connect_args
    return options


def redis_url(app: Flask | None = None) -> str:
    """`REDIS_URL` (KENOMA_REDIS_URL), empty when the instance runs without Redis."""
    return str((app or current_app).config.get("REDIS_URL") or "")


def redis_client(app: Flask | None = None) -> Redis:
    """The app's Redis client (a connection pool, shared by the threads of this process). Only
    for an instance with REDIS_URL set."""
    app = app or current_app
    client = app.extensions.get("kenoma_redis")
    if client is None:
        url = redis_url(app)
        if not url:
            raise RuntimeError("REDIS_URL is not set")
        from redis import Redis  # lazy: the embedded layout never loads it

        client = Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS)
        app.extensions["kenoma_redis"] = client
    return client


@event.listens_for(Pool, "checkout")
def _closed_by_server(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A pooled PostgreSQL connection the server has closed (restarted, or ended the backend) is
    replaced at checkout, not found broken mid-request. An idle connection that is still open has
    nothing to read; a closed one has the server's goodbye or the end of the stream waiting, which
    one poll() of its socket sees without a round trip. (A SQLite connection has no socket.)"""
    pgconn = getattr(dbapi_connection, "pgconn", None)
    if pgconn is None:
        return
    if dbapi_connection.closed or dbapi_connection.broken:
        raise DisconnectionError("connection closed")
    poller = select.poll()  # not select(): a worker holding many streams has descriptors past 1024
    poller.register(pgconn.socket, select.POLLIN)
    if poller.poll(0):
        raise DisconnectionError("the server closed the connection")


# Key of a pooled connection's info: shrink its SQLite cache when it goes back to the pool.
_SHRINK = "kenoma_shrink_memory"


def shrink_when_returned(connection: Connection) -> None:
    """Have the pool shrink this SQLite connection's memory when it is checked in: a bulk write
    (a 10,000-line follow import) fills its page cache, up to 2 MB per connection kept in the
    pool for good, which a request's reads would never fill again (bench/README.md, part N)."""
    if connection.dialect.name == "sqlite":
        connection.connection.info[_SHRINK] = True


@event.listens_for(Pool, "checkin")
def _shrink_if_asked(dbapi_connection: Any, record: Any) -> None:
    """SQLite's `PRAGMA shrink_memory` frees what the connection's caches can give back; only
    on connections marked by shrink_when_returned, as it empties a cache every request reuses."""
    if record.info.pop(_SHRINK, False) and dbapi_connection is not None:
        dbapi_connection.execute("PRAGMA shrink_memory")


_IDLE = 0  # psycopg.pq.TransactionStatus.IDLE, without importing psycopg for SQLite
# A statement that only reads: SELECT (or a parenthesised one) taking no row lock and calling none
# of the functions whose effect belongs to a transaction (an advisory lock held until the commit,
# a NOTIFY sent at the commit) or that write. Anything else, a WITH included, counts as a write.
_SELECT = re.compile(r"\s*\(*\s*SELECT\b", re.IGNORECASE)
_TRANSACTIONAL = re.compile(
    r"\bFOR\s+(?:NO\s+KEY\s+)?(?:UPDATE|SHARE|KEY\s+SHARE)\b|pg_advisory|pg_notify|nextval|setval"
    r"|set_config|pg_current_xact_id|txid_current",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=2048)
def _only_reads(statement: str) -> bool:
    """Whether `statement` may run outside a transaction (the SQL strings SQLAlchemy compiles are
    cached and few, so each is classified once)."""
    return bool(_SELECT.match(statement)) and not _TRANSACTIONAL.search(statement)


@event.listens_for(Pool, "connect")
def _autocommit_until_write(dbapi_connection: Any, _record: Any) -> None:
    """A PostgreSQL connection runs its reads outside a transaction, and opens one only at a
    request's first write (_begin_before_write).

    psycopg sends BEGIN on its own, before the first statement, as a round trip of its own
    (outside pipeline mode), and a request that only read then ends with the ROLLBACK of the
    session's close: two of the three to six round trips of a GET that builds its answer. Read
    outside a transaction, its statements see what they saw inside one: READ COMMITTED (the
    default) takes a new snapshot per statement either way, and a read takes no lock to hold.
    The session's commit and rollback (and the pool's reset) send nothing while no transaction
    is open: psycopg asks the connection's transaction status first. And psycopg, which forgets
    every prepared statement at a ROLLBACK, keeps them: a page asked again runs prepared instead
    of being planned again (bench/README.md, part J). (A server whose
    default_transaction_isolation is REPEATABLE READ would have given a request's reads one
    snapshot; Kenoma asks for nothing beyond READ COMMITTED, where each statement has its own.)"""
    pgconn = getattr(dbapi_connection, "pgconn", None)
    if pgconn is not None and pgconn.transaction_status == _IDLE:  # psycopg refuses it otherwise
        dbapi_connection.autocommit = True


@event.listens_for(Engine, "before_cursor_execute")
def _begin_before_write(
    conn: Connection, cursor: Any, statement: str, _parameters: Any, _context: Any, _many: bool
) -> None:
    """Open the transaction before the first statement that writes, locks or needs a transaction
    (a server-side cursor, a SAVEPOINT): it and everything after it, reads included, until the
    commit or rollback run in one transaction, as psycopg's own BEGIN would have made them. The
    reads before it saw the latest commits, as they would have inside a READ COMMITTED one."""
    if conn.dialect.driver != "psycopg":
        return
    raw = cursor.connection
    if not raw.autocommit or raw.pgconn.transaction_status != _IDLE:
        return
    if getattr(cursor, "name", None):  # a ServerCursor: it would DECLARE a cursor for BEGIN
        raw.execute("BEGIN")
    elif not _only_reads(statement):
        cursor.execute("BEGIN")  # the cursor SQLAlchemy runs the statement on next
