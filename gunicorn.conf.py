"""Kenoma's recommended production settings: 2 worker processes x 4 threads (STYLE.md).

Start gunicorn with MALLOC_ARENA_MAX=2 in its environment, as `make run` and bench/run.py do.
glibc gives every thread that allocates at once its own malloc arena (up to 8 per core), and a
worker runs 4 request threads and the job thread; free memory left in each arena stays in the
process. Two arenas took 5 to 15 MB off master + workers after a bench-like run (issue 6). glibc
reads the variable once, when the process starts, so it cannot be set from this file.

Streaming (SPEC 25.1, streaming/hub.py): a websocket or SSE request is checked by a gthread
request thread, which then hands its socket to the worker's one connection-loop thread (a
selector) and is free again at once, so held connections never take request threads from the
REST API. Chosen over the gevent worker, which would put SQLite, the multiprocessing write lock
(writelock.py) and the job thread under monkey-patching. Measured by the streaming rows of `make bench`
(bench/stream_probe.py) on the shared 2-core box under a load average of 7-10 from other work
(2026-12-03): 0.45 MB PSS per 100 idle connections; the home row with 500 open streams at
0.92-0.96 of its interleaved passes without them, the workers' CPU per request 1.01-1.06x (idle
connections cost nothing: the loop sleeps in select, waking for heartbeats every 25 s);
created_at -> frame p50 15-36 ms, p99 78-280 ms, its tail following the box's load.
The worker class (gunicorn_worker.py) takes a connection only when it has a free thread, so a
few keep-alive clients cannot pile onto one worker while the other idles: with it the home row
beside 500 streams is 0.93-0.97 of its passes without them on a quiet box (stock gthread swung
from 0.44 to 1.63 between runs), and a SIGTERM still answers the clients waiting in the backlog.
An event committed in one worker reaches the others over unix datagram sockets in the
instance folder (streaming/transport.py), or Redis pub/sub with KENOMA_REDIS_URL."""

import ctypes
import ctypes.util
import gc
import re
import threading
import time

from gunicorn.glogging import Logger

# gthread, accepting only what a free thread can start soon and answering the listen backlog on
# the way out (gunicorn_worker.py says why).
worker_class = "gunicorn_worker.KenomaThreadWorker"
workers = 2
threads = 4
timeout = 60
graceful_timeout = 10
keepalive = 5
accesslog = "-"
# The path without its query string: clients may send `access_token` (streaming) or other
# secrets as query parameters, and an access log is no place for them (SECURITY.md).
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)s "%(a)s"'
# A password-reset link carries its secret in the path (/api/v1/pleroma/password_reset/<token>).
SECRET_PATHS = re.compile(r"(/password_reset/)[^/?]+")


def redact_path(path: str) -> str:
    return SECRET_PATHS.sub(r"\1[token]", path or "")


class RedactingLogger(Logger):
    """gunicorn's logger, with the secret of a password-reset link kept out of the access log."""

    def atoms(self, resp, req, environ, request_time):  # noqa: ANN001, ANN201 - gunicorn's signature
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["U"] = redact_path(atoms["U"])
        return atoms


logger_class = RedactingLogger
# gunicorn 27 would share one control socket between every server started from this checkout.
control_socket_disable = True
# The app is imported once, in the master, and the workers are forked from it: start-up pays
# one import instead of two racing for the same cores. create_app opens no database
# connection and starts no thread, so nothing is shared across the fork.
preload_app = True


def pre_fork(server, worker):  # noqa: ANN001, ANN201 - gunicorn's hook signature
    # Keep the objects imported in the master out of the workers' garbage collections, so the
    # pages holding them stay shared instead of being copied into each worker (Python docs, gc).
    gc.freeze()


# Seconds between two malloc_trim calls in a worker (post_worker_init below).
TRIM_INTERVAL = 1.0


def post_worker_init(worker):  # noqa: ANN001, ANN201 - gunicorn's hook signature
    # glibc keeps the memory freed inside its heaps, and returns it only from a heap's top: a
    # burst that allocated and freed a lot (a 10,000-line follow import, a federation fan-out)
    # left its pages in the worker for good, pinned by a few live chunks above them.
    # malloc_trim(0) hands every free page back; it takes ~1 ms when there is something to give
    # and ~0.05 ms when not (bench/README.md, issue 19 part K).
    trim = _malloc_trim()
    if trim is not None:
        threading.Thread(target=_trim_forever, args=(trim,), name="kenoma-malloc-trim", daemon=True).start()


def _malloc_trim():  # noqa: ANN202 - a ctypes function, or None
    """glibc's malloc_trim, or None on a C library without it (musl, macOS)."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def _trim_forever(trim) -> None:  # noqa: ANN001
    while True:
        time.sleep(TRIM_INTERVAL)
        trim(0)
