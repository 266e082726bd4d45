"""Account notes (SPEC 26): POST /api/v1/accounts/:id/note and `note` in relationships."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy import select

from models import Account
from models import AccountNote
from models import db
from tests.conftest import basic_headers


def note_path(target: Account) -> str:
    return f"/api/v1/accounts/{target.id}/note"


def notes() -> list[tuple[str, str, str]]:
    rows = db.session.scalars(select(AccountNote).order_by(AccountNote.comment))
    return [(r.account_id, r.target_id, r.comment) for r in rows]


def test_note_sets_replaces_and_clears(
    client: FlaskClient, account: Account, bob: Account, alice_h: dict
) -> None:
    response = client.post(note_path(bob), json={"comment": "met at the fair"}, headers=alice_h)
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == bob.id and body["note"] == "met at the fair"
    client.post(note_path(bob), data={"comment": "owes me a book"}, headers=alice_h)
    assert notes() == [(account.id, bob.id, "owes me a book")]
    rel = client.get(f"/api/v1/accounts/relationships?id[]={bob.id}", headers=alice_h).get_json()
    assert rel[0]["note"] == "owes me a book"
    cleared = client.post(note_path(bob), json={"comment": ""}, headers=alice_h)
    assert cleared.get_json()["note"] == ""
    assert notes() == []
    client.post(note_path(bob), json={"comment": "again"}, headers=alice_h)
    assert client.post(note_path(bob), headers=alice_h).get_json()["note"] == ""  # absent clears too


def test_note_is_private_to_its_writer(
    client: FlaskClient, account: Account, bob: Account, carol: Account, alice_h: dict, carol_h: dict
) -> None:
    client.post(note_path(bob), json={"comment": "mine"}, headers=alice_h)
    rel = client.get(f"/api/v1/accounts/relationships?id[]={bob.id}", headers=carol_h).get_json()
    assert rel[0]["note"] == ""
    shown = client.get(f"/api/v1/accounts/{bob.id}?with_relationships=true", headers=alice_h).get_json()
    assert shown["pleroma"]["relationship"]["note"] == "mine"


def test_note_in_batch_relationships_without_extra_queries(
    client: FlaskClient,
    account: Account,
    make_account: Callable[..., Account],
    alice_h: dict,
    count_queries: Callable,
) -> None:
    others = [make_account(f"user{i}") for i in range(4)]
    for other in others:
        client.post(note_path(other), json={"comment": f"about {other.nickname}"}, headers=alice_h)
    query = "&".join(f"id[]={o.id}" for o in others)
    with count_queries() as one:
        client.get(f"/api/v1/accounts/relationships?id[]={others[0].id}", headers=alice_h)
    with count_queries() as four:
        body = client.get(f"/api/v1/accounts/relationships?{query}", headers=alice_h).get_json()
    assert [r["note"] for r in body] == [f"about {o.nickname}" for o in others]
    assert four.count <= one.count


def test_note_bad_input_changes_nothing(
    client: FlaskClient, account: Account, bob: Account, alice_h: dict
) -> None:
    client.post(note_path(bob), json={"comment": "kept"}, headers=alice_h)
    too_long = client.post(note_path(bob), json={"comment": "x" * 2001}, headers=alice_h)
    assert too_long.status_code == 422
    assert "error" in too_long.get_json()
    assert client.post(note_path(bob), json={"comment": ["a"]}, headers=alice_h).status_code in (400, 422)
    assert notes() == [(account.id, bob.id, "kept")]
    assert client.post(note_path(bob), json={"comment": "x" * 2000}, headers=alice_h).status_code == 200


def test_note_unknown_account(client: FlaskClient, account: Account, alice_h: dict) -> None:
    response = client.post("/api/v1/accounts/nosuchaccount00000/note", json={"comment": "x"}, headers=alice_h)
    assert response.status_code == 404
    assert response.get_json() == {"error": "Record not found"}
    assert notes() == []


def test_note_auth_and_scopes(
    client: FlaskClient, account: Account, bob: Account, auth_headers: Callable[..., dict]
) -> None:
    response = client.post(note_path(bob), json={"comment": "x"})
    assert response.status_code == 403
    assert response.get_json() == {"error": "Invalid credentials."}
    wrong = client.post(
        note_path(bob), json={"comment": "x"}, headers=auth_headers(account, "read write:follows")
    )
    assert wrong.status_code == 403
    assert notes() == []
    scoped = auth_headers(account, "write:accounts")
    assert client.post(note_path(bob), json={"comment": "a"}, headers=scoped).status_code == 200
    assert (
        client.post(note_path(bob), json={"comment": "b"}, headers=basic_headers("alice")).status_code == 200
    )
    assert notes() == [(account.id, bob.id, "b")]
