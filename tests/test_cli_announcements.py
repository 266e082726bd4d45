"""`flask --app app announcement create|list|delete` (SPEC 29)."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from models import Account
from models import Announcement
from models import db


def _flask(app: Flask, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=list(args))
    return result.exit_code, result.output


def test_announcement_create_prints_the_id(
    app: Flask, client: FlaskClient, account: Account, alice_h: dict
) -> None:
    code, output = _flask(app, "announcement", "create", "Server moves on Sunday")
    assert code == 0, output
    announcement_id = output.strip()
    assert output.count("\n") == 1
    (shown,) = client.get("/api/v1/announcements", headers=alice_h).get_json()
    assert shown["id"] == announcement_id
    assert "Server moves on Sunday" in shown["content"]


def test_announcement_create_with_window_and_all_day(app: Flask) -> None:
    code, output = _flask(
        app,
        "announcement",
        "create",
        "Party",
        "--starts-at",
        "2030-01-01T10:00:00+02:00",
        "--ends-at",
        "2030-01-02T00:00:00Z",
        "--all-day",
    )
    assert code == 0, output
    row = db.session.get(Announcement, output.strip())
    assert row.starts_at.isoformat() == "2030-01-01T08:00:00"
    assert row.ends_at.isoformat() == "2030-01-02T00:00:00"
    assert row.is_all_day is True


def test_announcement_create_refuses_bad_input(app: Flask) -> None:
    assert _flask(app, "announcement", "create", "x", "--starts-at", "tomorrow")[0] != 0
    code, output = _flask(
        app,
        "announcement",
        "create",
        "x",
        "--starts-at",
        "2030-01-02T00:00:00",
        "--ends-at",
        "2030-01-01T00:00:00",
    )
    assert code == 1 and "after the start" in output
    assert _flask(app, "announcement", "create", "   ")[0] == 1
    assert db.session.scalars(select(Announcement)).all() == []


def test_announcement_list_and_delete(app: Flask) -> None:
    first = _flask(app, "announcement", "create", "first line\nsecond line")[1].strip()
    second = _flask(app, "announcement", "create", "other")[1].strip()
    code, output = _flask(app, "announcement", "list")
    assert code == 0
    lines = output.splitlines()
    assert [line.split("\t")[0] for line in lines] == [first, second]
    assert lines[0].endswith("first line")
    assert _flask(app, "announcement", "delete", first) == (0, "ok\n")
    code, output = _flask(app, "announcement", "delete", first)
    assert code == 1 and f"no announcement with id {first}" in output
    assert [line.split("\t")[0] for line in _flask(app, "announcement", "list")[1].splitlines()] == [second]
