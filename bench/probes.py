"""Checks that are not wrk rows: statements per request, the follow import under reads, and
SIGTERM under load (README: The order of a run, steps 1, 5 and 7)."""

from __future__ import annotations

import subprocess
import threading
import time
from dataclasses import dataclass

from loopback import Answer
from loopback import Client
from loopback import multipart
from seeding import Seeded
from servers import Server
from settings import BENCH
from settings import BIN
from settings import CONNECTIONS
from settings import IMPORT_LINES
from settings import ROOT
from settings import log


def query_counts(port: int, seeded: Seeded) -> dict[str, int]:
    alice = Client(port, seeded.alice_token)
    paths = {
        "home limit=20": seeded.home(20),
        "home limit=40": seeded.home(40),
        "favourites limit=20": seeded.favourites(20),
        "favourites limit=40": seeded.favourites(40),
        "reactions": f"/api/v1/pleroma/statuses/{seeded.reacted_id}/reactions",
        "emoji list": "/api/v1/pleroma/emoji",
        "instance v1": "/api/v1/instance",
        "instance v2": "/api/v2/instance",
        "verify_credentials": "/api/v1/accounts/verify_credentials",
        "status": seeded.single_status,
        "relationships 40": seeded.relationships(),
        "notifications limit=20": seeded.notifications(20),
        "notifications limit=40": seeded.notifications(40),
        "account statuses limit=20": seeded.account_statuses(20),
        "account statuses limit=40": seeded.account_statuses(40),
    }
    counts = {}
    for name, path in paths.items():
        alice.ok("GET", path)  # once to warm caches, as they are during the passes
        counts[name] = _statements(alice.request("GET", path))
    # The favourite cycle's two writes, on a status of the cycle (it ends unfavourited).
    cycled = seeded.cycle_targets[-1]
    for action in ("favourite", "unfavourite"):
        counts[action] = _statements(alice.request("POST", f"/api/v1/statuses/{cycled}/{action}"))
    return counts


def _statements(answer: Answer) -> int:
    if answer.status != 200:
        raise RuntimeError(f"statement count: answered {answer.status}")
    if "x-kenoma-queries" not in answer.headers:
        raise RuntimeError("no X-Kenoma-Queries header: is KENOMA_QUERY_COUNT_HEADER honoured?")
    return int(answer.headers["x-kenoma-queries"])


@dataclass
class ImportResult:
    answer_s: float
    done_s: float | None
    follows: int
    reads: int
    read_failures: int
    read_p99_ms: float


def follow_import(port: int, env: dict[str, str], seeded: Seeded) -> ImportResult:
    """Import a 10,000-line follow list while a reader keeps asking for the home timeline."""
    log("bulk-creating 10,000 accounts for the follow import (bulk insert, see README)")
    subprocess.run(
        [str(BIN / "python"), str(BENCH / "bulk.py"), "accounts", str(IMPORT_LINES)],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
        capture_output=True,
    )
    alice = Client(port, seeded.alice_token)
    before = alice.ok("GET", "/api/v1/accounts/verify_credentials")["following_count"]
    text = "\n".join(f"bench{n:05d}" for n in range(1, IMPORT_LINES + 1))
    stop = threading.Event()
    latencies: list[float] = []
    failures = [0]

    def reader() -> None:
        client = Client(port, seeded.bob_token)
        for _ in range(20_000):  # bounded in count; the stop event bounds it in time
            if stop.is_set():
                return
            try:
                answer = client.request("GET", "/api/v1/timelines/home?limit=20")
                latencies.append(answer.seconds)
                failures[0] += answer.status != 200
            except OSError:
                failures[0] += 1

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    time.sleep(0.5)
    body, content_type = multipart({}, {"list": ("follows.txt", text.encode(), "text/plain")})
    started = time.perf_counter()
    answer = alice.request(
        "POST", "/api/v1/pleroma/follow_import", body=body, headers={"Content-Type": content_type}
    )
    answer_s = time.perf_counter() - started
    if answer.status == 404:
        stop.set()
        thread.join(30)
        raise LookupError("follow_import is not served")
    done_s = None
    following = before
    for _ in range(600):  # polled for 30 s at most
        following = alice.ok("GET", "/api/v1/accounts/verify_credentials")["following_count"]
        if following >= before + IMPORT_LINES:
            done_s = time.perf_counter() - started
            break
        if time.perf_counter() - started > 30:
            break
        time.sleep(0.05)
    stop.set()
    thread.join(30)
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else float("nan")
    return ImportResult(answer_s, done_s, following - before, len(latencies), failures[0], p99)


@dataclass
class ShutdownResult:
    exit_s: float
    in_flight: int
    in_flight_ok: int
    cut: int
    turned_away: int


def sigterm_under_load(server: Server, seeded: Seeded) -> ShutdownResult:
    """SIGTERM while 8 clients keep asking for home pages (a new connection per request), then
    check every request in flight at that moment was answered 200."""
    import http.client as stdlib_http

    records: list[tuple[float, float, str]] = []
    lock = threading.Lock()
    term_at = [float("inf")]
    deadline = time.perf_counter() + 20

    def client() -> None:
        for _ in range(2000):  # bounded in count and time
            if time.perf_counter() > deadline:
                return
            started = time.perf_counter()
            if started > term_at[0] + 2:
                return
            outcome = "ok"
            try:
                connection = stdlib_http.HTTPConnection("127.0.0.1", server.port, timeout=15)
                connection.request(
                    "GET",
                    "/api/v1/timelines/home?limit=40",
                    headers={"Authorization": f"Bearer {seeded.alice_token}", "Connection": "close"},
                )
                response = connection.getresponse()
                response.read()
                connection.close()
                if response.status != 200:
                    outcome = f"status {response.status}"
            except ConnectionRefusedError:
                outcome = "refused"
            except (OSError, stdlib_http.HTTPException) as error:
                outcome = type(error).__name__
            with lock:
                records.append((started, time.perf_counter(), outcome))
            if outcome == "refused":
                return

    threads = [threading.Thread(target=client, daemon=True) for _ in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    term_at[0] = time.perf_counter()
    exit_s = server.stop(timeout=30)
    for thread in threads:
        thread.join(30)
    # In flight: sent before the signal. Requests sent after it may be refused or reset (the
    # listening socket closes with the workers); that is the expected way to turn them away.
    in_flight = [r for r in records if r[0] < term_at[0] <= r[1]]
    cut = [r for r in records if r[0] < term_at[0] and r[2] != "ok"]
    turned_away = sum(r[0] >= term_at[0] and r[2] != "ok" for r in records)
    return ShutdownResult(exit_s, len(in_flight), sum(r[2] == "ok" for r in in_flight), len(cut), turned_away)
