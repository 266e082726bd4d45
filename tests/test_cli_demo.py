"""`flask --app app reset` asks before it deletes (SPEC 27); the media folder goes with the rows."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import func
from sqlalchemy import select

from models import Account
from models import db


def _accounts() -> int:
    return db.session.scalar(select(func.count()).select_from(Account))


def test_reset_asks_first(app: Flask, account: Account) -> None:
    media = Path(app.instance_path) / "media" / "x"
    media.mkdir(parents=True)
    (media / "file.png").write_bytes(b"png")
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["reset"], input="n\n")
    assert refused.exit_code == 1 and "Aborted" in refused.output
    assert _accounts() == 1 and media.exists()
    accepted = runner.invoke(args=["reset"], input="y\n")
    assert accepted.exit_code == 0 and "instance emptied" in accepted.output
    assert _accounts() == 0 and not media.exists()
    assert runner.invoke(args=["reset", "--yes"]).exit_code == 0  # an empty instance resets too


def test_demo_shows_progress_and_its_pack(app: Flask) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "… accounts, avatars and profile fields" in result.output
    assert (Path(app.config["EMOJI_DIR"]) / "kenoma_demo" / "pack.json").is_file()
    assert _accounts() == 4
    runner.invoke(args=["reset", "--yes"])
    assert not (Path(app.config["EMOJI_DIR"]) / "kenoma_demo").exists()
