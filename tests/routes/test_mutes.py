from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from models import Mute
from models import db
from models import utcnow


def test_mutes_newest_first_with_link(client, account, make_account, auth_headers):
    bob, carol = make_account("bob"), make_account("carol")
    headers = auth_headers(account)
    client.post(f"/api/v1/accounts/{bob.id}/mute", headers=headers)
    client.post(f"/api/v1/accounts/{carol.id}/mute", json={"notifications": False}, headers=headers)
    response = client.get("/api/v1/mutes/?limit=1", headers=headers)
    assert response.status_code == 200
    assert [a["acct"] for a in response.get_json()] == ["carol"]
    rows = {r.target_id: r.id for r in db.session.scalars(select(Mute))}
    assert f"max_id={rows[carol.id]}" in response.headers["Link"]
    rest = client.get(f"/api/v1/mutes?max_id={rows[carol.id]}", headers=headers).get_json()
    assert [a["acct"] for a in rest] == ["bob"]
    body = client.get("/api/v1/mutes?with_relationships=1", headers=headers).get_json()
    flags = {a["acct"]: a["pleroma"]["relationship"]["muting_notifications"] for a in body}
    assert flags == {"bob": True, "carol": False}


def test_mutes_leave_out_expired_mutes(client, account, make_account, auth_headers):
    bob = make_account("bob")
    headers = auth_headers(account)
    client.post(f"/api/v1/accounts/{bob.id}/mute", data={"expires_in": "60"}, headers=headers)
    assert [a["acct"] for a in client.get("/api/v1/mutes", headers=headers).get_json()] == ["bob"]
    row = db.session.scalar(select(Mute))
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = client.get("/api/v1/mutes", headers=headers)
    assert response.get_json() == [] and "Link" not in response.headers
    relationship = client.get(f"/api/v1/accounts/relationships?id={bob.id}", headers=headers).get_json()[0]
    assert relationship["muting"] is False


def test_mutes_auth(client, account, auth_headers):
    response = client.get("/api/v1/mutes")
    assert response.status_code == 403
    assert response.get_json() == {"error": "Invalid credentials."}
    response = client.get("/api/v1/mutes", headers=auth_headers(account, "read:blocks"))
    assert response.status_code == 403
    assert response.get_json() == {"error": "Insufficient permissions: follow | read:mutes."}
    assert client.get("/api/v1/mutes", headers=auth_headers(account, "read:mutes")).status_code == 200


def test_mutes_bad_input(client, account, auth_headers):
    response = client.get("/api/v1/mutes?with_relationships=sure", headers=auth_headers(account))
    assert response.status_code == 400
