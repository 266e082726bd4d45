"""portable_sql.py: the SQL the services write for SQLite, rendered for PostgreSQL (SPEC 28). Only
compiled here; the whole suite runs it on both databases (`make test-postgres`)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.sqlite import insert

from models import Account
from models import Block
from models import Status
from models import db
from portable_sql import among
from portable_sql import as_text


def _both(statement: object) -> tuple[str, str]:
    return (
        " ".join(str(statement.compile(dialect=sqlite.dialect())).split()),  # type: ignore[attr-defined]
        " ".join(str(statement.compile(dialect=postgresql.dialect())).split()),  # type: ignore[attr-defined]
    )


def test_on_conflict_clauses_render_on_both() -> None:
    ignore = insert(Block).on_conflict_do_nothing(index_elements=["account_id", "target_id"])
    lite, pg = _both(ignore)
    assert lite.endswith("ON CONFLICT (account_id, target_id) DO NOTHING")
    assert pg.endswith("ON CONFLICT (account_id, target_id) DO NOTHING")
    upsert = insert(Block)
    upsert = upsert.on_conflict_do_update(
        index_elements=["id"], set_={"target_id": upsert.excluded.target_id}
    )
    assert _both(upsert)[1].endswith("ON CONFLICT (id) DO UPDATE SET target_id = excluded.target_id")


def test_scalar_and_truth_max() -> None:
    lite, pg = _both(select(func.max(Status.favourites_count - 1, 0)))
    assert "max(status.favourites_count - ?, ?)" in lite
    assert "GREATEST(status.favourites_count - " in pg
    lite, pg = _both(select(func.max(Status.account_id == "1")))
    assert "max(status.account_id = ?)" in lite and "bool_or(status.account_id = " in pg
    assert "max(status.id)" in _both(select(func.max(Status.id)))[1]  # the aggregate stays itself


def test_json_each_and_as_text() -> None:
    lite, pg = _both(
        select(as_text(Account.is_active), as_text(Account.id)).select_from(func.json_each("[]"))
    )
    assert lite == "SELECT account.is_active AS anon_1, account.id AS anon_2 FROM json_each(?), account"
    assert "CAST(CAST(account.is_active AS INTEGER) AS TEXT)" in pg and "CAST(account.id AS TEXT)" in pg
    assert "json_array_elements_text(CAST(" in pg


def test_among_is_one_bound_string(app: Flask, account: Account, bob: Account) -> None:
    """among(): the same short SQL for any length, run on the suite's database (both)."""
    few = select(Account.id).where(among(Account.id, [account.id]))
    many = select(Account.id).where(among(Account.id, [account.id, bob.id, "nobody", "o'q\"x"]))
    assert _both(few) == _both(many)
    lite, pg = _both(few)
    assert lite.endswith("WHERE account.id IN (SELECT value FROM json_each(?))")
    assert "account.id = ANY(ARRAY(SELECT json_array_elements_text(CAST(" in pg
    with app.app_context():
        assert set(db.session.scalars(many)) == {account.id, bob.id}
        assert list(db.session.scalars(select(Account.id).where(among(Account.id, [])))) == []
