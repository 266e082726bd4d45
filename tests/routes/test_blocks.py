from __future__ import annotations

from sqlalchemy import select

from models import Block
from models import db
from tests.conftest import basic_headers


def _block_all(client, blocker_headers, targets):
    for target in targets:
        assert client.post(f"/api/v1/accounts/{target.id}/block", headers=blocker_headers).status_code == 200


def test_blocks_newest_first_with_link(client, account, make_account, auth_headers):
    bob, carol, dave = make_account("bob"), make_account("carol"), make_account("dave")
    headers = auth_headers(account)
    _block_all(client, headers, [bob, carol, dave])
    response = client.get("/api/v1/blocks?limit=2", headers=headers)
    assert response.status_code == 200
    assert [a["acct"] for a in response.get_json()] == ["dave", "carol"]
    rows = {r.target_id: r.id for r in db.session.scalars(select(Block))}
    link = response.headers["Link"]
    assert f"max_id={rows[carol.id]}" in link and f"min_id={rows[dave.id]}" in link and "limit=2" in link
    rest = client.get(f"/api/v1/blocks?max_id={rows[carol.id]}", headers=headers).get_json()
    assert [a["acct"] for a in rest] == ["bob"]
    newer = client.get(f"/api/v1/blocks?min_id={rows[bob.id]}&limit=1", headers=headers).get_json()
    assert [a["acct"] for a in newer] == ["carol"]


def test_blocks_empty_has_no_link_and_trailing_slash_works(client, account, auth_headers):
    response = client.get("/api/v1/blocks/", headers=auth_headers(account))
    assert response.status_code == 200
    assert response.get_json() == []
    assert "Link" not in response.headers


def test_blocks_with_relationships_and_unblock(client, account, make_account, auth_headers):
    bob = make_account("bob")
    headers = auth_headers(account)
    _block_all(client, headers, [bob])
    body = client.get("/api/v1/blocks?with_relationships=true", headers=headers).get_json()
    assert body[0]["pleroma"]["relationship"]["blocking"] is True
    client.post(f"/api/v1/accounts/{bob.id}/unblock", headers=headers)
    assert client.get("/api/v1/blocks", headers=headers).get_json() == []


def test_blocks_leave_out_deactivated_accounts(client, account, make_account, auth_headers):
    bob = make_account("bob")
    headers = auth_headers(account)
    _block_all(client, headers, [bob])
    bob.is_active = False
    db.session.commit()
    assert client.get("/api/v1/blocks", headers=headers).get_json() == []


def test_blocks_auth(client, account, auth_headers):
    response = client.get("/api/v1/blocks")
    assert response.status_code == 403
    assert response.get_json() == {"error": "Invalid credentials."}
    response = client.get("/api/v1/blocks", headers=auth_headers(account, "read:mutes"))
    assert response.status_code == 403
    assert response.get_json() == {"error": "Insufficient permissions: follow | read:blocks."}
    assert client.get("/api/v1/blocks", headers=auth_headers(account, "read:blocks")).status_code == 200
    assert client.get("/api/v1/blocks", headers=auth_headers(account, "follow")).status_code == 200
    assert client.get("/api/v1/blocks", headers=basic_headers("alice")).status_code == 200


def test_blocks_bad_cursor_input(client, account, auth_headers):
    response = client.get("/api/v1/blocks?with_relationships=perhaps", headers=auth_headers(account))
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("with_relationships - ")
