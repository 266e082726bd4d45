from __future__ import annotations

import pytest
from sqlalchemy import select

from models import Participation
from models import db
from services.statuses import NewStatus
from services.statuses import post_status


@pytest.fixture
def people(make_account):
    return make_account("alice"), make_account("bob"), make_account("carol")


def _participation(account, status):
    return db.session.scalar(
        select(Participation).where(
            Participation.account_id == account.id, Participation.context_id == status.context_id
        )
    )


@pytest.fixture
def dm(people):
    alice, bob, _ = people
    first = post_status(alice, NewStatus(text="hi @bob", visibility="direct"))
    return first, _participation(alice, first), _participation(bob, first)


@pytest.mark.parametrize("prefix", ["/api/v1/pleroma", "/api/pleroma"])
def test_get_conversation(client, people, dm, auth_headers, prefix):
    alice, bob, _ = people
    _, _, bobs = dm
    response = client.get(f"{prefix}/conversations/{bobs.id}", headers=auth_headers(bob))
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == bobs.id and body["unread"] is True
    assert [a["username"] for a in body["accounts"]] == ["alice"]
    assert sorted(a["username"] for a in body["pleroma"]["recipients"]) == ["alice", "bob"]


def test_get_someone_elses_conversation_is_404(client, people, dm, auth_headers):
    response = client.get(f"/api/v1/pleroma/conversations/{dm[1].id}", headers=auth_headers(people[2]))
    assert response.status_code == 404
    assert response.get_json() == {"error": "Unknown conversation id"}


def test_conversation_statuses_oldest_first_with_paging(client, people, dm, auth_headers):
    alice, bob, _ = people
    first, alices, _ = dm
    second = post_status(bob, NewStatus(text="yo", visibility="direct", in_reply_to_id=first.id))
    third = post_status(alice, NewStatus(text="again", visibility="direct", conversation=alices))
    url = f"/api/v1/pleroma/conversations/{alices.id}/statuses"
    response = client.get(url, headers=auth_headers(alice))
    assert response.status_code == 200
    assert [s["id"] for s in response.get_json()] == [first.id, second.id, third.id]
    page = client.get(url + "?limit=2", headers=auth_headers(alice))
    assert [s["id"] for s in page.get_json()] == [second.id, third.id]
    assert f"max_id={second.id}" in page.headers["Link"]


def test_post_into_conversation_uses_its_recipients_and_thread(people, dm):
    alice, bob, carol = people
    first, alices, bobs = dm
    reply = post_status(alice, NewStatus(text="and @carol", conversation=alices))
    assert reply.visibility == "direct" and reply.context_id == first.context_id
    assert _participation(carol, reply) is None  # mentions don't address inside a conversation
    db.session.refresh(bobs)
    assert bobs.is_unread is True


def test_patch_conversation_replaces_recipients_keeping_owner(client, people, dm, auth_headers):
    alice, bob, carol = people
    alices = dm[1]
    response = client.patch(
        f"/api/v1/pleroma/conversations/{alices.id}",
        data={"recipients[]": [carol.id, "unknown-id"]},
        headers=auth_headers(alice),
    )
    assert response.status_code == 200
    assert sorted(a["username"] for a in response.get_json()["pleroma"]["recipients"]) == ["alice", "carol"]
    missing = client.patch(f"/api/v1/pleroma/conversations/{alices.id}", headers=auth_headers(alice))
    assert missing.status_code == 400
    assert missing.get_json() == {"error": "Missing field: recipients."}
    foreign = client.patch(
        f"/api/v1/pleroma/conversations/{alices.id}", json={"recipients": [bob.id]}, headers=auth_headers(bob)
    )
    assert foreign.status_code == 404


def test_read_all_conversations_returns_the_unread_ones(client, people, dm, auth_headers):
    bob = people[1]
    response = client.post("/api/v1/pleroma/conversations/read", headers=auth_headers(bob))
    assert response.status_code == 200
    assert [(c["id"], c["unread"]) for c in response.get_json()] == [(dm[2].id, False)]
    again = client.post("/api/v1/pleroma/conversations/read", headers=auth_headers(bob))
    assert again.get_json() == []


def test_conversations_need_auth_and_scope(client, people, dm, auth_headers):
    bob = people[1]
    assert client.get(f"/api/v1/pleroma/conversations/{dm[2].id}").status_code == 403
    response = client.post("/api/v1/pleroma/conversations/read", headers=auth_headers(bob, "read"))
    assert response.get_json() == {"error": "Insufficient permissions: write:conversations."}
