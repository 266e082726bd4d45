"""Memory of Kenoma's master and workers (issue 19): a small, repeatable measurement.

    .venv/bin/python bench/memory_probe.py [--requests N] [--seed-dir DIR] [--top K] [--env K=V]
        [--phases import,federation] [--signal N] [--keep-log FILE]

Seeds an instance once as `make bench` does (bench/seeding.py; kept in --seed-dir, default
/tmp/kenoma-memprobe-seed, and reused by later runs: delete it to seed again), copies it into a
temporary folder, starts Kenoma with gunicorn.conf.py (counter off, MALLOC_ARENA_MAX=2, as
bench/run.py), and prints PSS / private / shared per process before any request and after a
fixed number of requests on each of the bench's read and write rows (bench/rows.py), then the
largest mappings of /proc/<pid>/smaps, grouped ([heap], anonymous, each .so). A fixed count of
requests (8 keep-alive connections, as the bench's wrk) makes runs comparable however loaded the
machine is: memory depends on which pages are touched, not on the rate. `--phases` then runs the
follow import and the federation phase of `make bench` (bench/probes.py, federation_probe.py),
reporting after each (bench/README.md, issue 19 part N)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from federation_probe import federation_probe  # noqa: E402
from floors import floor_servers  # noqa: E402
from loopback import Client  # noqa: E402
from probes import follow_import  # noqa: E402
from rows import Row  # noqa: E402
from rows import kenoma_rows  # noqa: E402
from seeding import Seeded  # noqa: E402
from seeding import build_schema  # noqa: E402
from seeding import seed  # noqa: E402
from servers import Server  # noqa: E402
from servers import kenoma_env  # noqa: E402
from settings import CONNECTIONS  # noqa: E402
from settings import free_port  # noqa: E402
from settings import log  # noqa: E402

WRITE_REQUESTS = 400  # per write row: each line is a new write (bench/rows.py)


def seeded_folder(seed_dir: Path) -> tuple[Seeded, int]:
    """The seeded instance in `seed_dir` (seeded now if missing) and the port it was seeded on
    (its URLs carry it, so the measured server listens there too)."""
    marker = seed_dir / "seeded.json"
    if marker.exists():
        data = json.loads(marker.read_text())
        return Seeded(**data["seeded"]), data["port"]
    shutil.rmtree(seed_dir, ignore_errors=True)
    (seed_dir / "emoji").mkdir(parents=True)
    (seed_dir / "logs").mkdir()
    port = free_port()
    env = kenoma_env(seed_dir, port, count_queries=False)
    build_schema(env, seed_dir / "instance")
    server = Server("kenoma-seeding", "app:create_app()", env, seed_dir / "logs")
    server.port = port
    server.start()
    try:
        server.wait_ready("/api/v1/instance")
        log("seeding (once; kept in --seed-dir)")
        seeded = seed(port, env)
    finally:
        server.stop()
    marker.write_text(json.dumps({"seeded": asdict(seeded), "port": port}))
    return seeded, port


def process_memory(pid: int) -> dict[str, float]:
    """MB from smaps_rollup: PSS, private (clean + dirty), shared (clean + dirty), RSS."""
    fields: dict[str, float] = defaultdict(float)
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1].isdigit():
            fields[parts[0].rstrip(":")] += int(parts[1]) / 1024
    return {
        "pss": fields["Pss"],
        "private": fields["Private_Clean"] + fields["Private_Dirty"],
        "shared_pages": fields["Shared_Clean"] + fields["Shared_Dirty"],
        "rss": fields["Rss"],
    }


def mappings(pid: int) -> dict[str, dict[str, float]]:
    """PSS and private MB per mapping name ([heap], [anon], a file), summed over its ranges."""
    out: dict[str, dict[str, float]] = defaultdict(lambda: {"pss": 0.0, "private": 0.0})
    name = "[anon]"
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        parts = line.split()
        if parts and "-" in parts[0] and not parts[0].endswith(":"):
            name = parts[5] if len(parts) > 5 else "[anon]"
            name = name.replace(str(Path(sys.prefix).resolve()), "venv")
        elif parts and parts[0] == "Pss:":
            out[name]["pss"] += int(parts[1]) / 1024
        elif parts and parts[0] in ("Private_Clean:", "Private_Dirty:"):
            out[name]["private"] += int(parts[1]) / 1024
    return out


def copied_and_new(master: int, worker: int) -> tuple[float, float]:
    """A worker's private MB in the mappings it inherited from the master (pages copied on
    write: the fork shared them) and in the mappings made after the fork (new memory). [heap]
    counts as inherited, though brk may have grown it."""
    inherited = {
        line.split()[0] for line in Path(f"/proc/{master}/smaps").read_text().splitlines() if _is_range(line)
    }
    copied = new = 0.0
    current = ""
    for line in Path(f"/proc/{worker}/smaps").read_text().splitlines():
        if _is_range(line):
            current = line.split()[0]
        elif line.startswith(("Private_Clean:", "Private_Dirty:")):
            size = int(line.split()[1]) / 1024
            if current in inherited or current.split("-")[0] in {r.split("-")[0] for r in inherited}:
                copied += size
            else:
                new += size
    return copied, new


def _is_range(line: str) -> bool:
    first = line.split(" ", 1)[0]
    return "-" in first and not first.endswith(":")


def report(server: Server, label: str, top: int, signal: int | None = None) -> float:
    pids = server.pids()
    if signal is not None:
        for pid in pids:
            os.kill(pid, signal)
        time.sleep(3)
    total = 0.0
    print(f"\n== {label}")
    print(f"{'process':>10} {'PSS':>8} {'private':>8} {'shared':>8} {'RSS':>8}  (MB)")
    for n, pid in enumerate(pids):
        memory = process_memory(pid)
        total += memory["pss"]
        role = "master" if n == 0 else f"worker {n}"
        print(
            f"{role:>10} {memory['pss']:8.1f} {memory['private']:8.1f} {memory['shared_pages']:8.1f} {memory['rss']:8.1f}"
        )
    print(f"{'total':>10} {total:8.1f}")
    for n, pid in enumerate(pids[1:], start=1):
        copied, new = copied_and_new(pids[0], pid)
        print(
            f"  worker {n}: private {copied:.1f} MB copied from the master's pages, {new:.1f} MB new mappings"
        )
    if top:
        merged: dict[str, dict[str, float]] = defaultdict(lambda: {"pss": 0.0, "private": 0.0})
        for pid in pids:
            for name, values in mappings(pid).items():
                merged[name]["pss"] += values["pss"]
                merged[name]["private"] += values["private"]
        print("top mappings over all processes (PSS, private MB):")
        for name, values in sorted(merged.items(), key=lambda item: -item[1]["pss"])[:top]:
            print(f"  {values['pss']:7.1f} {values['private']:7.1f}  {name}")
    return total


def drive(row: Row, port: int, count: int) -> None:
    """`count` requests of a read row, or WRITE_REQUESTS lines of a write row (each sent once),
    over CONNECTIONS keep-alive connections, as wrk would (wrk's own stop at a count is unreliable)."""
    if row.writes is not None:
        lines = [line for _, line in zip(range(WRITE_REQUESTS), row.writes(1), strict=False)]
    else:
        lines = [f"GET {row.path}"] * count
    failures = 0

    def one_connection(share: list[str]) -> None:
        nonlocal failures
        client = Client(port)
        for line in share:
            method, path, *body = line.split(" ", 2)
            answer = client.request(
                method, path, body=body[0].encode() if body else None, headers=row.headers
            )
            failures += not 200 <= answer.status < 300
        client.close()

    threads = [
        threading.Thread(target=one_connection, args=(lines[n::CONNECTIONS],)) for n in range(CONNECTIONS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        log(f"{row.name}: {failures} answers not 2xx")


def _import(server: Server, env: dict[str, str], seeded: Seeded, _workdir: Path) -> None:
    """The bench's follow import (10,000 lines, bench/probes.py)."""
    print(follow_import(server.port, env, seeded))


def _federation(server: Server, env: dict[str, str], seeded: Seeded, workdir: Path) -> None:
    """The bench's federation phase (bench/federation_probe.py), beside its write floor."""
    floor = floor_servers(env, workdir, workdir / "logs")["write"]
    floor.start()
    try:
        result = federation_probe(server, floor, env, (seeded.alice_token, seeded.bob_token), workdir)
        print(result)
    finally:
        floor.stop()


PHASES = {"import": _import, "federation": _federation}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=1000, help="requests per read row")
    parser.add_argument("--seed-dir", type=Path, default=Path("/tmp/kenoma-memprobe-seed"))
    parser.add_argument("--top", type=int, default=12, help="mappings listed")
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for gunicorn (A/B runs)")
    parser.add_argument(
        "--phases",
        default="",
        help="after the rows, also run these phases of `make bench`, comma-separated: import, federation",
    )
    parser.add_argument(
        "--keep-log", type=Path, help="copy Kenoma's log here (e.g. with PYTHONPROFILEIMPORTTIME=1)"
    )
    parser.add_argument(
        "--signal", type=int, help="sent to master and workers after each report (a sitecustomize's dump)"
    )
    args = parser.parse_args()
    seeded, port = seeded_folder(args.seed_dir)
    workdir = Path(tempfile.mkdtemp(prefix="kenoma-memprobe-"))
    shutil.copytree(args.seed_dir / "instance", workdir / "instance")
    shutil.copytree(args.seed_dir / "emoji", workdir / "emoji")
    (workdir / "logs").mkdir()
    env = kenoma_env(workdir, port, count_queries=False)
    env.update(item.split("=", 1) for item in args.env)
    server = Server("kenoma", "app:create_app()", env, workdir / "logs")
    server.port = port
    server.start()
    try:
        server.wait_ready("/api/v1/instance")
        Client(port).request("GET", "/api/v1/instance")
        before = report(server, "after start-up (one instance request)", args.top, args.signal)
        for row in kenoma_rows(seeded):
            drive(row, port, args.requests)
        after = report(
            server,
            f"after load ({args.requests} per read row, {WRITE_REQUESTS} per write row)",
            args.top,
            args.signal,
        )
        totals = [f"{before:.1f} MB before load", f"{after:.1f} MB after the rows"]
        for phase in filter(None, args.phases.split(",")):
            PHASES[phase](server, env, seeded, workdir)
            totals.append(f"{report(server, f'after {phase}', args.top, args.signal):.1f} MB after {phase}")
        print(f"\nPSS total: {', '.join(totals)}")
    finally:
        server.stop()
        if args.keep_log:
            shutil.copy(server.log_path, args.keep_log)
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
