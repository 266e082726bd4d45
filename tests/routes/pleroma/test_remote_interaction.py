"""POST /api/v1/pleroma/remote_interaction (SPEC 10, 21.12). Another server's template is
covered by tests/test_two_servers.py."""

from __future__ import annotations

import pytest

from models import db
from tests.conftest import BASE_URL

PREFIXES = ("/api/v1/pleroma", "/api/pleroma")
AP_ID = "https://remote.example/objects/1?x=a b"


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("profile", ["alice", "@alice", "alice@127.0.0.1", "alice@127.0.0.1:5000"])
def test_local_profile_gets_our_subscribe_page(client, account, prefix, profile):
    response = client.post(f"{prefix}/remote_interaction", json={"ap_id": AP_ID, "profile": profile})
    assert response.status_code == 200
    # The ap_id goes into the template as given, not re-encoded.
    assert response.get_json() == {"url": f"{BASE_URL}/ostatus_subscribe?acct={AP_ID}"}


def test_remote_interaction_takes_a_form_and_needs_no_auth(client, account):
    response = client.post(
        "/api/pleroma/remote_interaction", data={"ap_id": f"{BASE_URL}/users/alice", "profile": "alice"}
    )
    assert response.status_code == 200
    assert response.get_json() == {"url": f"{BASE_URL}/ostatus_subscribe?acct={BASE_URL}/users/alice"}


@pytest.mark.parametrize(
    "profile", ["nobody", "nobody@127.0.0.1", "carol@127.0.0.1:1", "carol@unreachable.invalid"]
)
def test_unknown_profile_is_200_with_error(client, account, profile):
    response = client.post("/api/v1/pleroma/remote_interaction", json={"ap_id": AP_ID, "profile": profile})
    assert response.status_code == 200
    assert response.get_json() == {"error": "Couldn't find user"}


def test_disabled_local_profile_is_not_found(client, account):
    account.is_active = False
    db.session.commit()
    response = client.post("/api/v1/pleroma/remote_interaction", json={"ap_id": AP_ID, "profile": "alice"})
    assert response.get_json() == {"error": "Couldn't find user"}


@pytest.mark.parametrize(
    ("body", "field"), [({"profile": "alice"}, "ap_id"), ({"ap_id": AP_ID}, "profile"), ({}, "ap_id")]
)
def test_remote_interaction_requires_both_fields(client, body, field):
    response = client.post("/api/v1/pleroma/remote_interaction", json=body)
    assert response.status_code == 400
    assert response.get_json() == {"error": f"Missing field: {field}."}
