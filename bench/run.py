"""`make bench`: Kenoma under its production gunicorn config, measured against bare floors in the
same run (issue 6). Everything runs on 127.0.0.1 in a temporary folder; every loop is bounded in
count and time. Prints one table; exits 1 when a target is missed.

Environment: BENCH_SECONDS (one pass, default 3), BENCH_ROUNDS (interleaved rounds, default 5),
GROWTH (e.g. 100000: also measure home and favourites with that many statuses), BENCH_KEEP=1
(keep the temporary folder and its logs), BENCH_DB=postgres (Kenoma on a throwaway PostgreSQL and
Redis, started as the test suite starts them: tests/scaled.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from federation_probe import FederationResult  # noqa: E402
from federation_probe import federation_checks  # noqa: E402
from federation_probe import federation_probe  # noqa: E402
from floors import floor_rows  # noqa: E402
from floors import floor_servers  # noqa: E402
from loopback import Client  # noqa: E402
from probes import ImportResult  # noqa: E402
from probes import follow_import  # noqa: E402
from probes import query_counts  # noqa: E402
from probes import sigterm_under_load  # noqa: E402
from report import growth_checks  # noqa: E402
from report import import_checks  # noqa: E402
from report import memory_phase_checks  # noqa: E402
from report import print_table  # noqa: E402
from report import save_ratios  # noqa: E402
from report import saved_ratios  # noqa: E402
from report import statement_checks  # noqa: E402
from rows import Row  # noqa: E402
from rows import growth_mode_rows  # noqa: E402
from rows import kenoma_rows  # noqa: E402
from rows import measure  # noqa: E402
from seeding import build_schema  # noqa: E402
from seeding import seed  # noqa: E402
from servers import ENGINE_ENV  # noqa: E402
from servers import Server  # noqa: E402
from servers import kenoma_env  # noqa: E402
from settings import BENCH  # noqa: E402
from settings import BIN  # noqa: E402
from settings import EMOJI_FILES  # noqa: E402
from settings import FAVOURITES  # noqa: E402
from settings import GROWTH  # noqa: E402
from settings import MEMORY_PSS_MB  # noqa: E402
from settings import NOTIFYING_FAVOURITES  # noqa: E402
from settings import PEERS  # noqa: E402
from settings import REACTIONS  # noqa: E402
from settings import ROOT  # noqa: E402
from settings import ROUNDS  # noqa: E402
from settings import STATUSES  # noqa: E402
from settings import free_port  # noqa: E402
from settings import log  # noqa: E402
from stream_probe import streaming_checks  # noqa: E402
from stream_probe import streaming_probe  # noqa: E402


def main() -> int:
    if shutil.which("wrk") is None:
        print("wrk is not installed (make bench installs it with apt-get)", file=sys.stderr)
        return 2
    began = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="kenoma-bench-"))
    (workdir / "emoji").mkdir()
    (workdir / "static").mkdir()
    logs = workdir / "logs"
    logs.mkdir()
    servers: dict[str, Server] = {}
    notes: list[str] = []
    engines = _start_engines(notes) if os.environ.get("BENCH_DB") == "postgres" else None
    try:
        return run(workdir, logs, servers, notes, began)
    finally:
        for server in servers.values():
            server.stop(timeout=15)
        if engines is not None:
            engines.stop()
        if os.environ.get("BENCH_KEEP"):
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _start_engines(notes: list[str]) -> Any:
    """A throwaway PostgreSQL and Redis for every Kenoma process of the run (the floors keep
    SQLite: they measure the bare stack, not Kenoma's engines)."""
    sys.path.insert(0, str(ROOT))
    from tests.scaled import Engines

    engines = Engines()
    engines.start()
    ENGINE_ENV.update(
        {
            "KENOMA_SQLALCHEMY_DATABASE_URI": engines.databases.empty_database(),
            "KENOMA_REDIS_URL": engines.redis.url,
        }
    )
    notes.append("database: PostgreSQL + Redis (BENCH_DB=postgres)")
    return engines


def run(workdir: Path, logs: Path, servers: dict[str, Server], notes: list[str], began: float) -> int:
    port = free_port()
    counting_env = kenoma_env(workdir, port, count_queries=True)
    schema = build_schema(counting_env, workdir / "instance")
    notes.append(f"schema: {schema}")

    # 1. Kenoma with the statement counter on: seed, count statements, stop.
    kenoma = Server("kenoma-counting", "app:create_app()", counting_env, logs)
    kenoma.port = port
    kenoma.start()
    first_ready = kenoma.wait_ready("/api/v1/instance")
    log(f"kenoma up in {first_ready:.2f}s; seeding")
    seed_started = time.perf_counter()
    seeded = seed(port, counting_env)
    if ENGINE_ENV:  # PostgreSQL: the planner's statistics, as autovacuum would gather them (bulk.py)
        bulk = [str(BIN / "python"), str(BENCH / "bulk.py"), "analyze"]
        subprocess.run(bulk, cwd=ROOT, env=counting_env, check=True, timeout=120)
    log(f"seeded in {time.perf_counter() - seed_started:.1f}s")
    counts = query_counts(port, seeded)
    idle_exit = kenoma.stop()

    # 2. The measured servers: the floors and Kenoma (counter off), all up at once.
    env = kenoma_env(workdir, port, count_queries=False)
    servers["kenoma"] = Server("kenoma", "app:create_app()", env, logs)
    servers["kenoma"].port = port
    servers.update(floor_servers(env, workdir, logs))
    # Kenoma starts alone, so its start-up time is not shared with three other servers booting.
    servers["kenoma"].start()
    ready = servers["kenoma"].wait_ready("/api/v1/instance")
    for key in ("wsgi", "flask", "write"):
        servers[key].start()
    for key in ("wsgi", "flask"):
        servers[key].wait_ready("/json")

    # The archive, once from Kenoma, copied as the plain static file of the floor.
    archive = Client(port).request("GET", "/api/v1/pleroma/emoji/packs/archive", query={"name": "bench"})
    if archive.status != 200:
        raise RuntimeError(f"archive answered {archive.status}")
    (workdir / "static" / "bench.zip").write_bytes(archive.body)
    notes.append(f"pack archive: {len(archive.body):,} bytes, {EMOJI_FILES} files")
    etag = archive.headers.get("etag", "")
    revalidated = Client(port).request(
        "GET", "/api/v1/pleroma/emoji/packs/archive?name=bench", headers={"If-None-Match": etag}
    )
    emoji_first = Client(port).request("GET", "/api/v1/pleroma/emoji")
    emoji_304 = Client(port).request(
        "GET", "/api/v1/pleroma/emoji", headers={"If-None-Match": emoji_first.headers.get("etag", "-")}
    )

    rows = floor_rows() + kenoma_rows(seeded)
    log(f"kenoma ready in {ready:.2f}s; measuring {len(rows)} rows x {ROUNDS} rounds")
    measure(rows, servers, workdir, ROUNDS)
    # PSS of master + workers after each phase: which phase leaves memory behind (issue 19).
    phases = [("the rows", servers["kenoma"].memory_mb()[1])]
    kenoma_log = servers["kenoma"].log_path.read_text(errors="replace")
    locked = kenoma_log.count("database is locked")

    growth_rows: list[Row] = []
    if GROWTH:
        log(f"GROWTH: bulk-inserting statuses up to {GROWTH:,} (bulk insert, see README)")
        subprocess.run(
            [str(BIN / "python"), str(BENCH / "bulk.py"), "growth", str(GROWTH)],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=600,
        )
        growth_rows = growth_mode_rows(seeded)
        measure(growth_rows, servers, workdir, ROUNDS)
        phases.append(("the growth rows", servers["kenoma"].memory_mb()[1]))

    log("follow import")
    try:
        imported: ImportResult | None = follow_import(port, env, seeded)
    except LookupError:
        imported = None
    phases.append(("the follow import", servers["kenoma"].memory_mb()[1]))
    log("federation")
    federated: FederationResult | None = None
    try:
        federated = federation_probe(
            servers["kenoma"], servers["write"], env, (seeded.alice_token, seeded.bob_token), workdir
        )
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        notes.append(f"federation probe failed: {exc}")
    phases.append(("federation", servers["kenoma"].memory_mb()[1]))
    log("streaming")  # 500 idle connections beside the home row; commit -> frame (stream_probe.py)
    streamed = streaming_probe(servers["kenoma"], env, seeded)
    rss, pss, processes = servers["kenoma"].memory_mb()
    phases.append(("streaming", pss))
    log("SIGTERM under load")
    shutdown = sigterm_under_load(servers["kenoma"], seeded)

    checks = statement_checks(counts)
    checks += import_checks(imported)
    checks.append(("locked", f"{locked} 'database is locked' in Kenoma's log", "zero", locked == 0))
    checks += memory_phase_checks(phases)
    checks.append(
        (
            "memory",
            f"{pss:.0f} MB PSS, {rss:.0f} MB RSS ({processes} processes)",
            f"master + 2 workers <= {MEMORY_PSS_MB} MB PSS (issue 19)",
            pss <= MEMORY_PSS_MB and processes == 3,
        )
    )
    checks += federation_checks(federated)
    checks += growth_checks(rows, growth_rows)
    checks += streaming_checks(streamed)
    checks.append(
        (
            "start-up",
            f"ready in {ready:.2f}s (first start {first_ready:.2f}s)",
            "<= 3 s",
            max(ready, first_ready) <= 3,
        )
    )
    checks.append(
        (
            "SIGTERM",
            f"exit in {shutdown.exit_s:.2f}s; {shutdown.in_flight_ok}/{shutdown.in_flight} in-flight answered 200; "
            f"{shutdown.cut} cut; {shutdown.turned_away} sent later turned away (idle exit {idle_exit:.2f}s)",
            "<= 10 s, every in-flight request finished",
            shutdown.exit_s <= 10
            and shutdown.in_flight_ok == shutdown.in_flight
            and shutdown.cut == 0
            and shutdown.in_flight > 0,
        )
    )
    checks.append(
        ("archive cache", f"If-None-Match -> {revalidated.status}", "304", revalidated.status == 304)
    )
    checks.append(("emoji cache", f"If-None-Match -> {emoji_304.status}", "304", emoji_304.status == 304))
    notes.append(
        f"seeding: {STATUSES} statuses, {REACTIONS} reactions, {FAVOURITES} + {NOTIFYING_FAVOURITES} favourites and the "
        f"{EMOJI_FILES}-file pack over HTTP; 2 users with the CLI; {PEERS} peers and 10,000 import accounts"
        + (" and GROWTH statuses" if GROWTH else "")
        + " by bulk insert (bench/bulk.py)"
    )
    notes.append(f"total time {time.perf_counter() - began:.0f}s")
    database = "postgres" if os.environ.get("BENCH_DB") == "postgres" else "sqlite"
    other = "sqlite" if database == "postgres" else "postgres"
    others = saved_ratios(other)
    save_ratios(database, rows + growth_rows)
    all_met = print_table(rows + growth_rows, checks, notes, (other, others) if others else None)
    return 0 if all_met else 1


if __name__ == "__main__":
    sys.exit(main())
