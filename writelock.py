"""Writers queue on one lock shared by the gunicorn workers, not in SQLite's busy handler.

SQLite lets one connection write at a time. A connection that finds the write lock taken waits
in its busy handler, which sleeps 1, 2, 5, 10... ms between tries: when two workers write at
once, the loser idles a millisecond or more for a lock held a fraction of that. So a write
transaction first takes this lock (a multiprocessing lock made in the gunicorn master before the
workers fork, so one for all of them), which wakes the next writer the moment the holder is
done. It is taken at a transaction's first INSERT/UPDATE/DELETE (or BEGIN IMMEDIATE) and given
back once the session has committed or rolled back, or the connection goes back to the pool.
Every write goes through SQLAlchemy, so none takes SQLite's lock without first taking this one:
that order is what keeps the two locks from waiting on each other.

It only orders writers: SQLite's own locking still guarantees correctness, so a writer that
cannot get this lock within LOCK_WAIT_SECONDS goes on without it, and processes that do not share
it (the CLI, `flask jobs`) simply meet the busy handler as before.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

LOCK_WAIT_SECONDS = 30.0
_HELD = "kenoma_write_lock"
# What takes SQLite's write lock: data changes, and models.begin_write()'s BEGIN IMMEDIATE.
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "BEGIN IMMEDIATE", "BEGIN EXCLUSIVE")
# The connection record whose transaction holds the lock, per thread: a session commits in the
# thread that wrote (a request's, the job consumer's).
_holder = threading.local()


def install(engine: Any) -> None:
    """Give `engine`'s connections the shared write lock (once per app, in the master)."""
    lock = multiprocessing.Lock()

    def take(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        info = conn.connection.info
        if _HELD in info or not statement.lstrip()[:15].upper().startswith(_WRITES):
            return
        if lock.acquire(timeout=LOCK_WAIT_SECONDS):
            info[_HELD] = lock
            _holder.info = info
        else:
            log.warning("write lock not free after %.0f s: going on with SQLite's own", LOCK_WAIT_SECONDS)

    event.listen(engine, "before_cursor_execute", take)
    event.listen(engine, "checkin", lambda _dbapi, record: _give_back(record.info))


def _give_back(info: dict | None) -> None:
    held = info.pop(_HELD, None) if info is not None else None
    if held is not None:
        held.release()


# insert=True: given back before any other after-commit listener runs, so one that starts more
# work (services.events' signals, an inline job in tests) never waits on a lock its thread holds.
@event.listens_for(Session, "after_commit", insert=True)
@event.listens_for(Session, "after_rollback", insert=True)
def _session_ended(_session: Session) -> None:
    _give_back(getattr(_holder, "info", None))
    _holder.info = None
