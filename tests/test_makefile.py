"""The README's two commands as a person runs them: `make` recovers from an interrupted first set-up,
and `PORT=... make run` serves URLs on the port it binds."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent


def _make(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=ROOT,
        env=env or os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _has_pip(venv: Path) -> bool:
    python = venv / "bin" / "python"
    return (
        python.exists()
        and subprocess.run([python, "-m", "pip", "--version"], capture_output=True).returncode == 0
    )


def test_make_rebuilds_an_environment_left_without_pip(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    # What Ctrl-C during `python -m venv` leaves behind: the interpreter, but no pip.
    subprocess.run(["python3", "-m", "venv", "--without-pip", venv], check=True)
    assert not _has_pip(venv)
    done = _make(f"VENV={venv}", f"{venv}/.created")
    assert done.returncode == 0, done.stderr
    assert _has_pip(venv)


def test_make_recovers_when_interrupted_while_creating_the_environment(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    target = [f"VENV={venv}", f"{venv}/.created"]
    started = subprocess.Popen(["make", "--no-print-directory", *target], cwd=ROOT, start_new_session=True)
    deadline = time.monotonic() + 60
    while not (venv / "bin" / "python").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(started.pid, signal.SIGINT)  # as Ctrl-C reaches the whole foreground group
    started.wait(timeout=60)
    assert not (venv / ".created").exists()
    done = _make(*target)
    assert done.returncode == 0, done.stderr
    assert _has_pip(venv) and (venv / ".created").exists()


def test_make_run_names_the_server_after_its_port(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "KENOMA_BASE_URL"}
    env |= {"PORT": str(port), "KENOMA_INSTANCE_PATH": str(tmp_path / "instance")}
    server = subprocess.Popen(
        ["make", "--no-print-directory", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        instance = _wait_for_json(f"http://127.0.0.1:{port}/api/v1/instance", server)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    assert instance["uri"] == f"http://127.0.0.1:{port}"


def _wait_for_json(url: str, server: subprocess.Popen, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.poll() is None, "make run exited"
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                return json.load(answer)
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer in {timeout} s")
