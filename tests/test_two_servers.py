"""Two Kenoma servers on loopback (ALLOW_PRIVATE_FETCH on): `nick@otherhost` resolves over
WebFinger for a follow import, an alias, a move and remote_interaction (issue 3, SPEC 1.11)."""

from __future__ import annotations

import pytest
import requests

from models import db
from services.accounts import create_local_account

TIMEOUT = 10


def _seed(server, *nicknames):
    with server.app.app_context():
        for nickname in nicknames:
            create_local_account(nickname, "secret-pw", email=f"{nickname}@example.org")
        db.session.remove()


def _bearer(server, nickname):
    app = requests.post(
        f"{server.url}/api/v1/apps",
        data={
            "client_name": "two servers",
            "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
            "scopes": "read write follow",
        },
        timeout=TIMEOUT,
    ).json()
    token = requests.post(
        f"{server.url}/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "username": nickname,
            "password": "secret-pw",
            "scope": "read write follow",
        },
        timeout=TIMEOUT,
    ).json()
    return {"Authorization": f"Bearer {token['access_token']}"}


@pytest.fixture
def servers(live_server):
    here, there = live_server(), live_server()
    _seed(here, "alice", "dave")
    _seed(there, "carol", "erin")
    return here, there


def _lookup(server, acct, headers):
    response = requests.get(
        f"{server.url}/api/v1/accounts/lookup", params={"acct": acct}, headers=headers, timeout=TIMEOUT
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_follow_import_resolves_the_other_server(servers):
    here, there = servers
    alice = _bearer(here, "alice")
    names = f"carol@{there.host}\n@erin@{there.host}\nnobody@{there.host}\n"
    response = requests.post(
        f"{here.url}/api/pleroma/follow_import", data={"list": names}, headers=alice, timeout=TIMEOUT
    )
    assert response.status_code == 200 and response.json() == "job started"
    carol = _lookup(here, f"carol@{there.host}", alice)
    assert carol["acct"] == f"carol@{there.host}" and carol["url"] == f"{there.url}/users/carol"
    erin = _lookup(here, f"erin@{there.host}", alice)
    relationships = requests.get(
        f"{here.url}/api/v1/accounts/relationships",
        params=[("id[]", carol["id"]), ("id[]", erin["id"])],
        headers=alice,
        timeout=TIMEOUT,
    ).json()
    assert [r["following"] for r in relationships] == [True, True]
    me = requests.get(f"{here.url}/api/v1/accounts/verify_credentials", headers=alice, timeout=TIMEOUT).json()
    assert me["following_count"] == 2  # nobody@there does not exist: skipped


def test_alias_names_an_account_of_the_other_server(servers):
    here, there = servers
    alice = _bearer(here, "alice")
    added = requests.put(
        f"{here.url}/api/pleroma/aliases",
        json={"alias": f"carol@{there.host}"},
        headers=alice,
        timeout=TIMEOUT,
    )
    assert added.status_code == 200 and added.json() == {"status": "success"}
    listed = requests.get(f"{here.url}/api/pleroma/aliases", headers=alice, timeout=TIMEOUT).json()
    assert listed == {"aliases": ["carol@127.0.0.1"]}  # the ap_id's host without its port (SPEC 11)
    me = requests.get(f"{here.url}/api/v1/accounts/verify_credentials", headers=alice, timeout=TIMEOUT).json()
    assert me["pleroma"]["also_known_as"] == [f"{there.url}/users/carol"]
    unknown = requests.put(
        f"{here.url}/api/pleroma/aliases",
        json={"alias": f"ghost@{there.host}"},
        headers=alice,
        timeout=TIMEOUT,
    )
    assert unknown.status_code == 404 and unknown.json() == {"error": "Target account does not exist."}


def test_remote_interaction_uses_the_other_servers_template(servers):
    here, there = servers
    ap_id = f"{here.url}/users/alice"
    response = requests.post(
        f"{here.url}/api/v1/pleroma/remote_interaction",
        json={"ap_id": ap_id, "profile": f"carol@{there.host}"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 200
    assert response.json() == {"url": f"{there.url}/ostatus_subscribe?acct={ap_id}"}
    missing = requests.post(
        f"{here.url}/api/v1/pleroma/remote_interaction",
        json={"ap_id": ap_id, "profile": f"ghost@{there.host}"},
        timeout=TIMEOUT,
    )
    assert missing.status_code == 200 and missing.json() == {"error": "Couldn't find user"}


def test_move_to_the_other_server_checks_its_fresh_aliases(servers):
    here, there = servers
    alice, dave, carol = _bearer(here, "alice"), _bearer(here, "dave"), _bearer(there, "carol")
    alice_id = _lookup(here, "alice", alice)["id"]
    requests.post(f"{here.url}/api/v1/accounts/{alice_id}/follow", headers=dave, timeout=TIMEOUT)
    move = {"password": "secret-pw", "target_account": f"carol@{there.host}"}
    refused = requests.post(f"{here.url}/api/pleroma/move_account", data=move, headers=alice, timeout=TIMEOUT)
    assert refused.status_code == 200
    assert refused.json() == {"error": "Target account must have the origin in `alsoKnownAs`"}
    # carol aliases alice (her server resolves alice@here over WebFinger) ...
    aliased = requests.put(
        f"{there.url}/api/pleroma/aliases",
        json={"alias": f"alice@{here.host}"},
        headers=carol,
        timeout=TIMEOUT,
    )
    assert aliased.json() == {"status": "success"}
    # ... and the move now succeeds although `here` first stored carol without that alias.
    moved = requests.post(f"{here.url}/api/pleroma/move_account", data=move, headers=alice, timeout=TIMEOUT)
    assert moved.status_code == 200 and moved.json() == {"status": "success"}
    shown = requests.get(f"{here.url}/api/v1/accounts/{alice_id}", timeout=TIMEOUT).json()
    assert shown["moved"]["acct"] == f"carol@{there.host}"
    following = requests.get(
        f"{here.url}/api/v1/accounts/{_lookup(here, 'dave', dave)['id']}/following",
        headers=dave,
        timeout=TIMEOUT,
    ).json()
    assert [a["acct"] for a in following] == [f"carol@{there.host}"]
    notes = requests.get(
        f"{here.url}/api/v1/notifications", params={"types[]": "move"}, headers=dave, timeout=TIMEOUT
    ).json()
    assert [(n["type"], n["target"]["acct"]) for n in notes] == [("move", f"carol@{there.host}")]
