"""GET /api/v1/pleroma/accounts/:id/favourites (SPEC 13, 21.6)."""

from __future__ import annotations

import pytest

from models import db


@pytest.fixture
def bob(make_account):
    return make_account("bob")


@pytest.fixture
def carol(make_account):
    return make_account("carol")


def _post(client, headers, text, visibility="public"):
    response = client.post(
        "/api/v1/statuses", json={"status": text, "visibility": visibility}, headers=headers
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()["id"]


def _show_favourites(account):
    account.hide_favorites = False
    db.session.commit()


@pytest.fixture
def liked(client, account, bob, carol, auth_headers):
    """bob posts public, unlisted, private and a DM to alice; alice favourites all four."""
    bob_h = auth_headers(bob)
    client.post(f"/api/v1/accounts/{bob.id}/follow", headers=auth_headers(account))
    ids = {
        "public": _post(client, bob_h, "public one"),
        "unlisted": _post(client, bob_h, "unlisted one", "unlisted"),
        "private": _post(client, bob_h, "private one", "private"),
        "direct": _post(client, bob_h, "@alice just us", "direct"),
    }
    alice_h = auth_headers(account)
    for status_id in ids.values():
        assert client.post(f"/api/v1/statuses/{status_id}/favourite", headers=alice_h).status_code == 200
    return ids


@pytest.mark.parametrize("prefix", ["/api/v1/pleroma", "/api/pleroma"])
def test_favourites_hidden_by_default_even_for_the_owner(client, account, auth_headers, liked, prefix):
    anonymous = client.get(f"{prefix}/accounts/{account.id}/favourites")
    assert anonymous.status_code == 403
    assert anonymous.get_json() == {"error": "Can't get favorites"}
    own = client.get(f"{prefix}/accounts/{account.id}/favourites", headers=auth_headers(account))
    assert own.status_code == 403
    assert own.get_json() == {"error": "Can't get favorites"}


def test_turning_hide_favorites_off_opens_the_list(client, account, auth_headers, liked):
    headers = auth_headers(account)
    client.patch("/api/v1/accounts/update_credentials", data={"hide_favorites": "false"}, headers=headers)
    response = client.get(f"/api/v1/pleroma/accounts/{account.id}/favourites", headers=headers)
    assert response.status_code == 200
    assert [s["id"] for s in response.get_json()] == sorted(liked.values(), reverse=True)
    assert all(s["favourited"] is True for s in response.get_json())


@pytest.mark.parametrize("prefix", ["/api/v1/pleroma", "/api/pleroma"])
def test_visibility_is_the_readers(client, account, bob, carol, auth_headers, liked, prefix):
    _show_favourites(account)
    path = f"{prefix}/accounts/{account.id}/favourites"
    anonymous = [s["id"] for s in client.get(path).get_json()]
    assert anonymous == [liked["unlisted"], liked["public"]]
    # carol does not follow bob: no private post; the DM is bob's and alice's only.
    assert [s["id"] for s in client.get(path, headers=auth_headers(carol)).get_json()] == anonymous
    client.post(f"/api/v1/accounts/{bob.id}/follow", headers=auth_headers(carol))
    as_follower = [s["id"] for s in client.get(path, headers=auth_headers(carol)).get_json()]
    assert as_follower == [liked["private"], liked["unlisted"], liked["public"]]
    as_author = [s["id"] for s in client.get(path, headers=auth_headers(bob)).get_json()]
    assert as_author == sorted(liked.values(), reverse=True)


def test_a_token_without_the_scope_reads_as_anonymous(client, account, bob, auth_headers, liked):
    _show_favourites(account)
    response = client.get(
        f"/api/v1/pleroma/accounts/{account.id}/favourites", headers=auth_headers(bob, "write")
    )
    assert response.status_code == 200
    assert [s["id"] for s in response.get_json()] == [liked["unlisted"], liked["public"]]


def test_favourites_page_newest_status_first_with_link(client, account, bob, auth_headers):
    _show_favourites(account)
    bob_h, alice_h = auth_headers(bob), auth_headers(account)
    ids = [_post(client, bob_h, f"post {i}") for i in range(5)]
    for status_id in reversed(ids):  # favourite order must not matter: paging is by status id
        client.post(f"/api/v1/statuses/{status_id}/favourite", headers=alice_h)
    first = client.get("/api/v1/pleroma/accounts/alice/favourites?limit=2")
    assert first.status_code == 200
    assert [s["id"] for s in first.get_json()] == [ids[4], ids[3]]
    link = first.headers["Link"]
    assert f"max_id={ids[3]}" in link and f"min_id={ids[4]}" in link and "limit=2" in link
    second = client.get(f"/api/v1/pleroma/accounts/alice/favourites?limit=2&max_id={ids[3]}")
    assert [s["id"] for s in second.get_json()] == [ids[2], ids[1]]
    newer = client.get(f"/api/v1/pleroma/accounts/alice/favourites?limit=2&min_id={ids[1]}")
    assert [s["id"] for s in newer.get_json()] == [ids[3], ids[2]]
    empty = client.get(f"/api/v1/pleroma/accounts/alice/favourites?max_id={ids[0]}")
    assert empty.get_json() == [] and "Link" not in empty.headers


def test_favourites_of_unknown_account_is_404(client):
    response = client.get("/api/v1/pleroma/accounts/nobody/favourites")
    assert response.status_code == 404
    assert response.get_json() == {"error": "Record not found"}


def test_favourites_skip_authors_the_reader_blocks(client, account, bob, carol, auth_headers, liked):
    _show_favourites(account)
    client.post(f"/api/v1/accounts/{bob.id}/block", headers=auth_headers(carol))
    response = client.get(f"/api/v1/pleroma/accounts/{account.id}/favourites", headers=auth_headers(carol))
    assert response.get_json() == []
