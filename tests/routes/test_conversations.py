"""Mastodon conversations (SPEC 8)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from models import Account
from models import Participation
from models import Status
from models import db
from services.statuses import NewStatus
from services.statuses import post_status
from tests.conftest import basic_headers

URL = "/api/v1/conversations"


def dm(author: Account, *recipients: Account, **kwargs: object) -> Status:
    names = " ".join(f"@{r.nickname}" for r in recipients)
    return post_status(author, NewStatus(text=f"{names} psst", visibility="direct", **kwargs))


def participation(account: Account, status: Status) -> Participation:
    return db.session.scalars(
        select(Participation).where(
            Participation.account_id == account.id, Participation.context_id == status.context_id
        )
    ).one()


def ids(response: object) -> list[str]:
    return [c["id"] for c in response.get_json()]  # type: ignore[attr-defined]


@pytest.fixture
def abc(make_account: Callable[..., Account]) -> tuple[Account, Account, Account]:
    return make_account("alice"), make_account("bob"), make_account("carol")


@pytest.fixture
def threads(abc: tuple[Account, Account, Account]) -> dict[str, Status]:
    """SPEC 8's example: DMs A→B, A→C, A→B+C, B→C, B→A, each a thread of its own."""
    a, b, c = abc
    return {
        "ab": dm(a, b),
        "ac": dm(a, c),
        "abc": dm(a, b, c),
        "bc": dm(b, c),
        "ba": dm(b, a),
    }


def test_list_conversations_most_recently_active_first(
    client: FlaskClient, auth_headers: Callable[..., dict], abc: tuple, threads: dict[str, Status]
) -> None:
    a, b, c = abc
    ours = {k: participation(a, s).id for k, s in threads.items() if k != "bc"}

    response = client.get(URL, headers=auth_headers(a))

    assert response.status_code == 200
    assert ids(response) == [ours["ba"], ours["abc"], ours["ac"], ours["ab"]]
    newest = response.get_json()[0]
    assert newest["unread"] is True  # bob wrote it
    assert [acc["acct"] for acc in newest["accounts"]] == ["bob"]
    assert sorted(acc["acct"] for acc in newest["pleroma"]["recipients"]) == ["alice", "bob"]
    assert newest["last_status"]["id"] == threads["ba"].id
    assert newest["last_status"]["pleroma"]["direct_conversation_id"] == ours["ba"]
    group = response.get_json()[1]
    assert group["unread"] is False  # alice wrote it
    assert sorted(acc["acct"] for acc in group["accounts"]) == ["bob", "carol"]

    # A reply moves its thread back to the top and makes it unread for the others.
    reply = post_status(b, NewStatus(text="@alice answer", in_reply_to_id=threads["ab"].id))
    response = client.get(URL, headers=auth_headers(a))
    assert ids(response)[0] == ours["ab"]
    assert response.get_json()[0]["unread"] is True
    assert response.get_json()[0]["last_status"]["id"] == reply.id


def test_list_conversations_recipients_is_an_exact_set(
    client: FlaskClient, auth_headers: Callable[..., dict], abc: tuple, threads: dict[str, Status]
) -> None:
    a, b, c = abc
    headers = auth_headers(a)

    def listed(*who: Account) -> list[str]:
        query = "&".join(f"recipients[]={x.id}" for x in who)
        return ids(client.get(f"{URL}?{query}", headers=headers))

    assert listed(b) == [participation(a, threads["ba"]).id, participation(a, threads["ab"]).id]
    assert listed(b, c) == [participation(a, threads["abc"]).id]
    assert listed(c) == [participation(a, threads["ac"]).id]
    assert listed(a, b) == listed(b)  # the caller is always part of the set
    # bob's view of the same filter: his DMs with alice only, not the one with carol.
    bob_view = ids(client.get(f"{URL}?recipients[]={a.id}", headers=auth_headers(b)))
    assert bob_view == [participation(b, threads["ba"]).id, participation(b, threads["ab"]).id]


def test_list_conversations_paging_uses_activity_ids(
    client: FlaskClient, auth_headers: Callable[..., dict], abc: tuple, threads: dict[str, Status]
) -> None:
    a = abc[0]
    headers = auth_headers(a)
    everything = ids(client.get(URL, headers=headers))

    first = client.get(f"{URL}?limit=2", headers=headers)
    assert ids(first) == everything[:2]
    link = first.headers["Link"]
    last_activity = db.session.get(Participation, everything[1]).activity_id
    first_activity = db.session.get(Participation, everything[0]).activity_id
    assert f"max_id={last_activity}" in link and f"min_id={first_activity}" in link
    assert f"{URL}?limit=2&max_id=" in link

    assert ids(client.get(f"{URL}?limit=2&max_id={last_activity}", headers=headers)) == everything[2:]
    assert ids(client.get(f"{URL}?limit=1&min_id={last_activity}", headers=headers)) == everything[:1]
    # Trailing slash, as Mastodon.py requests it.
    assert client.get(f"{URL}/", headers=headers).status_code == 200


def test_list_conversations_needs_auth_and_scope(
    client: FlaskClient, auth_headers: Callable[..., dict], abc: tuple
) -> None:
    assert client.get(URL).get_json() == {"error": "Invalid credentials."}
    response = client.get(URL, headers=auth_headers(abc[0], "read:notifications write"))
    assert response.status_code == 403
    assert response.get_json() == {"error": "Insufficient permissions: read:statuses."}
    assert client.get(URL, headers=basic_headers("alice")).get_json() == []


def test_read_conversation(
    client: FlaskClient, auth_headers: Callable[..., dict], abc: tuple, threads: dict[str, Status]
) -> None:
    a, b, c = abc
    mine = participation(a, threads["ba"])
    headers = auth_headers(a)

    response = client.post(f"{URL}/{mine.id}/read", headers=headers)

    assert response.status_code == 200
    assert response.get_json()["id"] == mine.id and response.get_json()["unread"] is False
    assert client.get(URL, headers=headers).get_json()[0]["unread"] is False
    for other in (participation(b, threads["ba"]).id, participation(c, threads["bc"]).id, "missing"):
        response = client.post(f"{URL}/{other}/read", headers=headers)
        assert response.status_code == 404
        assert response.get_json() == {"error": "Record not found"}
    response = client.post(f"{URL}/{mine.id}/read", headers=auth_headers(a, "read write:statuses"))
    assert response.get_json() == {"error": "Insufficient permissions: write:conversations."}


def test_delete_conversation(
    client: FlaskClient, auth_headers: Callable[..., dict], abc: tuple, threads: dict[str, Status]
) -> None:
    a, b, _ = abc
    mine = participation(a, threads["ab"])
    bobs = participation(b, threads["ab"])
    headers = auth_headers(a)

    response = client.delete(f"{URL}/{mine.id}", headers=headers)

    assert response.status_code == 200 and response.get_json() == {}
    assert mine.id not in ids(client.get(URL, headers=headers))
    assert db.session.get(Status, threads["ab"].id) is not None  # the statuses remain
    assert db.session.get(Participation, bobs.id) is not None  # and so does bob's view
    response = client.delete(f"{URL}/{bobs.id}", headers=headers)
    assert response.status_code == 404 and response.get_json() == {"error": "Record not found"}
    assert client.delete(f"{URL}/{bobs.id}").get_json() == {"error": "Invalid credentials."}
