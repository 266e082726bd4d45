"""engines.py: which database and Redis an instance runs on (SPEC 28)."""

from __future__ import annotations

import time

import pytest
from flask import Flask
from sqlalchemy import text

import engines
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
