"""The servers the bench measures (Kenoma and the floors, each one gunicorn on 127.0.0.1 with
Kenoma's gunicorn.conf.py), Kenoma's environment, and the wrk passes driven against them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from loopback import Client
from settings import BENCH
from settings import BIN
from settings import CONNECTIONS
from settings import GUNICORN_CONF
from settings import ROOT
from settings import free_port

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


# BENCH_DB=postgres: KENOMA_SQLALCHEMY_DATABASE_URI and KENOMA_REDIS_URL of the throwaway engines
# run.py started (tests/scaled.py), given to every Kenoma process.
ENGINE_ENV: dict[str, str] = {}


def kenoma_env(workdir: Path, port: int, count_queries: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KENOMA_")} | ENGINE_ENV
    env.update(
        {
            "FLASK_APP": "app",
            "KENOMA_INSTANCE_PATH": str(workdir / "instance"),
            "KENOMA_EMOJI_DIR": str(workdir / "emoji"),
            "KENOMA_BASE_URL": f"http://127.0.0.1:{port}",
            "KENOMA_RATELIMIT_ENABLED": "false",
            # The federation probe delivers to inbox servers on loopback (bench/federation_probe.py).
            "KENOMA_ALLOW_PRIVATE_FETCH": "true",
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
    script: str | None = None,
) -> Pass:
    """One bounded wrk pass against 127.0.0.1 (a fixed GET, or the lines of `requests_file`,
    read by lua/requests.lua or by the `script` given)."""
    script_path = BENCH / "lua" / (script or ("requests.lua" if requests_file else "report.lua"))
    command = [
        "wrk",
        "-t1",
        f"-c{CONNECTIONS}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(script_path),
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
