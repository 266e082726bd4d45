"""engines.py: which database and Redis an instance runs on (SPEC 28)."""

from __future__ import annotations

import pytest
from flask import Flask

import engines
from tests import scaled


def test_engine_options_spell_the_timeout_per_driver() -> None:
    lite = engines.engine_options("sqlite:////tmp/k.db", {"hide_parameters": True})
    assert lite == {"hide_parameters": True, "connect_args": {"timeout": engines.CONNECT_TIMEOUT_SECONDS}}
    pg = engines.engine_options("postgresql+psycopg://k@db/kenoma", {"connect_args": {"timeout": 30}})
    assert pg["connect_args"] == {"connect_timeout": engines.CONNECT_TIMEOUT_SECONDS}
    assert pg["pool_pre_ping"] is True and pg["execution_options"] == {"preserve_rowcount": True}


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
