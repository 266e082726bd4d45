"""routes/discovery.py: WebFinger and host-meta (the actor and /notice/<id>: tests/federation)."""

from __future__ import annotations

import pytest

from models import db
from tests.conftest import BASE_URL


@pytest.mark.parametrize(
    "resource",
    [
        "acct:alice@127.0.0.1:5000",
        "acct:alice@127.0.0.1",
        "alice@127.0.0.1",
        "acct:ALICE@127.0.0.1:5000",
        f"{BASE_URL}/users/alice",
    ],
)
def test_webfinger_local_account(client, account, resource):
    response = client.get("/.well-known/webfinger", query_string={"resource": resource})

    assert response.status_code == 200
    assert response.mimetype == "application/jrd+json"
    body = response.get_json()
    assert body["subject"] == "acct:alice@127.0.0.1:5000"
    assert body["aliases"] == [account.ap_id]
    links = {link["rel"]: link for link in body["links"]}
    assert links["self"] == {"rel": "self", "type": "application/activity+json", "href": account.ap_id}
    assert links["http://webfinger.net/rel/profile-page"]["href"] == account.ap_id
    assert (
        links["http://ostatus.org/schema/1.0/subscribe"]["template"]
        == f"{BASE_URL}/ostatus_subscribe?acct={{uri}}"
    )


@pytest.mark.parametrize(
    "resource",
    [
        "acct:nobody@127.0.0.1:5000",
        "acct:alice@elsewhere.example",
        "acct:alice",
        "https://x.example/users/alice",
    ],
)
def test_webfinger_unknown_is_json_404(client, account, resource):
    response = client.get("/.well-known/webfinger", query_string={"resource": resource})
    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert response.get_json() == {"error": "Couldn't find user"}


def test_webfinger_deleted_account_is_404(client, account):
    account.is_deleted = True
    account.is_active = False
    db.session.commit()
    response = client.get("/.well-known/webfinger", query_string={"resource": "acct:alice@127.0.0.1"})
    assert response.status_code == 404


def test_webfinger_without_resource(client):
    response = client.get("/.well-known/webfinger")
    assert response.status_code == 400
    assert response.get_json() == {"error": "Missing field: resource."}


def test_host_meta_points_at_webfinger(client):
    response = client.get("/.well-known/host-meta")
    assert response.status_code == 200
    assert response.mimetype == "application/xrd+xml"
    assert f'template="{BASE_URL}/.well-known/webfinger?resource={{uri}}"' in response.get_data(as_text=True)


def test_webfinger_names_the_instance_actor(client):
    # GoToSocial checks an actor's preferredUsername@host over WebFinger before trusting its key.
    for resource in ("acct:internal.fetch@127.0.0.1:5000", "http://127.0.0.1:5000/internal/fetch"):
        response = client.get("/.well-known/webfinger", query_string={"resource": resource})
        assert response.status_code == 200
        jrd = response.get_json(force=True)
        assert jrd["subject"] == "acct:internal.fetch@127.0.0.1:5000"
        assert {
            "rel": "self",
            "type": "application/activity+json",
            "href": "http://127.0.0.1:5000/internal/fetch",
        } in jrd["links"]
