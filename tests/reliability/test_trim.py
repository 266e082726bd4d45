"""gunicorn.conf.py's post_worker_init: each worker hands the memory freed in its malloc heaps back
to the system once a second (bench/README.md, issue 19 part K)."""

from __future__ import annotations

import ctypes
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


def _settings() -> dict[str, Any]:
    settings: dict[str, Any] = {}
    exec(CONF.read_text(), settings)
    return settings


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_a_worker_starts_one_trimming_thread() -> None:
    settings = _settings()
    trimmed, done = threading.Event(), threading.Event()

    def once(trim: Any) -> None:
        if trim(0) in (0, 1):  # malloc_trim was found and called: it answers 0 or 1
            trimmed.set()
        done.wait(5)

    settings["_trim_forever"] = once
    before = {t.ident for t in threading.enumerate()}
    settings["post_worker_init"](None)
    try:
        assert trimmed.wait(5)
        started = [t for t in threading.enumerate() if t.ident not in before]
        assert [t.name for t in started] == ["kenoma-malloc-trim"]
        assert started[0].daemon  # never keeps a stopping worker alive
    finally:
        done.set()


def test_without_malloc_trim_no_thread_is_started(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings()

    def missing(_name: str) -> Any:
        raise OSError("no such library")

    monkeypatch.setattr(ctypes, "CDLL", missing)
    assert settings["_malloc_trim"]() is None
    settings["_trim_forever"] = lambda trim: pytest.fail("started without malloc_trim")
    settings["post_worker_init"](None)
