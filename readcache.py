"""Answers of read endpoints, kept until the database changes (issue 6).

A page of statuses costs milliseconds of Python to render, and clients ask for the same page
again and again: polling, a tab brought back, a second client of the same user. SQLite can say
cheaply whether anything changed: `PRAGMA data_version` moves when another connection (another
worker, the job consumer, the CLI, a sqlite3 shell) commits, and `total_changes()` counts the rows
this connection changed itself. Together they name the state of the database as one pooled
connection sees it, so an answer is kept with that state and served only while the connection
still reports it. The first write anywhere retires every kept answer; nothing has to know which
write touches which page.

Beyond the database an answer depends on the emoji packs on disk (their pack.json stats are part
of the key) and on the clock only through mutes with an end date: an answer for a reader is kept
no longer than the reader's next mute ends. auth.py reads all of it (state and next mute end)
with the token, in the one statement an authenticated request already makes.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any
from typing import NamedTuple

from flask import Response
from flask import current_app
from flask import g
from flask import request
from sqlalchemy import DateTime
from sqlalchemy import bindparam
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import text

import emoji_packs
from models import Mute
from models import db
from models import utcnow

# Both counters are per connection: each physical connection gets a serial when it opens, so a
# reopened connection (whose counters start again) never matches an answer kept by its forebear.
_serials = itertools.count(1)
_SERIAL_KEY = "kenoma_serial"

DATA_VERSION = text("(SELECT data_version FROM pragma_data_version())")
TOTAL_CHANGES = func.total_changes()
_STATE = select(DATA_VERSION, TOTAL_CHANGES)


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


def init_app(app: Any) -> None:
    app.extensions["kenoma_readcache"] = Store(app.config["READ_CACHE_BYTES"])
    with app.app_context():
        event.listen(db.engine, "connect", _name_connection)


def _name_connection(dbapi_connection: Any, record: Any) -> None:
    record.info[_SERIAL_KEY] = next(_serials)


def next_mute_end(account_id: Any) -> Any:
    """A scalar subquery: when the reader's earliest still-running timed mute ends. The time is
    bound at execution, so a statement built once stays right."""
    now = bindparam("now", callable_=utcnow, type_=DateTime(), unique=True)
    return (
        select(func.min(Mute.expires_at))
        .where(Mute.account_id == account_id, Mute.expires_at.is_not(None), Mute.expires_at > now)
        .scalar_subquery()
    )


_READER_STATE = select(DATA_VERSION, TOTAL_CHANGES, next_mute_end(bindparam("reader")))


def _serial() -> int | None:
    return db.session.connection().connection.info.get(_SERIAL_KEY)


def note_state(data_version: int, total_changes: int, next_mute: datetime | None) -> None:
    """auth.py read the state with the token, on this request's connection: nothing to ask."""
    request.environ["kenoma.state"] = (_serial(), data_version, total_changes, next_mute)


def _state(reader: str | None) -> tuple[tuple, datetime | None]:
    """(the database state on this request's connection, the reader's next mute end)."""
    serial = _serial()
    noted = request.environ.get("kenoma.state")
    if noted is None or noted[0] != serial:  # a cookie or password caller, or a new connection
        statement = _STATE if reader is None else _READER_STATE
        row = db.session.connection().execute(statement, {"reader": reader}).one()
        noted = (serial, row[0], row[1], row[2] if reader is not None else None)
    return (serial, noted[1], noted[2], emoji_packs.version()), noted[3]


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
        store: Store = current_app.extensions["kenoma_readcache"]
        kept = store.get(key)
        if kept is not None and kept.state == state and (kept.until is None or kept.until > utcnow()):
            return Response(kept.body, kept.status, kept.headers)
        response = current_app.make_response(view(*args, **kwargs))
        if response.status_code == 200 and not response.is_streamed:
            headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
            store.put(key, Kept(state, until, response.get_data(), 200, headers))
        return response

    return wrapper
