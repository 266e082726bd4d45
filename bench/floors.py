"""The floors every Kenoma row is compared with, measured in the same run (issue 6): a bare
WSGI callable, a bare Flask view with the pack zip as a plain file, and a bare SQLite write, each
under the same gunicorn config as Kenoma (floor_wsgi.py, floor_flask.py, floor_write.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from rows import FORM
from rows import Row
from servers import Server
from settings import BENCH
from settings import ROOT


def floor_servers(env: dict[str, str], workdir: Path, logs: Path) -> dict[str, Server]:
    """The three floor servers (not started), keyed as the rows name them."""
    floor_env = {
        **env,
        "BENCH_STATIC_DIR": str(workdir / "static"),
        "BENCH_WRITE_DB": str(workdir / "floor.db"),
        # gunicorn.conf.py names Kenoma's worker class (gunicorn_worker.py), found from here too.
        "PYTHONPATH": str(ROOT),
    }
    return {
        "wsgi": Server("floor-wsgi", "floor_wsgi:app", floor_env, logs, cwd=BENCH),
        "flask": Server("floor-flask", "floor_flask:app", floor_env, logs, cwd=BENCH),
        "write": Server("floor-write", "floor_write:app", floor_env, logs, cwd=BENCH),
    }


def floor_rows() -> list[Row]:
    """The floor rows, measured before and after every row compared with them."""

    def floor_lines(number: int) -> Iterator[str]:
        for i in range(100_000):
            yield f"POST /write status=bench+write+{number}-{i}+the+quick+brown+fox"

    return [
        Row("bare WSGI", "wsgi", "/json"),
        Row("bare Flask", "flask", "/json"),
        Row("write floor", "write", "/write", writes=floor_lines, headers=FORM),
        Row("static zip", "flask", "/files/bench.zip", bytes=True),
    ]
