"""`make bench-streaming`: the streaming API under the production gunicorn config (SPEC 25.1).

Holds IDLE (default 500) SSE connections of READERS accounts open on the user stream, then:
- memory: PSS of master + workers before and after, per 100 connections;
- REST while they are open: GET /api/v1/timelines/home answers per second (wrk, 2 s), with and
  without the connections;
- latency: one more reader on the public stream; EVENTS statuses are posted one at a time, and
  the time from the status' `created_at` (stamped just before its insert) to the frame's arrival
  is an upper bound of commit -> frame (it also holds the insert and the commit, ms precision).
  p50 and p99; target p99 <= 100 ms.
Prints one small table; exits 1 when a target is missed."""

from __future__ import annotations

import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from seeding import build_schema  # noqa: E402
from servers import Server  # noqa: E402
from servers import kenoma_env  # noqa: E402
from servers import wrk  # noqa: E402
from settings import BIN  # noqa: E402
from settings import ROOT  # noqa: E402
from settings import log  # noqa: E402

IDLE = int(os.environ.get("STREAM_IDLE", "500"))
READERS = int(os.environ.get("STREAM_READERS", "50"))
EVENTS = int(os.environ.get("STREAM_EVENTS", "100"))
P99_TARGET = 0.100


def token(base: str, nickname: str) -> str:
    app = requests.post(
        f"{base}/api/v1/apps",
        data={"client_name": "bench", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read write"},
        timeout=30,
    ).json()
    answer = requests.post(
        f"{base}/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "username": nickname,
            "password": "bench-password-1",
            "scope": "read write",
        },
        timeout=30,
    )
    return answer.json()["access_token"]


def open_sse(port: int, path: str, token_value: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    request = f"GET /api/v1/streaming/{path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token_value}\r\n\r\n"
    sock.sendall(request.encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            raise RuntimeError("stream closed during its headers")
        head += chunk
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(head[:200].decode(errors="replace"))
    return sock


def frame_delay(sock: socket.socket, marker: bytes, deadline: float) -> float | None:
    """Seconds from the status' `created_at` (set just before its insert and commit, on this
    machine's clock) to the arrival of the frame carrying `marker`; None if it never came."""
    seen = b""
    while True:
        at = seen.find(marker)
        end = seen.find(b"\n\n", at) if at >= 0 else -1
        if end >= 0:
            arrived = time.time()
            stamp = re.search(rb'"created_at":"([^"]+)"', seen[at:end])
            if stamp is None:
                return None
            created = datetime.fromisoformat(stamp.group(1).decode().replace("Z", "+00:00"))
            return max(0.0, arrived - created.timestamp())
        sock.settimeout(max(0.001, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            return None
        if not chunk:
            return None
        seen += chunk


def home_rate(port: int, token_value: str) -> float:
    return wrk(port, "/api/v1/timelines/home", 2.0, headers={"Authorization": f"Bearer {token_value}"}).rate


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="kenoma-bench-streaming-"))
    (workdir / "emoji").mkdir()
    logs = workdir / "logs"
    logs.mkdir()
    server = Server("kenoma", "app:create_app()", {}, logs)
    # Cheap password hashing: the bench logs in many readers; it measures streaming, not login.
    env = kenoma_env(workdir, server.port, count_queries=False)
    env |= {"KENOMA_ARGON2_TIME_COST": "1", "KENOMA_ARGON2_MEMORY_COST": "64"}
    server.env = env
    try:
        build_schema(env, workdir / "instance")
        names = ["author", *(f"reader{i}" for i in range(READERS))]
        log(f"creating {len(names)} accounts")
        create = (
            "import sys\nfrom app import create_app\nfrom models import db\n"
            "from services.accounts import create_local_account\napp = create_app()\n"
            "with app.app_context():\n    for name in sys.argv[1:]:\n"
            "        create_local_account(name, 'bench-password-1')\n    db.session.commit()\n"
        )
        subprocess.run(
            [str(BIN / "python"), "-c", create, *names], cwd=ROOT, env=env, check=True, timeout=300
        )
        server.start()
        server.wait_ready("/api/v1/streaming/health")
        base = f"http://127.0.0.1:{server.port}"
        author = token(base, "author")
        readers = [token(base, f"reader{i}") for i in range(READERS)]
        rest_before = home_rate(server.port, readers[0])
        pss_before = server.memory_mb()[1]
        log(f"opening {IDLE} connections")
        held = [open_sse(server.port, "user", readers[i % READERS]) for i in range(IDLE)]
        time.sleep(1)
        pss_after = server.memory_mb()[1]
        rest_during = home_rate(server.port, readers[0])
        listener = open_sse(server.port, "public", readers[0])
        delays = []
        log(f"posting {EVENTS} statuses")
        for n in range(EVENTS):
            marker = f"bench-{n}-{time.monotonic_ns()}"
            sent = time.monotonic()
            requests.post(
                f"{base}/api/v1/statuses",
                data={"status": marker},
                headers={"Authorization": f"Bearer {author}"},
                timeout=30,
            )
            delay = frame_delay(listener, marker.encode(), sent + 5)
            if delay is not None:
                delays.append(delay)
        for sock in [*held, listener]:
            sock.close()
    finally:
        server.stop()
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(workdir, ignore_errors=True)
    per_100 = (pss_after - pss_before) / IDLE * 100
    p50 = statistics.median(delays) if delays else float("inf")
    p99 = sorted(delays)[max(0, int(len(delays) * 0.99) - 1)] if delays else float("inf")
    ratio = rest_during / rest_before if rest_before else 0.0
    print(f"{'streaming (' + str(IDLE) + ' idle SSE connections)':<48} {'value':>12} {'target':>10}")
    print(f"{'memory per 100 connections (PSS, MB)':<48} {per_100:>12.2f} {'':>10}")
    print(
        f"{'home timeline req/s without / with them':<48} {rest_before:>5.0f} / {rest_during:<5.0f} {'':>10}"
    )
    print(f"{'REST ratio with / without':<48} {ratio:>12.2f} {'>= 0.90':>10}")
    print(f"{'events delivered':<48} {len(delays):>12} {EVENTS:>10}")
    print(f"{'created_at -> frame p50 (ms)':<48} {p50 * 1000:>12.1f} {'':>10}")
    print(f"{'created_at -> frame p99 (ms)':<48} {p99 * 1000:>12.1f} {'<= 100':>10}")
    missed = p99 > P99_TARGET or len(delays) < EVENTS or ratio < 0.9
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
