from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from models import db


@pytest.mark.parametrize("prefix", ["/api/v1/pleroma", "/api/pleroma"])
def test_healthcheck_is_200_when_the_database_answers(client, prefix):
    response = client.get(f"{prefix}/healthcheck")
    assert response.status_code == 200
    body = response.get_json()
    assert body["healthy"] is True
    assert set(body) == {"pool_size", "active", "idle", "memory_used", "healthy", "job_queue_stats"}
    assert isinstance(body["memory_used"], float) and body["memory_used"] > 0
    assert isinstance(body["job_queue_stats"], dict)


def test_healthcheck_is_503_when_disabled(app, client):
    app.config["HEALTHCHECK"] = False
    response = client.get("/api/v1/pleroma/healthcheck")
    assert response.status_code == 503
    assert response.get_json() == {}


def test_healthcheck_is_503_when_the_database_fails(client, monkeypatch):
    def broken(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("disk I/O error"))

    monkeypatch.setattr(db.session, "execute", broken)
    response = client.get("/api/v1/pleroma/healthcheck")
    assert response.status_code == 503
    assert response.get_json()["healthy"] is False
