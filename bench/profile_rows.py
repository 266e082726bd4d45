"""`make bench-profile`: where one request of a row spends its time (issue 19 asks for the profiler
output of one request wherever a target is missed).

Seeds a throwaway instance exactly as `make bench` does (bench/seeding.py, over HTTP against
gunicorn), stops the server, then calls Kenoma's WSGI app and the two floors' apps in this one
process, request by request on prebuilt environs: no socket, no gunicorn, no test client in the
figures. For each row it prints
  * CPU per request (time.process_time over a fixed count, the profiler off), beside the floor's
    own CPU per request measured the same way: one thread's upper bound on the bench's ratio; and
    the wall time per request, which is more than the CPU where the request waits (on PostgreSQL
    a round trip is wall time, not this process's CPU);
  * the share of that time by layer (Flask + werkzeug, SQLAlchemy, the database driver, each of
    Kenoma's packages, ...), from cProfile's own-time column;
  * the top functions by own time, and Kenoma's functions by cumulative time.

Usage: python bench/profile_rows.py [ROW-SUBSTRING ...]  (default: the write rows)
Environment: PROFILE_REQUESTS (per stage, default 400), BENCH_DB=postgres as for `make bench`."""

from __future__ import annotations

import cProfile
import os
import pstats
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from floors import floor_rows  # noqa: E402
from rows import Row  # noqa: E402
from rows import kenoma_rows  # noqa: E402
from run import _start_engines  # noqa: E402
from seeding import Seeded  # noqa: E402
from seeding import build_schema  # noqa: E402
from seeding import seed  # noqa: E402
from servers import Server  # noqa: E402
from servers import kenoma_env  # noqa: E402
from settings import ROOT  # noqa: E402
from settings import free_port  # noqa: E402
from settings import log  # noqa: E402
from werkzeug.test import EnvironBuilder  # noqa: E402

REQUESTS = int(os.environ.get("PROFILE_REQUESTS", "400"))
DEFAULT_ROWS = ("PUT reaction", "favourite + unfavourite", "POST /api/v1/statuses")
WSGIApp = Callable[..., Any]


def main(wanted: list[str]) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="kenoma-profile-"))
    for folder in ("emoji", "static", "logs"):
        (workdir / folder).mkdir()
    notes: list[str] = []
    engines = _start_engines(notes) if os.environ.get("BENCH_DB") == "postgres" else None
    try:
        seeded, env = _seeded_instance(workdir)
        apps = _apps(env, workdir)
        rows = {row.name: row for row in floor_rows() + kenoma_rows(seeded)}
        names = [name for name in rows if any(w.lower() in name.lower() for w in wanted or DEFAULT_ROWS)]
        for name in names:
            row = rows[name]
            if row.floor is None or row.bytes:
                continue
            floor_ms, _ = _per_request(apps[rows[row.floor].server], rows[row.floor])
            _profile_row(apps[row.server], row, floor_ms)
        print(*notes, sep="\n")
        return 0
    finally:
        if engines is not None:
            engines.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def _seeded_instance(workdir: Path) -> tuple[Seeded, dict[str, str]]:
    """Seed over HTTP as `make bench` does, then hand back the environment the app runs in."""
    port = free_port()
    env = kenoma_env(workdir, port, count_queries=False)
    build_schema(env, workdir / "instance")
    server = Server("kenoma-seeding", "app:create_app()", env, workdir / "logs")
    server.port = port
    server.start()
    server.wait_ready("/api/v1/instance")
    log("seeding")
    seeded = seed(port, env)
    server.stop()
    return seeded, env


def _apps(env: dict[str, str], workdir: Path) -> dict[str, WSGIApp]:
    """Kenoma's app and the floors', keyed as the rows name their servers."""
    for key in [k for k in os.environ if k.startswith("KENOMA_")]:
        del os.environ[key]
    os.environ.update(env)
    # No consumer thread: the profile is of the requests alone (the jobs they queue wait), and
    # none is left polling Redis when the engines stop at the end of a BENCH_DB=postgres run.
    os.environ["KENOMA_JOBS_CONSUMER_THREAD"] = "false"
    os.environ["BENCH_WRITE_DB"] = str(workdir / "floor.db")
    os.environ["BENCH_STATIC_DIR"] = str(workdir / "static")
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    from floor_flask import app as flask_floor
    from floor_write import app as write_floor

    from app import create_app

    return {"kenoma": create_app(), "flask": flask_floor, "write": write_floor}


def _environs(row: Row, count: int, stage: int) -> list[dict[str, Any]]:
    """`count` WSGI environs for the row, built before anything is timed. A write row's lines are
    each sent once (a second identical PUT would change nothing), so each stage takes its own."""
    if row.writes is None:
        lines: Iterator[str] = (f"GET {row.path}" for _ in range(count))
    else:
        lines = row.writes(stage)
    environs = []
    for line, _ in zip(lines, range(count), strict=False):
        method, path, *body = line.split(" ", 2)
        path, _, query = path.partition("?")
        builder = EnvironBuilder(
            path=path,
            query_string=query,
            method=method,
            headers=row.headers,
            data=body[0] if body else None,
            base_url="http://127.0.0.1",
        )
        environs.append(builder.get_environ())
    return environs


def _call(app: WSGIApp, environ: dict[str, Any]) -> None:
    status: list[str] = []
    answer = app(environ, lambda code, headers, exc_info=None: status.append(code))
    try:
        for _ in answer:
            pass
    finally:
        getattr(answer, "close", lambda: None)()
    if not status[0].startswith("2"):
        raise RuntimeError(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']} answered {status[0]}")


def _per_request(app: WSGIApp, row: Row) -> tuple[float, float]:
    """Milliseconds of CPU and of wall time per request, after a warm-up of the same size (a write
    row's passes 1 and 2, as `make bench` numbers its rounds; the profiled pass is 3)."""
    for environ in _environs(row, REQUESTS, 1):
        _call(app, environ)
    environs = _environs(row, REQUESTS, 2)
    started, wall = time.process_time(), time.perf_counter()
    for environ in environs:
        _call(app, environ)
    cpu, wall = time.process_time() - started, time.perf_counter() - wall
    return cpu * 1000 / len(environs), wall * 1000 / len(environs)


def _profile_row(app: WSGIApp, row: Row, floor_ms: float) -> None:
    cpu_ms, wall_ms = _per_request(app, row)
    environs = _environs(row, REQUESTS, 3)
    profiler = cProfile.Profile()
    profiler.enable()
    for environ in environs:
        _call(app, environ)
    profiler.disable()
    stats = pstats.Stats(profiler)
    print(
        f"\n== {row.name}: {cpu_ms:.2f} ms CPU ({wall_ms:.2f} ms wall) per request; {row.floor} {floor_ms:.2f} ms",
        end="",
    )
    print(f" (in-process ratio {floor_ms / cpu_ms:.0%}, target {row.target:.0%})")
    print(
        "   own time by layer: "
        + ", ".join(f"{name} {share:.0%}" for name, share in _layers(stats) if share >= 0.005)
    )
    print(_top(stats, "tottime", 18, lambda path: True))
    print(_top(stats, "cumulative", 18, lambda path: _kenoma(path) is not None))


def _kenoma(path: str) -> str | None:
    """The top-level module or package of Kenoma a file belongs to, None if it is not Kenoma's."""
    if not path.startswith(f"{ROOT}/"):
        return None
    relative = Path(path).relative_to(ROOT)
    if relative.parts[0].startswith(".") or relative.parts[0] == "bench":
        return None
    return relative.parts[0].removesuffix(".py")


def _layer(path: str, function: str) -> str:
    if path == "~":  # C functions: sqlite3's and psycopg's cursors are the database's own time
        return "database driver" if any(n in function for n in ("sqlite3", "psycopg", "pq")) else "builtins"
    mine = _kenoma(path)
    if mine is not None:
        return f"kenoma {mine}"
    for library in ("sqlalchemy", "psycopg", "werkzeug", "flask", "orjson", "authlib", "redis"):
        if f"/{library}/" in path:
            return {"werkzeug": "flask + werkzeug", "flask": "flask + werkzeug"}.get(library, library)
    return "stdlib + other"


def _layers(stats: pstats.Stats) -> list[tuple[str, float]]:
    own: dict[str, float] = defaultdict(float)
    for (path, _, function), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        own[_layer(path, function)] += tottime
    total = sum(own.values()) or 1.0
    return sorted(((name, value / total) for name, value in own.items()), key=lambda item: -item[1])


def _top(stats: pstats.Stats, key: str, count: int, keep: Callable[[str], bool]) -> str:
    """The `count` first functions by `key` that `keep` accepts, as per-request microseconds."""
    entries = stats.stats.items()  # type: ignore[attr-defined]
    column = 3 if key == "cumulative" else 2
    chosen = sorted((e for e in entries if keep(e[0][0])), key=lambda e: -e[1][column])[:count]
    per = 1e6 / REQUESTS
    lines = [f"   by {key} (us per request, calls per request):"]
    for (path, line, function), (_, calls, tottime, cumtime, _) in chosen:
        where = f"{Path(path).name}:{line}" if path != "~" else ""
        lines.append(
            f"   {tottime * per:8.1f} own {cumtime * per:8.1f} cum {calls / REQUESTS:6.1f}x  {function} {where}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
