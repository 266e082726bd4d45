"""engines.py: which database and Redis an instance runs on (SPEC 28)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy import text

import engines
import models
from models import db
from tests import scaled


def test_engine_options_spell_the_timeout_per_driver() -> None:
    lite = engines.engine_options("sqlite:////tmp/k.db", {"hide_parameters": True})
    assert lite == {"hide_parameters": True, "connect_args": {"timeout": engines.CONNECT_TIMEOUT_SECONDS}}
    pg = engines.engine_options("postgresql+psycopg://k@db/kenoma", {"connect_args": {"timeout": 30}})
    assert pg["connect_args"] == {"connect_timeout": engines.CONNECT_TIMEOUT_SECONDS}
    assert "pool_pre_ping" not in pg and pg["execution_options"] == {"preserve_rowcount": True}


def test_the_app_knows_its_engines(app: Flask) -> None:
    assert engines.is_sqlite(app) is not scaled.SCALED
    assert engines.backend(app) == ("postgresql" if scaled.SCALED else "sqlite")
    if scaled.SCALED:
        assert engines.redis_client(app).ping() is True
        assert app.config["RATELIMIT_STORAGE_URI"] == engines.redis_url(app)
        assert type(app.extensions["kenoma_jobs"].huey).__name__ == "RedisHuey"
    else:
        assert engines.redis_url(app) == ""
        with pytest.raises(RuntimeError, match="REDIS_URL"):
            engines.redis_client(app)


@pytest.mark.skipif(not scaled.SCALED, reason="a PostgreSQL backend to end")
def test_a_pooled_connection_the_server_closed_is_replaced_at_checkout(app: Flask) -> None:
    """Without pool_pre_ping's round trip: the backend of the pooled connection is ended (as a
    server restart ends them all), and the next request's checkout opens another."""
    import psycopg  # installed for the scaled layout only

    with app.app_context():
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        db.session.remove()  # back to the pool, idle
        # From outside the pool, which would hand back the very connection to end.
        url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(url, autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(%s)", (pid,))
        time.sleep(0.3)  # the server's goodbye reaches the pooled socket
        assert db.engine.pool.checkedin() == 1  # the next checkout can only be that one
        assert db.session.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
        db.session.remove()


@pytest.mark.parametrize(
    ("statement", "reads"),
    [
        ("SELECT account.id FROM account WHERE account.id = %(id)s", True),
        ("(SELECT 1) UNION ALL (SELECT 2)", True),
        ("\n  select 1", True),
        ("SELECT status.id FROM status WHERE status.id = %s FOR UPDATE", False),
        ("SELECT status.id FROM status FOR NO KEY UPDATE", False),
        ("SELECT 1 FROM status for share", False),
        ("SELECT pg_advisory_xact_lock(1263423055)", False),
        ("SELECT pg_notify('kenoma', 'x')", False),
        ("SELECT nextval('status_seq')", False),
        ("INSERT INTO favourite (account_id, status_id) VALUES (%s, %s)", False),
        ("UPDATE status SET favourites_count = 1", False),
        ("DELETE FROM mute", False),
        ("WITH gone AS (DELETE FROM mute RETURNING id) SELECT count(*) FROM gone", False),
        ("SAVEPOINT sa_savepoint_1", False),
        ("TRUNCATE account", False),
    ],
)
def test_only_plain_selects_run_outside_a_transaction(statement: str, reads: bool) -> None:
    assert engines._only_reads(statement) is reads


def _transaction_status() -> str:
    raw = db.session.connection().connection.driver_connection
    return raw.info.transaction_status.name


@pytest.mark.skipif(not scaled.SCALED, reason="PostgreSQL's transactions")
def test_reads_run_outside_a_transaction_and_the_first_write_opens_one(app: Flask, account: Any) -> None:
    """A read-only request sends neither BEGIN nor ROLLBACK; a write still commits or rolls back
    as one transaction, with the reads after its first statement inside it."""
    with app.app_context():
        assert db.session.execute(text("SELECT count(*) FROM account")).scalar_one() == 1
        assert _transaction_status() == "IDLE"  # the SELECT opened nothing
        db.session.execute(text("UPDATE account SET display_name = 'one' WHERE id = :id"), {"id": account.id})
        assert _transaction_status() == "INTRANS"
        db.session.execute(text("UPDATE account SET note_source = 'two' WHERE id = :id"), {"id": account.id})
        note = db.session.execute(text("SELECT display_name FROM account WHERE id = :id"), {"id": account.id})
        assert note.scalar_one() == "one"  # in the transaction: it sees its own write
        db.session.rollback()
        assert _transaction_status() == "IDLE"
        row = db.session.execute(
            text("SELECT display_name, note_source FROM account WHERE id = :id"), {"id": account.id}
        )
        assert tuple(row.one()) != ("one", "two")  # both writes undone together
        db.session.execute(
            text("UPDATE account SET display_name = 'kept' WHERE id = :id"), {"id": account.id}
        )
        db.session.commit()
        assert _transaction_status() == "IDLE"
        models.begin_write()  # the advisory lock belongs to a transaction: it opens one
        assert _transaction_status() == "INTRANS"
        db.session.rollback()
        db.session.remove()
    with app.app_context():
        note = db.session.execute(text("SELECT display_name FROM account WHERE id = :id"), {"id": account.id})
        assert note.scalar_one() == "kept"
        db.session.remove()


@pytest.mark.skipif(not scaled.SCALED, reason="psycopg's prepared statements")
def test_a_read_only_session_leaves_the_prepared_statements_in_place(app: Flask, account: Any) -> None:
    """psycopg prepares a statement at its sixth run on a connection and forgets them all at a
    ROLLBACK: while every read-only request ended with one, no statement was ever prepared and
    every built answer was planned again. A session that only read now ends with nothing sent."""
    query = select(models.Account.id).where(models.Account.id == account.id)
    with app.app_context():
        for _ in range(7):  # seven requests reading, each ending as a request does
            assert db.session.execute(query).scalar_one() == account.id
            db.session.remove()  # back to the pool, through its reset
        prepared = db.session.execute(text("SELECT statement FROM pg_prepared_statements")).scalars()
        assert any("FROM account" in statement for statement in prepared)
        db.session.remove()


@pytest.mark.skipif(scaled.SCALED, reason="SQLite's page cache")
def test_only_a_connection_marked_for_it_shrinks_when_returned(app: Flask) -> None:
    """A bulk job's connection gives its SQLite caches back at checkin; a request's keeps them."""
    with app.app_context():
        statements: list[str] = []
        connection = db.session.connection()
        raw = connection.connection.driver_connection
        raw.set_trace_callback(statements.append)
        try:
            db.session.execute(select(1))
            db.session.remove()  # checked in unmarked
            assert "PRAGMA shrink_memory" not in statements
            connection = db.session.connection()
            assert connection.connection.driver_connection is raw  # the pool's one connection
            engines.shrink_when_returned(connection)
            db.session.execute(select(1))
            db.session.remove()
            assert statements.count("PRAGMA shrink_memory") == 1
            db.session.execute(select(1))  # the mark is gone with that checkin
            db.session.remove()
            assert statements.count("PRAGMA shrink_memory") == 1
        finally:
            raw.set_trace_callback(None)
