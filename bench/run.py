"""`make bench`: Kenoma under its production gunicorn config, measured against bare floors in the
same run (issue 6). Everything runs on 127.0.0.1 in a temporary folder; every loop is bounded in
count and time. Prints one table; exits 1 when a target is missed.

Environment: BENCH_SECONDS (one pass, default 3), BENCH_ROUNDS (interleaved rounds, default 5),
GROWTH (e.g. 100000: also measure home and favourites with that many statuses), BENCH_KEEP=1
(keep the temporary folder and its logs)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loopback import Client  # noqa: E402
from loopback import multipart  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
BIN = ROOT / ".venv" / "bin"
GUNICORN_CONF = Path(os.environ.get("BENCH_GUNICORN_CONF", ROOT / "gunicorn.conf.py"))

SECONDS = int(os.environ.get("BENCH_SECONDS", "3"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
GROWTH = int(os.environ.get("GROWTH", "0") or 0)
CONNECTIONS = 8  # gunicorn.conf.py: 2 workers x 4 threads
STATUSES = 1000
REACTIONS = 200
FAVOURITES = 200
EMOJI_FILES = 50
IMPORT_LINES = 10_000
PASSWORD = "bench-password-1"
B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"  # flake ids (models.py)
UNICODE_EMOJI = "👍 ❤️ 😂 🎉 🔥 👀 🙏 😮 😢 🤔 👏 💯 ✨ 🚀 🌈 🍕 🐱 🐶 ⭐ ✅".split()


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------------------------------------
# Servers


class Server:
    """One gunicorn (master + workers) started with Kenoma's gunicorn.conf.py on 127.0.0.1."""

    def __init__(self, name: str, app_spec: str, env: dict[str, str], logs: Path, cwd: Path = ROOT) -> None:
        self.name = name
        self.app_spec = app_spec
        self.env = env
        self.cwd = cwd
        self.log_path = logs / f"{name}.log"
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0

    def start(self) -> None:
        command = [
            str(BIN / "gunicorn"),
            "--config",
            str(GUNICORN_CONF),
            "--bind",
            f"127.0.0.1:{self.port}",
            self.app_spec,
        ]
        log_file = self.log_path.open("ab")
        self.started_at = time.perf_counter()
        self.process = subprocess.Popen(
            command, cwd=self.cwd, env=self.env, stdout=log_file, stderr=subprocess.STDOUT
        )
        log_file.close()

    def wait_ready(self, path: str, timeout: float = 30.0) -> float:
        """Seconds from spawning the master to the first 2xx answer at `path`."""
        deadline = time.perf_counter() + timeout
        for _ in range(int(timeout / 0.005)):
            if time.perf_counter() > deadline:
                break
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start; see {self.log_path}")
            try:
                answer = Client(self.port, timeout=2).request("GET", path)
                if 200 <= answer.status < 300:
                    return time.perf_counter() - self.started_at
            except OSError:
                pass
            time.sleep(0.005)
        raise RuntimeError(f"{self.name} not ready after {timeout}s; see {self.log_path}")

    def pids(self) -> list[int]:
        assert self.process is not None
        master = self.process.pid
        try:
            children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        except OSError:
            children = []
        return [master, *map(int, children)]

    def memory_mb(self) -> tuple[float, float, int]:
        """(RSS, PSS, processes) of the master and its workers, in MB. RSS counts the pages the
        forked workers share with the master once per process; PSS splits them between them."""
        rss = pss = 0
        pids = self.pids()
        for pid in pids:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss += int(line.split()[1])
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1])
        return rss / 1024, pss / 1024, len(pids)

    def stop(self, timeout: float = 30.0) -> float:
        """SIGTERM the master; seconds until it exited (SIGKILL after `timeout`)."""
        if self.process is None or self.process.poll() is not None:
            return 0.0
        sent = time.perf_counter()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
            return float("inf")
        return time.perf_counter() - sent


# ---------------------------------------------------------------------------------------------
# wrk


@dataclass
class Pass:
    requests: int
    seconds: float
    bytes: int
    p50_ms: float
    p99_ms: float
    non_2xx: int
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def bytes_rate(self) -> float:
        return self.bytes / self.seconds if self.seconds else 0.0


def wrk(
    port: int,
    path: str,
    seconds: float,
    *,
    headers: dict[str, str] | None = None,
    requests_file: Path | None = None,
) -> Pass:
    """One bounded wrk pass against 127.0.0.1 (a fixed GET, or the lines of `requests_file`)."""
    script = BENCH / "lua" / ("requests.lua" if requests_file else "report.lua")
    command = [
        "wrk",
        "-t1",
        f"-c{CONNECTIONS}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
    ]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    command.append(f"http://127.0.0.1:{port}{path}")
    if requests_file:
        command += ["--", str(requests_file)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH "):
            data = json.loads(line[6:])
            return Pass(
                requests=data["requests"],
                seconds=data["duration_us"] / 1e6,
                bytes=data["bytes"],
                p50_ms=data["p50_us"] / 1000,
                p99_ms=data["p99_us"] / 1000,
                non_2xx=data["status"],
                errors=data["connect"] + data["read"] + data["write"] + data["timeout"],
            )
    raise RuntimeError(f"wrk gave no summary: {done.stdout[-500:]} {done.stderr[-500:]}")


# ---------------------------------------------------------------------------------------------
# The rows measured with wrk


@dataclass
class Row:
    name: str
    server: str  # key of the server it runs against
    path: str
    floor: str | None = None  # the row whose same-round figure this one is compared with
    target: float | None = None  # minimum ratio to the floor
    p99_factor: float | None = None  # maximum p99 / the floor's p99
    bytes: bool = False  # compare bytes/s instead of requests/s
    writes: Callable[[int], Iterator[str]] | None = None  # request lines for pass n (writes)
    headers: dict[str, str] = field(default_factory=dict)
    passes: list[Pass] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    p99_ratios: list[float] = field(default_factory=list)
    p50_ratios: list[float] = field(default_factory=list)


def run_pass(row: Row, servers: dict[str, Server], seconds: float, workdir: Path, number: int) -> Pass:
    requests_file = None
    if row.writes is not None:
        requests_file = workdir / f"requests-{row.name.replace(' ', '_').replace('/', '_')}-{number}.txt"
        requests_file.write_text("\n".join(row.writes(number)) + "\n")
    return wrk(servers[row.server].port, row.path, seconds, headers=row.headers, requests_file=requests_file)


def measure(rows: list[Row], servers: dict[str, Server], workdir: Path, rounds: int) -> None:
    """Warm every row up once, then `rounds` rounds. In a round each floor runs before and after
    every row compared with it (F, R1, F, R2, F...), and a row's ratio is to the mean of the two
    floor passes around it: what else the machine is doing drifts less between neighbours."""
    for row in rows:
        run_pass(row, servers, 1, workdir, 0)
    floors = [row for row in rows if row.floor is None]
    for number in range(1, rounds + 1):
        log(f"round {number}/{rounds}")
        for floor in floors:
            before = run_pass(floor, servers, SECONDS, workdir, number)
            floor.passes.append(before)
            for row in (r for r in rows if r.floor == floor.name):
                mine = run_pass(row, servers, SECONDS, workdir, number)
                after = run_pass(floor, servers, SECONDS, workdir, number)
                row.passes.append(mine)
                floor.passes.append(after)
                if row.bytes:
                    value, base = mine.bytes_rate, (before.bytes_rate + after.bytes_rate) / 2
                else:
                    value, base = mine.rate, (before.rate + after.rate) / 2
                row.ratios.append(value / base if base else 0.0)
                floor_p99 = (before.p99_ms + after.p99_ms) / 2
                row.p99_ratios.append(mine.p99_ms / floor_p99 if floor_p99 else 0.0)
                floor_p50 = (before.p50_ms + after.p50_ms) / 2
                row.p50_ratios.append(mine.p50_ms / floor_p50 if floor_p50 else 0.0)
                before = after


# ---------------------------------------------------------------------------------------------
# Seeding


@dataclass
class Seeded:
    alice_id: str = ""
    bob_id: str = ""
    alice_token: str = ""
    bob_token: str = ""
    status_ids: list[str] = field(default_factory=list)  # newest first
    reacted_id: str = ""
    shortcodes: list[str] = field(default_factory=list)

    @property
    def pin(self) -> str:
        """The id just above the newest seeded status: as max_id it pins home and favourites to
        the seeded pages, whatever the write rows and GROWTH add above them later (keyset paging
        seeks there on the index), so every round and both sizes measure the same 20 statuses."""
        value = 0
        for char in self.status_ids[0]:
            value = value * 62 + B62.index(char)
        value += 1
        out = ""
        while value:
            value, rest = divmod(value, 62)
            out = B62[rest] + out
        return out.rjust(18, "0")

    def home(self, limit: int = 20) -> str:
        return f"/api/v1/timelines/home?limit={limit}&max_id={self.pin}"

    def favourites(self, limit: int = 20) -> str:
        return f"/api/v1/pleroma/accounts/{self.alice_id}/favourites?limit={limit}&max_id={self.pin}"


def run_flask(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "flask"), "--app", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed: {done.stdout}{done.stderr}")
    return done.stdout.strip()


def build_schema(env: dict[str, str], instance: Path) -> str:
    """Migrate as `make run` does; if migrations/ lags models.py, build from the models instead
    (said in the output, so a stale migration never hides silently)."""
    run_flask(env, "db", "upgrade")
    check = subprocess.run(
        [str(BIN / "flask"), "--app", "app", "db", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if check.returncode == 0:
        return "flask db upgrade"
    for name in ("kenoma.db", "kenoma.db-wal", "kenoma.db-shm"):
        (instance / name).unlink(missing_ok=True)
    code = "from app import create_app\nfrom models import db\napp = create_app()\nwith app.app_context(): db.create_all()"
    subprocess.run([str(BIN / "python"), "-c", code], cwd=ROOT, env=env, check=True, timeout=120)
    return "db.create_all() (migrations/ lags models.py: `flask db check` found changes)"


def emoji_png(n: int) -> bytes:
    """A distinct 64x64 PNG of some kilobytes, like a real emoji image."""
    import io
    import random

    from PIL import Image

    rng = random.Random(n)
    image = Image.new("RGBA", (64, 64))
    image.putdata([(rng.randrange(256), rng.randrange(256), 128, 255) for _ in range(64 * 64)])
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def seed(port: int, env: dict[str, str]) -> Seeded:
    """2 users (CLI), then over HTTP: follows, 1,000 statuses, a 50-file pack, 200 reactions and
    200 favourites."""
    seeded = Seeded()
    seeded.alice_id = run_flask(env, "user", "create", "alice", "--password", PASSWORD, "--admin")
    seeded.bob_id = run_flask(env, "user", "create", "bob", "--password", PASSWORD)
    anon = Client(port)
    app = anon.ok(
        "POST",
        "/api/v1/apps",
        form={
            "client_name": "bench",
            "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
            "scopes": "read write follow push admin",
        },
    )

    def token(nickname: str) -> str:
        answer = anon.ok(
            "POST",
            "/oauth/token",
            form={
                "grant_type": "password",
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
                "username": nickname,
                "password": PASSWORD,
                "scope": "read write follow push admin",
            },
        )
        return answer["access_token"]

    seeded.alice_token, seeded.bob_token = token("alice"), token("bob")
    alice, bob = Client(port, seeded.alice_token), Client(port, seeded.bob_token)
    alice.ok("PATCH", "/api/v1/accounts/update_credentials", form={"hide_favorites": "false"})
    alice.ok("POST", f"/api/v1/accounts/{seeded.bob_id}/follow")
    bob.ok("POST", f"/api/v1/accounts/{seeded.alice_id}/follow")

    seeded.shortcodes = seed_pack(alice)
    seed_statuses(port, seeded)
    seed_reactions(alice, bob, seeded)
    bob_statuses = seeded.status_ids[1::2][: FAVOURITES * 2]
    for status_id in bob_statuses[::2][:FAVOURITES]:
        alice.ok("POST", f"/api/v1/statuses/{status_id}/favourite")
    return seeded


def seed_pack(admin: Client) -> list[str]:
    admin.ok("POST", "/api/v1/pleroma/emoji/pack", form={"name": "bench"})
    shortcodes = []
    for n in range(1, EMOJI_FILES + 1):
        shortcode = f"bench_{n:02d}"
        body, content_type = multipart(
            {"name": "bench", "shortcode": shortcode, "filename": f"{shortcode}.png"},
            {"file": (f"{shortcode}.png", emoji_png(n), "image/png")},
        )
        admin.ok(
            "POST", "/api/v1/pleroma/emoji/packs/files", body=body, headers={"Content-Type": content_type}
        )
        shortcodes.append(shortcode)
    metadata = {"description": "bench pack", "license": "CC0", "homepage": "", "share-files": True}
    admin.ok("PATCH", "/api/v1/pleroma/emoji/pack", json_body={"name": "bench", "metadata": metadata})
    return shortcodes


def seed_statuses(port: int, seeded: Seeded) -> None:
    """500 statuses each, alice and bob taking turns, some with a tag, a mention or an emoji."""
    ids: list[str] = []
    clients = {True: Client(port, seeded.alice_token), False: Client(port, seeded.bob_token)}
    for n in range(STATUSES):
        mine = n % 2 == 0
        client = clients[mine]
        text = f"Bench status {n}: the quick brown fox jumps over the lazy dog."
        if n % 5 == 0:
            text += " #bench"
        if n % 7 == 0:
            text += " @bob" if mine else " @alice"
        if n % 11 == 0:
            text += f" :{seeded.shortcodes[n % len(seeded.shortcodes)]}:"
        ids.append(client.ok("POST", "/api/v1/statuses", form={"status": text})["id"])
    seeded.status_ids = list(reversed(ids))


def seed_reactions(alice: Client, bob: Client, seeded: Seeded) -> None:
    """Ten emoji from each user on each of the ten newest statuses: 200 reactions, so the first
    home page carries reactions and one status has twenty."""
    emoji = UNICODE_EMOJI[:5] + [f":{sc}:" for sc in seeded.shortcodes[:5]]
    per_user = REACTIONS // 2 // len(emoji)
    for status_id in seeded.status_ids[:per_user]:
        for name in emoji:
            for client in (alice, bob):
                client.ok("PUT", f"/api/v1/pleroma/statuses/{status_id}/reactions/{quote(name)}")
    seeded.reacted_id = seeded.status_ids[0]


def quote(text: str) -> str:
    from urllib.parse import quote as url_quote

    return url_quote(text, safe="")


# ---------------------------------------------------------------------------------------------
# Checks that are not wrk rows


def query_counts(port: int, seeded: Seeded) -> dict[str, int]:
    alice = Client(port, seeded.alice_token)
    paths = {
        "home limit=20": seeded.home(20),
        "home limit=40": seeded.home(40),
        "favourites limit=20": seeded.favourites(20),
        "favourites limit=40": seeded.favourites(40),
        "reactions": f"/api/v1/pleroma/statuses/{seeded.reacted_id}/reactions",
        "emoji list": "/api/v1/pleroma/emoji",
    }
    counts = {}
    for name, path in paths.items():
        alice.ok("GET", path)  # once to warm caches, as they are during the passes
        answer = alice.request("GET", path)
        if "x-kenoma-queries" not in answer.headers:
            raise RuntimeError("no X-Kenoma-Queries header: is KENOMA_QUERY_COUNT_HEADER honoured?")
        counts[name] = int(answer.headers["x-kenoma-queries"])
    return counts


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


# ---------------------------------------------------------------------------------------------
# The table


def fmt_rate(value: float) -> str:
    return f"{value:,.0f}"


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def wrk_row_line(row: Row) -> tuple[list[str], bool | None]:
    rate = median([p.bytes_rate / 1e6 if row.bytes else p.rate for p in row.passes])
    p50 = median([p.p50_ms for p in row.passes])
    p99 = median([p.p99_ms for p in row.passes])
    non_2xx = sum(p.non_2xx + p.errors for p in row.passes)
    ratio = median(row.ratios) if row.ratios else None
    ok: bool | None = None
    target = ""
    if row.target is not None and ratio is not None:
        ok = ratio >= row.target
        target = f">= {row.target:.0%} of {row.floor}"
        if row.p99_factor is not None:
            p99_ratio = median(row.p99_ratios)
            ok = ok and p99_ratio <= row.p99_factor
            target += f"; p99 <= {row.p99_factor:g}x ({p99_ratio:.1f}x)"
        if row.writes is not None and row.floor == "write floor":
            ok = ok and non_2xx == 0
            target += "; zero non-2xx"
    unit = " MB/s" if row.bytes else ""
    cells = [
        row.name,
        f"{rate:,.1f}{unit}" if row.bytes else fmt_rate(rate),
        f"{p50:.2f}",
        f"{p99:.2f}",
        str(non_2xx),
        f"{ratio:.0%}" if ratio is not None else "floor",
        target,
    ]
    return cells, ok


def print_table(
    wrk_rows: list[Row], checks: list[tuple[str, str, str, bool | None]], notes: list[str]
) -> bool:
    header = ["row", "req/s", "p50 ms", "p99 ms", "non-2xx", "ratio", "target", "result"]
    lines = []
    misses = 0
    for row in wrk_rows:
        cells, ok = wrk_row_line(row)
        cells.append("" if ok is None else ("ok" if ok else "MISS"))
        misses += ok is False
        lines.append(cells)
    widths = [max(len(header[i]), *(len(line[i]) for line in lines)) for i in range(len(header))]
    rule = "+".join("-" * (w + 2) for w in widths)
    print()
    print(
        f"Kenoma bench: {ROUNDS} rounds of {SECONDS:g}s passes, each row between two passes of its floor; "
        f"wrk -t1 -c{CONNECTIONS}; gunicorn.conf.py (2 gthread workers x 4 threads); 127.0.0.1; "
        "medians over rounds"
    )
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print(rule)
    for line in lines:
        print(" | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)))
    print()
    name_width = max(len(c[0]) for c in checks)
    value_width = max(len(c[1]) for c in checks)
    for name, value, target, ok in checks:
        result = "" if ok is None else ("ok" if ok else "MISS")
        misses += ok is False
        print(f"{name.ljust(name_width)} | {value.ljust(value_width)} | {target} | {result}")
    print()
    for note in notes:
        print(f"note: {note}")
    print("all targets met" if not misses else f"{misses} target(s) missed")
    return misses == 0


# ---------------------------------------------------------------------------------------------
# The run


def kenoma_env(workdir: Path, port: int, count_queries: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KENOMA_")}
    env.update(
        {
            "FLASK_APP": "app",
            "KENOMA_INSTANCE_PATH": str(workdir / "instance"),
            "KENOMA_EMOJI_DIR": str(workdir / "emoji"),
            "KENOMA_BASE_URL": f"http://127.0.0.1:{port}",
            "KENOMA_RATELIMIT_ENABLED": "false",
            "PYTHONDONTWRITEBYTECODE": "1",
            # As `make run` starts gunicorn (gunicorn.conf.py says why); the floors get it too.
            "MALLOC_ARENA_MAX": "2",
        }
    )
    if count_queries:
        env["KENOMA_QUERY_COUNT_HEADER"] = "true"
        # The targets count the statements that build an answer; a kept answer (readcache.py)
        # runs one, the token lookup, and tests/test_readcache.py checks that.
        env["KENOMA_READ_CACHE"] = "false"
    return env


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
    try:
        return run(workdir, logs, servers, notes, began)
    finally:
        for server in servers.values():
            server.stop(timeout=15)
        if os.environ.get("BENCH_KEEP"):
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


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
    log(f"seeded in {time.perf_counter() - seed_started:.1f}s")
    counts = query_counts(port, seeded)
    idle_exit = kenoma.stop()

    # 2. The measured servers: the floors and Kenoma (counter off), all up at once.
    env = kenoma_env(workdir, port, count_queries=False)
    floor_env = {
        **env,
        "BENCH_STATIC_DIR": str(workdir / "static"),
        "BENCH_WRITE_DB": str(workdir / "floor.db"),
    }
    servers["kenoma"] = Server("kenoma", "app:create_app()", env, logs)
    servers["kenoma"].port = port
    servers["wsgi"] = Server("floor-wsgi", "floor_wsgi:app", floor_env, logs, cwd=BENCH)
    servers["flask"] = Server("floor-flask", "floor_flask:app", floor_env, logs, cwd=BENCH)
    servers["write"] = Server("floor-write", "floor_write:app", floor_env, logs, cwd=BENCH)
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

    auth = {"Authorization": f"Bearer {seeded.alice_token}"}
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    reaction_names = [quote(e) for e in UNICODE_EMOJI] + [quote(f":{sc}:") for sc in seeded.shortcodes]
    # Not the first hundred: they carry the seeded reactions and make the measured home and
    # favourites pages, which must stay the same from round to round.
    targets = seeded.status_ids[100:]
    per_pass = len(targets) * len(reaction_names) // (ROUNDS + 1)

    def reaction_lines(number: int) -> Iterator[str]:
        for i in range(number * per_pass, (number + 1) * per_pass):
            status_id = targets[i % len(targets)]
            yield f"PUT /api/v1/pleroma/statuses/{status_id}/reactions/{reaction_names[i // len(targets)]}"

    def status_lines(number: int) -> Iterator[str]:
        for i in range(20_000):
            yield f"POST /api/v1/statuses status=bench+write+{number}-{i}+the+quick+brown+fox"

    def floor_lines(number: int) -> Iterator[str]:
        for i in range(100_000):
            yield f"POST /write status=bench+write+{number}-{i}+the+quick+brown+fox"

    rows = [
        Row("bare WSGI", "wsgi", "/json"),
        Row("bare Flask", "flask", "/json"),
        Row("write floor", "write", "/write", writes=floor_lines, headers=form),
        Row("static zip", "flask", "/files/bench.zip", bytes=True),
        Row("GET /api/v1/pleroma/emoji", "kenoma", "/api/v1/pleroma/emoji", "bare Flask", 0.70),
        Row(
            "GET .../statuses/:id/reactions",
            "kenoma",
            f"/api/v1/pleroma/statuses/{seeded.reacted_id}/reactions",
            "bare Flask",
            0.50,
            headers=auth,
        ),
        Row(
            "GET .../accounts/:id/favourites",
            "kenoma",
            seeded.favourites(),
            "bare Flask",
            0.35,
            6,
            headers=auth,
        ),
        Row(
            "GET /api/v1/timelines/home",
            "kenoma",
            seeded.home(),
            "bare Flask",
            0.35,
            6,
            headers=auth,
        ),
        Row("PUT reaction", "kenoma", "/", "write floor", 0.60, writes=reaction_lines, headers=auth),
        Row(
            "POST /api/v1/statuses",
            "kenoma",
            "/",
            "write floor",
            0.40,
            writes=status_lines,
            headers={**auth, **form},
        ),
        Row(
            "GET pack archive",
            "kenoma",
            "/api/v1/pleroma/emoji/packs/archive?name=bench",
            "static zip",
            0.80,
            bytes=True,
        ),
    ]
    log(f"kenoma ready in {ready:.2f}s; measuring {len(rows)} rows x {ROUNDS} rounds")
    measure(rows, servers, workdir, ROUNDS)
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
        growth_rows = [
            Row("bare Flask", "flask", "/json"),
            Row("home @ growth", "kenoma", seeded.home(), "bare Flask", headers=auth),
            Row("favourites @ growth", "kenoma", seeded.favourites(), "bare Flask", headers=auth),
        ]
        measure(growth_rows, servers, workdir, ROUNDS)

    log("follow import")
    try:
        imported: ImportResult | None = follow_import(port, env, seeded)
    except LookupError:
        imported = None
    rss, pss, processes = servers["kenoma"].memory_mb()
    log("SIGTERM under load")
    shutdown = sigterm_under_load(servers["kenoma"], seeded)

    checks = statement_checks(counts)
    checks += import_checks(imported)
    checks.append(("locked", f"{locked} 'database is locked' in Kenoma's log", "zero", locked == 0))
    checks.append(
        (
            "memory",
            f"{rss:.0f} MB RSS, {pss:.0f} MB PSS ({processes} processes)",
            "master + 2 workers <= 200 MB RSS",
            rss <= 200 and processes == 3,
        )
    )
    checks += growth_checks(rows, growth_rows)
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
        f"seeding: {STATUSES} statuses, {REACTIONS} reactions, {FAVOURITES} favourites and the "
        f"{EMOJI_FILES}-file pack over HTTP; 2 users with the CLI; 10,000 import accounts"
        + (" and GROWTH statuses" if GROWTH else "")
        + " by bulk insert (bench/bulk.py)"
    )
    notes.append(f"total time {time.perf_counter() - began:.0f}s")
    all_met = print_table(rows + growth_rows, checks, notes)
    return 0 if all_met else 1


def statement_checks(counts: dict[str, int]) -> list[tuple[str, str, str, bool | None]]:
    home, fav = (
        (counts["home limit=20"], counts["home limit=40"]),
        (counts["favourites limit=20"], counts["favourites limit=40"]),
    )
    return [
        (
            "SQL home",
            f"{home[0]} (limit 20) / {home[1]} (limit 40)",
            "<= 6, equal",
            max(home) <= 6 and home[0] == home[1],
        ),
        (
            "SQL favourites",
            f"{fav[0]} (limit 20) / {fav[1]} (limit 40)",
            "<= 6, equal",
            max(fav) <= 6 and fav[0] == fav[1],
        ),
        ("SQL reactions", str(counts["reactions"]), "<= 3", counts["reactions"] <= 3),
        ("SQL emoji list", str(counts["emoji list"]), "<= 1", counts["emoji list"] <= 1),
    ]


def import_checks(imported: ImportResult | None) -> list[tuple[str, str, str, bool | None]]:
    if imported is None:
        return [("follow import", "n/a: POST /api/v1/pleroma/follow_import is not served", "", None)]
    done = f"{imported.done_s:.2f}s" if imported.done_s is not None else "not done in 30s"
    reads_ok = imported.reads > 0 and imported.read_failures == 0
    return [
        ("follow import answer", f"{imported.answer_s:.3f}s", "<= 1 s", imported.answer_s <= 1),
        (
            "follow import done",
            f"{done} ({imported.follows:,} follows)",
            "<= 5 s",
            imported.done_s is not None and imported.done_s <= 5,
        ),
        (
            "reads meanwhile",
            f"{imported.reads} home pages, {imported.read_failures} failed, "
            f"p99 {imported.read_p99_ms:.0f} ms",
            "served throughout",
            reads_ok,
        ),
    ]


def growth_checks(rows: list[Row], growth_rows: list[Row]) -> list[tuple[str, str, str, bool | None]]:
    """p50 with GROWTH statuses against p50 with 1,000 (the same 20 statuses, see Seeded.pin),
    as the target states it. The same comparison with each p50 taken as a multiple of the floor's
    p50 around it is shown too; it swings more, the floor's p50 being a queueing time of ~2 ms."""
    if not growth_rows:
        return [("growth", "n/a (run GROWTH=100000 make bench)", "p50 at 100k <= 1.5x p50 at 1k", None)]
    by_name = {row.name: row for row in rows + growth_rows}
    out = []
    for small, big in (
        ("GET /api/v1/timelines/home", "home @ growth"),
        ("GET .../accounts/:id/favourites", "favourites @ growth"),
    ):
        before, after = by_name[small], by_name[big]
        raw_small = median([p.p50_ms for p in before.passes])
        raw_big = median([p.p50_ms for p in after.passes])
        normalised = median(after.p50_ratios) / median(before.p50_ratios)
        out.append(
            (
                f"growth {big.split()[0]}",
                f"p50 {raw_small:.2f} ms at {STATUSES:,} -> {raw_big:.2f} ms at {GROWTH:,} ({raw_big / raw_small:.2f}x; "
                f"in floor p50s {normalised:.2f}x)",
                "<= 1.5x",
                raw_big <= 1.5 * raw_small,
            )
        )
    return out


if __name__ == "__main__":
    sys.exit(main())
