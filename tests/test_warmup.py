"""warmup.py: the master's warm-up before the fork runs the hot requests on a throwaway app and
leaves nothing behind (issue 19, memory)."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import pytest
from flask import Flask

import ratelimits
import warmup
from models import Account
from models import Status
from models import Token
from models import db


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "scratch"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _files(folder: Path) -> dict[str, int]:
    return {str(path.relative_to(folder)): path.stat().st_mtime_ns for path in folder.rglob("*")}


def test_warm_up_answers_every_request_and_touches_nothing_real(
    app: Flask, scratch: Path, caplog: pytest.LogCaptureFixture
) -> None:
    storage = ratelimits.limiter._storage
    instance = Path(app.instance_path)
    emoji = Path(app.config["EMOJI_DIR"])
    before = _files(instance), _files(emoji)
    with caplog.at_level(logging.WARNING, logger="warmup"):
        seconds = warmup.warm_up(app)
    assert seconds > 0
    assert [r.message for r in caplog.records if r.name == "warmup"] == []
    # The real app: no rows, no files, the same rate-limit storage, still answering.
    assert db.session.query(Account).count() == 0
    assert db.session.query(Status).count() == 0
    assert db.session.query(Token).count() == 0
    assert (_files(instance), _files(emoji)) == before
    assert list(scratch.iterdir()) == []
    assert ratelimits.limiter._storage is storage
    assert app.test_client().get("/api/v1/instance").status_code == 200


def test_a_failing_warm_up_request_is_logged(
    app: Flask, scratch: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(warmup, "READS", (*warmup.READS, "/api/v1/statuses/nope"))
    with caplog.at_level(logging.WARNING, logger="warmup"):
        warmup.warm_up(app)
    assert any("/api/v1/statuses/nope" in r.message for r in caplog.records if r.name == "warmup")
    assert list(scratch.iterdir()) == []
