"""precompiled.py: a built statement run as its compiled SQL binds as SQLAlchemy's execution would."""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from sqlalchemy import bindparam
from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite

from models import Favourite
from models import db
from precompiled import Precompiled
from services.accounts import create_local_account
from services.statuses import NewStatus
from services.statuses import post_status

WHEN = datetime(2026, 12, 4, 6, 0, 0, 123456)
_SINCE = Precompiled(select(Favourite.id).where(Favourite.created_at > bindparam("since", type_=db.DateTime)))


def test_bound_speaks_each_driver_s_paramstyle() -> None:
    sql, values = _SINCE.bound(sqlite.dialect(), {"since": WHEN})
    assert sql.endswith("favourite.created_at > ?")
    assert values == ("2026-12-04 06:00:00.123456",)  # SQLite's DateTime bind processor
    sql, values = _SINCE.bound(postgresql.dialect(), {"since": WHEN})
    assert "favourite.created_at > %(since)s" in sql
    assert values == {"since": WHEN}


def test_a_statement_whose_sql_varies_per_run_is_not_bound() -> None:
    among = Precompiled(select(Favourite.id).where(Favourite.id.in_(bindparam("ids", expanding=True))))
    assert among.bound(sqlite.dialect(), {"ids": ["a", "b"]}) is None


def test_execute_writes_and_says_how_many_rows(app: Flask) -> None:
    alice = create_local_account("alice", "secret-pw", email="alice@example.org")
    status = post_status(alice, NewStatus(text="favourite me"))
    add = Precompiled(db.insert(Favourite))  # every column given
    remove = Precompiled(delete(Favourite).where(Favourite.status_id == bindparam("status_id")))
    connection = db.session.connection()
    row = {"id": "f1", "account_id": alice.id, "status_id": status.id, "created_at": WHEN}
    assert add.execute(connection, row).rowcount == 1
    assert db.session.scalar(select(Favourite.created_at).where(Favourite.id == "f1")) == WHEN
    assert _SINCE.rows(connection, {"since": datetime(2026, 1, 1)}) == [("f1",)]
    assert remove.execute(connection, {"status_id": status.id}).rowcount == 1
    # An expanding parameter: run through SQLAlchemy's own execution instead.
    among = Precompiled(select(Favourite.id).where(Favourite.id.in_(bindparam("ids", expanding=True))))
    assert among.rows(connection, {"ids": ["f1", "f2"]}) == []
    db.session.rollback()
