"""`flask db backup PATH` (SQLite online backup API): a complete, checked copy written atomically,
never over an existing file without --force. The copy under live write load is in test_concurrency."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
from flask import Flask

from models import Account
from models import db
from tests import scaled

# SQLite's online backup; on PostgreSQL the command runs pg_dump (the last test).
sqlite_only = pytest.mark.skipif(scaled.SCALED, reason="SQLite's online backup")


def _backup(app: Flask, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["db", "backup", *args])
    return result.exit_code, result.output


@sqlite_only
def test_backup_is_a_complete_self_contained_copy(
    app: Flask, make_account: Callable[..., Account], tmp_path: Path
) -> None:
    alice = make_account("alice")
    target = tmp_path / "copy.db"
    code, output = _backup(app, str(target))
    assert code == 0, output
    assert output.startswith("backed up ") and str(target) in output
    assert not Path(f"{target}.tmp").exists()
    with closing(sqlite3.connect(target)) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        assert copy.execute("SELECT id, nickname FROM account").fetchall() == [(alice.id, "alice")]
    # Nothing beside it: no -wal or -shm the copy would need.
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("copy.db")) == ["copy.db"]


@sqlite_only
def test_backup_refuses_to_overwrite_without_force(
    app: Flask, make_account: Callable[..., Account], tmp_path: Path
) -> None:
    target = tmp_path / "copy.db"
    target.write_bytes(b"an older backup")
    code, output = _backup(app, str(target))
    assert code != 0
    assert "exists; use --force to overwrite it" in output
    assert target.read_bytes() == b"an older backup"

    make_account("bob")
    code, output = _backup(app, "--force", str(target))
    assert code == 0, output
    with closing(sqlite3.connect(target)) as copy:
        assert copy.execute("SELECT nickname FROM account").fetchall() == [("bob",)]


@sqlite_only
def test_backup_refuses_the_live_database_and_missing_folders(app: Flask, tmp_path: Path) -> None:
    live = Path(db.engine.url.database)
    code, output = _backup(app, "--force", str(live))
    assert code != 0 and "the live database itself" in output
    code, output = _backup(app, str(tmp_path / "no" / "such" / "dir" / "copy.db"))
    assert code != 0 and "no such directory" in output
    assert not (tmp_path / "no").exists()


@sqlite_only
def test_backup_leaves_no_partial_file_when_the_copy_fails(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cli

    def broken(source: Path, target: Path) -> int:
        target.write_bytes(b"half a database")
        raise OSError("disk full")

    monkeypatch.setattr(cli, "_copy_database", broken)
    target = tmp_path / "copy.db"
    code, _ = _backup(app, str(target))
    assert code != 0
    assert not any(p.name.startswith("copy.db") for p in tmp_path.iterdir())


@pytest.mark.skipif(not scaled.SCALED, reason="needs the scaled engines (make test-postgres)")
def test_backup_on_postgresql_is_a_pg_dump_archive(
    app: Flask, make_account: Callable[..., Account], tmp_path: Path
) -> None:
    import subprocess

    from cli import _pg_dump

    make_account("alice")
    target = tmp_path / "kenoma.dump"
    code, output = _backup(app, str(target))
    assert code == 0, output
    assert "pg_restore" in output and "@" in output and not Path(f"{target}.tmp").exists()
    assert target.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    listing = subprocess.run(
        [str(Path(_pg_dump()).with_name("pg_restore")), "--list", str(target)], capture_output=True, text=True
    )
    assert listing.returncode == 0 and "TABLE DATA public account" in listing.stdout
    code, output = _backup(app, str(target))
    assert code != 0 and "exists; use --force" in output
