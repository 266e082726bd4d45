from __future__ import annotations

import pytest

BASE = "/api/v1/pleroma/settings"


def test_get_settings_is_empty_at_first(client, account, auth_headers):
    response = client.get(f"{BASE}/pleroma-fe", headers=auth_headers(account, "read:accounts"))
    assert response.status_code == 200
    assert response.get_json() == {}


@pytest.mark.parametrize("prefix", ["/api/v1/pleroma", "/api/pleroma"])
def test_patch_settings_deep_merges_and_drops_nulls(client, account, auth_headers, prefix):
    headers = auth_headers(account)
    url = f"{prefix}/settings/pleroma-fe"
    first = client.patch(url, json={"a": 1, "n": {"x": 1, "y": 2}, "keep": [1, 2]}, headers=headers)
    assert first.status_code == 200
    assert first.get_json() == {"a": 1, "n": {"x": 1, "y": 2}, "keep": [1, 2]}
    response = client.patch(
        url, json={"a": None, "n": {"y": 3, "z": {"deep": None, "ok": True}}}, headers=headers
    )
    assert response.status_code == 200
    assert response.get_json() == {"n": {"x": 1, "y": 3, "z": {"ok": True}}, "keep": [1, 2]}
    assert client.get(url, headers=headers).get_json() == response.get_json()


def test_settings_are_kept_per_front_end_and_shown_in_verify_credentials(client, account, auth_headers):
    headers = auth_headers(account)
    client.patch(f"{BASE}/pleroma-fe", json={"theme": "dark"}, headers=headers)
    client.patch(f"{BASE}/other", json={"theme": "light"}, headers=headers)
    assert client.get(f"{BASE}/pleroma-fe", headers=headers).get_json() == {"theme": "dark"}
    me = client.get("/api/v1/accounts/verify_credentials", headers=headers).get_json()
    assert me["pleroma"]["settings_store"] == {"pleroma-fe": {"theme": "dark"}, "other": {"theme": "light"}}


@pytest.mark.parametrize("body", ["[1, 2]", '"text"', "3", "{not json"])
def test_patch_settings_refuses_a_body_that_is_not_an_object(client, account, auth_headers, body):
    headers = auth_headers(account) | {"Content-Type": "application/json"}
    response = client.patch(f"{BASE}/pleroma-fe", data=body, headers=headers)
    assert response.status_code == 400
    assert response.get_json() == {"error": "Body must be a JSON object"}


def test_settings_need_auth_and_scope(client, account, auth_headers):
    assert client.get(f"{BASE}/fe").get_json() == {"error": "Invalid credentials."}
    assert client.patch(f"{BASE}/fe", json={"a": 1}).status_code == 403
    response = client.get(f"{BASE}/fe", headers=auth_headers(account, "write"))
    assert response.status_code == 403
    assert response.get_json() == {"error": "Insufficient permissions: read:accounts."}
    response = client.patch(f"{BASE}/fe", json={"a": 1}, headers=auth_headers(account, "read"))
    assert response.status_code == 403
    assert response.get_json() == {"error": "Insufficient permissions: write:accounts."}


def test_patch_settings_with_huge_or_infinite_numbers(client, account, auth_headers):
    """Found by the fuzzing: an integer past 64 bits broke the (orjson) answer, and `1e400`
    (infinity) was stored and then broke every later read of the account (500s)."""
    headers = {**auth_headers(account), "Content-Type": "application/json"}
    big = client.patch("/api/v1/pleroma/settings/fe", data='{"n": 100000000000000000000000}', headers=headers)
    assert big.status_code == 200
    assert big.get_json() == {"n": 100000000000000000000000}
    infinite = client.patch("/api/v1/pleroma/settings/fe", data='{"x": 1e400, "y": NaN}', headers=headers)
    assert infinite.status_code == 400
    assert client.get("/api/v1/accounts/verify_credentials", headers=headers).status_code == 200
