from __future__ import annotations

import pytest

from models import Endorsement
from models import db


@pytest.mark.parametrize("prefix", ["/api/v1/pleroma", "/api/pleroma"])
def test_list_endorsements_shows_the_endorsed_accounts(client, account, make_account, prefix):
    bob, carol = make_account("bob"), make_account("carol")
    db.session.add_all([Endorsement(account_id=account.id, target_id=t.id) for t in (bob, carol)])
    db.session.commit()
    response = client.get(f"{prefix}/accounts/{account.id}/endorsements")
    assert response.status_code == 200
    assert [a["acct"] for a in response.get_json()] == ["bob", "carol"]


def test_list_endorsements_is_empty_list_and_accepts_a_nickname(client, account, auth_headers):
    response = client.get("/api/v1/pleroma/accounts/alice/endorsements", headers=auth_headers(account))
    assert response.status_code == 200
    assert response.get_json() == []


def test_list_endorsements_of_unknown_account_is_404(client, account):
    response = client.get("/api/v1/pleroma/accounts/nosuchaccount/endorsements")
    assert response.status_code == 404
    assert response.get_json() == {"error": "Record not found"}


def test_list_endorsements_with_a_token_lacking_the_scope_reads_anonymously(client, account, auth_headers):
    response = client.get(
        f"/api/v1/pleroma/accounts/{account.id}/endorsements", headers=auth_headers(account, "write")
    )
    assert response.status_code == 200
