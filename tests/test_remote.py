"""Account references resolved locally and, for other hosts, over WebFinger (SPEC 1.11)."""

from __future__ import annotations

from services.remote import find_account
from services.remote import subscribe_template


def test_local_references_resolve_without_network(app, account):
    for ref in (
        "alice",
        "@alice",
        "alice@127.0.0.1",
        "alice@127.0.0.1:5000",
        "@alice@127.0.0.1:5000",
        "http://127.0.0.1:5000/users/alice",
    ):
        assert find_account(ref) is not None and find_account(ref).id == account.id, ref
    assert find_account("nobody") is None


def test_remote_account_resolved_from_another_kenoma(app, live_server, make_account):
    other = live_server()
    with other.app.app_context():
        make_account("carol")  # created inside the other server's database
    app.config["ALLOW_PRIVATE_FETCH"] = True
    carol = find_account(f"carol@{other.host}")
    assert carol is not None
    assert carol.domain == other.host and carol.acct == f"carol@{other.host}"
    assert carol.ap_id == f"{other.url}/users/carol"
    assert find_account(f"@carol@{other.host}").id == carol.id  # stored, not fetched twice
    assert subscribe_template(f"carol@{other.host}") == f"{other.url}/ostatus_subscribe?acct={{uri}}"


def test_remote_lookup_refused_without_private_fetch(app, live_server, make_account):
    other = live_server()
    with other.app.app_context():
        make_account("carol")
    assert find_account(f"carol@{other.host}") is None
    assert subscribe_template(f"carol@{other.host}") is None
