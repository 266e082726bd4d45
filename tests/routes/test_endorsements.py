from __future__ import annotations


def test_endorsements_lists_pinned_accounts(client, account, make_account, auth_headers):
    bob, carol = make_account("bob"), make_account("carol")
    headers = auth_headers(account)
    for target in (bob, carol):
        client.post(f"/api/v1/accounts/{target.id}/follow", headers=headers)
        assert client.post(f"/api/v1/accounts/{target.id}/pin", headers=headers).status_code == 200
    response = client.get("/api/v1/endorsements", headers=headers)
    assert response.status_code == 200
    assert [a["acct"] for a in response.get_json()] == ["carol", "bob"]
    client.post(f"/api/v1/accounts/{carol.id}/unpin", headers=headers)
    assert [a["acct"] for a in client.get("/api/v1/endorsements/", headers=headers).get_json()] == ["bob"]


def test_endorsements_empty(client, account, auth_headers):
    response = client.get("/api/v1/endorsements", headers=auth_headers(account))
    assert response.status_code == 200
    assert response.get_json() == []


def test_endorsements_auth(client, account, auth_headers):
    response = client.get("/api/v1/endorsements")
    assert response.status_code == 403
    assert response.get_json() == {"error": "Invalid credentials."}
    response = client.get("/api/v1/endorsements", headers=auth_headers(account, "read:follows"))
    assert response.status_code == 403
    assert response.get_json() == {"error": "Insufficient permissions: read:accounts."}


def test_endorsements_unknown_method(client, account, auth_headers):
    response = client.post("/api/v1/endorsements", headers=auth_headers(account))
    assert response.status_code == 405
    assert "error" in response.get_json()
