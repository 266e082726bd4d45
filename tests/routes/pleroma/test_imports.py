"""POST /api/pleroma/follow_import · /blocks_import · /mutes_import (SPEC 11, 21.9)."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select

import jobs
from models import Account
from models import Block
from models import Follow
from models import Mute
from models import Notification
from models import PushSubscription
from models import Subscription
from models import Token
from models import db
from models import new_flake_id
from services import imports
from services.imports import parse_list
from services.passwords import hash_password
from tests.conftest import BASE_URL
from tests.conftest import basic_headers

PREFIXES = ("/api/pleroma", "/api/v1/pleroma")


@pytest.fixture
def people(make_account):
    return {nick: make_account(nick) for nick in ("bob", "carol", "dave", "erin")}


def _refresh(*accounts):
    db.session.expire_all()
    for account in accounts:
        db.session.refresh(account)


def _followed(account, pending=False):
    db.session.expire_all()
    query = (
        select(Account.nickname)
        .join(Follow, Follow.followee_id == Account.id)
        .where(Follow.follower_id == account.id, Follow.is_pending.is_(pending))
    )
    return sorted(db.session.scalars(query))


def _notifications(type_):
    db.session.expire_all()
    return list(db.session.scalars(select(Notification).where(Notification.type == type_)))


def _insert_users(count):
    hashed = hash_password("x")
    rows = [
        {
            "id": new_flake_id(),
            "nickname": f"user{i}",
            "ap_id": f"{BASE_URL}/users/user{i}",
            "password_hash": hashed,
        }
        for i in range(count)
    ]
    db.session.execute(insert(Account), rows)
    db.session.commit()


# ---------------------------------------------------------------------------------------------
# follow_import


@pytest.mark.parametrize("prefix", PREFIXES)
def test_follow_import_follows_every_form_of_name(client, account, people, auth_headers, prefix):
    names = f"bob\n@carol\ndave@127.0.0.1 @erin@127.0.0.1:5000\n{BASE_URL}/users/bob\n"
    response = client.post(f"{prefix}/follow_import", data={"list": names}, headers=auth_headers(account))
    assert response.status_code == 200
    assert response.get_json() == "job started"
    assert _followed(account) == ["bob", "carol", "dave", "erin"]
    _refresh(account, *people.values())
    assert account.following_count == 4
    assert [p.followers_count for p in people.values()] == [1, 1, 1, 1]
    assert sorted(n.account_id for n in _notifications("follow")) == sorted(p.id for p in people.values())
    relationship = client.get(
        f"/api/v1/accounts/relationships?id={people['bob'].id}", headers=auth_headers(account)
    ).get_json()[0]
    assert relationship["following"] is True


def test_follow_import_reads_a_mastodon_csv_file(client, account, people, auth_headers):
    csv = b"Account address,Show boosts,Notify on new posts,Languages\nbob,true,false,\ncarol@127.0.0.1,true,false,\n"
    response = client.post(
        "/api/pleroma/follow_import",
        data={"list": (io.BytesIO(csv), "following_accounts.csv")},
        headers=auth_headers(account),
        content_type="multipart/form-data",
    )
    assert response.status_code == 200 and response.get_json() == "job started"
    assert _followed(account) == ["bob", "carol"]


def test_follow_import_takes_a_json_body_and_basic_auth(client, account, people):
    response = client.post(
        "/api/pleroma/follow_import", json={"list": "bob carol"}, headers=basic_headers("alice")
    )
    assert response.status_code == 200
    assert _followed(account) == ["bob", "carol"]


def test_follow_import_skips_what_cannot_be_followed(client, account, people, auth_headers, make_account):
    people["dave"].is_active = False
    db.session.commit()
    client.post(f"/api/v1/accounts/{account.id}/block", headers=auth_headers(people["erin"]))
    names = "alice nobody dave erin bob nobody@127.0.0.1:1 http://127.0.0.1:5000/users/ghost bob"
    response = client.post("/api/pleroma/follow_import", data={"list": names}, headers=auth_headers(account))
    assert response.status_code == 200 and response.get_json() == "job started"
    assert _followed(account) == ["bob"]
    _refresh(account)
    assert account.following_count == 1


def test_follow_import_asks_locked_accounts(client, account, people, auth_headers):
    people["carol"].is_locked = True
    db.session.commit()
    client.post("/api/pleroma/follow_import", data={"list": "bob carol"}, headers=auth_headers(account))
    assert _followed(account) == ["bob"]
    assert _followed(account, pending=True) == ["carol"]
    assert [n.account_id for n in _notifications("follow_request")] == [people["carol"].id]
    _refresh(account, people["carol"])
    assert account.following_count == 1 and people["carol"].followers_count == 0


def test_follow_import_twice_creates_nothing_twice(client, account, people, auth_headers):
    headers = auth_headers(account)
    client.post(f"/api/v1/accounts/{people['bob'].id}/follow", headers=headers)
    for _ in range(2):
        client.post("/api/pleroma/follow_import", data={"list": "bob\ncarol\ncarol"}, headers=headers)
    assert _followed(account) == ["bob", "carol"]
    _refresh(account, people["bob"], people["carol"])
    assert (account.following_count, people["bob"].followers_count, people["carol"].followers_count) == (
        2,
        1,
        1,
    )
    assert len(_notifications("follow")) == 2


def test_follow_import_respects_block_from_strangers(client, account, people, auth_headers):
    people["bob"].notification_settings = {"block_from_strangers": True}
    db.session.commit()
    client.post("/api/pleroma/follow_import", data={"list": "bob carol"}, headers=auth_headers(account))
    assert [n.account_id for n in _notifications("follow")] == [people["carol"].id]


def test_follow_import_needs_a_user_and_the_scope(client, account, auth_headers):
    anonymous = client.post("/api/pleroma/follow_import", data={"list": "bob"})
    assert anonymous.status_code == 403
    assert anonymous.get_json() == {"error": "Invalid credentials."}
    response = client.post(
        "/api/pleroma/follow_import", data={"list": "bob"}, headers=auth_headers(account, "read write:blocks")
    )
    assert response.status_code == 403
    assert response.get_json() == {"error": "Insufficient permissions: follow | write:follows."}
    granular = client.post(
        "/api/pleroma/follow_import", data={"list": "bob"}, headers=auth_headers(account, "write:follows")
    )
    assert granular.status_code == 200


@pytest.mark.parametrize("path", ["follow_import", "blocks_import", "mutes_import"])
def test_imports_need_the_list(client, account, auth_headers, path):
    response = client.post(f"/api/v1/pleroma/{path}", headers=auth_headers(account))
    assert response.status_code == 400
    assert response.get_json() == {"error": "Missing field: list."}
    bad = client.post(f"/api/v1/pleroma/{path}", json={"list": 5}, headers=auth_headers(account))
    assert bad.status_code == 400
    assert bad.get_json()["error"].startswith("list - ")


def test_a_long_import_costs_a_handful_of_queries(client, account, auth_headers, count_queries):
    """Batched: the query count does not grow with the list (1,200 names, chunks of 500)."""
    _insert_users(1200)
    names = "\n".join(f"user{i}" for i in range(1200))
    headers = auth_headers(account)
    with count_queries() as counter:
        response = client.post("/api/pleroma/follow_import", data={"list": names}, headers=headers)
    assert response.status_code == 200
    assert counter.count < 60
    _refresh(account)
    assert account.following_count == 1200
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 1200


def test_a_long_import_loads_no_account_object_per_name(client, account, auth_headers):
    """Plain rows, not ORM objects, for the named accounts: an Account per name made the job's
    worker grow by tens of megabytes on a 10,000-name list."""
    _insert_users(1200)
    names = "\n".join(f"user{i}" for i in range(1200))
    headers = auth_headers(account)
    loaded = []

    def count_load(target, _context):
        loaded.append(target)

    event.listen(Account, "load", count_load)
    try:
        response = client.post("/api/pleroma/follow_import", data={"list": names}, headers=headers)
    finally:
        event.remove(Account, "load", count_load)
    assert response.status_code == 200
    assert len(loaded) < 10
    _refresh(account)
    assert account.following_count == 1200


def test_follow_import_counts_an_account_named_in_several_chunks_once(
    client, account, people, auth_headers, monkeypatch
):
    """A name and its other forms (nick@host, ap_id) land in different chunks: one follow each,
    counted and notified once."""
    monkeypatch.setattr(imports, "CHUNK", 2)
    people["carol"].is_locked = True
    db.session.commit()
    names = f"bob carol nobody BOB@127.0.0.1 {BASE_URL}/users/bob dave @carol@127.0.0.1:5000 erin bob"
    response = client.post("/api/pleroma/follow_import", data={"list": names}, headers=auth_headers(account))
    assert response.status_code == 200
    assert _followed(account) == ["bob", "dave", "erin"]
    assert _followed(account, pending=True) == ["carol"]
    _refresh(account, *people.values())
    assert account.following_count == 3
    assert [p.followers_count for p in people.values()] == [1, 0, 1, 1]
    assert len(_notifications("follow")) == 3
    assert [n.account_id for n in _notifications("follow_request")] == [people["carol"].id]


# ---------------------------------------------------------------------------------------------
# blocks_import


@pytest.mark.parametrize("prefix", PREFIXES)
def test_blocks_import_blocks_and_ends_follows_both_ways(client, account, people, auth_headers, prefix):
    alice_h = auth_headers(account)
    bob, carol = people["bob"], people["carol"]
    client.post(f"/api/v1/accounts/{bob.id}/follow", json={"notify": True}, headers=alice_h)
    client.post(f"/api/v1/accounts/{account.id}/follow", headers=auth_headers(bob))
    client.post(f"/api/v1/accounts/{carol.id}/follow", headers=alice_h)
    client.post(f"/api/v1/accounts/{bob.id}/pin", headers=alice_h)
    response = client.post(f"{prefix}/blocks_import", data={"list": "bob nobody\n@dave"}, headers=alice_h)
    assert response.status_code == 200 and response.get_json() == "job started"
    db.session.expire_all()
    blocked = db.session.scalars(select(Block.target_id).where(Block.account_id == account.id)).all()
    assert sorted(blocked) == sorted([bob.id, people["dave"].id])
    assert _followed(account) == ["carol"] and _followed(bob) == []
    _refresh(account, bob, carol)
    assert (account.following_count, account.followers_count) == (1, 0)
    assert (bob.following_count, bob.followers_count) == (0, 0)
    assert carol.followers_count == 1
    assert db.session.scalars(select(Subscription)).all() == []
    assert [n.from_account_id for n in _notifications("follow")] == [account.id]  # only carol's
    relationship = client.get(f"/api/v1/accounts/relationships?id={bob.id}", headers=alice_h).get_json()[0]
    assert relationship["blocking"] is True and relationship["endorsed"] is False
    again = client.post(f"{prefix}/blocks_import", data={"list": "bob"}, headers=alice_h)
    assert again.status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Block)) == 2


@pytest.mark.parametrize(("path", "model"), [("blocks_import", Block), ("mutes_import", Mute)])
def test_imports_skip_a_chunk_naming_nobody(client, account, people, auth_headers, monkeypatch, path, model):
    monkeypatch.setattr(imports, "CHUNK", 2)
    names = "nobody ghost bob carol"
    response = client.post(f"/api/pleroma/{path}", data={"list": names}, headers=auth_headers(account))
    assert response.status_code == 200
    db.session.expire_all()
    targets = db.session.scalars(select(model.target_id).where(model.account_id == account.id)).all()
    assert sorted(targets) == sorted([people["bob"].id, people["carol"].id])
    assert db.session.scalar(select(func.count()).select_from(model)) == 2


@pytest.mark.parametrize("path", ["follow_import", "blocks_import", "mutes_import"])
def test_an_import_s_connection_gives_its_memory_back_when_returned(
    client, account, people, auth_headers, monkeypatch, path
):
    """Each import job marks its connection for engines' checkin listener (tests/test_engines.py
    checks what the mark does)."""
    marked = []
    monkeypatch.setattr(imports.engines, "shrink_when_returned", marked.append)
    response = client.post(f"/api/pleroma/{path}", data={"list": "bob carol"}, headers=auth_headers(account))
    assert response.status_code == 200
    assert len(marked) == 1


def test_blocks_import_scope(client, account, auth_headers):
    response = client.post(
        "/api/pleroma/blocks_import", data={"list": "bob"}, headers=auth_headers(account, "write:follows")
    )
    assert response.status_code == 403
    assert response.get_json() == {"error": "Insufficient permissions: follow | write:blocks."}
    assert client.post("/api/pleroma/blocks_import", data={"list": "bob"}).status_code == 403
    ok = client.post(
        "/api/pleroma/blocks_import", data={"list": "bob"}, headers=auth_headers(account, "write:blocks")
    )
    assert ok.status_code == 200


# ---------------------------------------------------------------------------------------------
# mutes_import


@pytest.mark.parametrize("prefix", PREFIXES)
def test_mutes_import_mutes_with_notifications(client, account, people, auth_headers, prefix):
    headers = auth_headers(account)
    response = client.post(
        f"{prefix}/mutes_import",
        data={
            "list": (io.BytesIO(b"Account address,Hide notifications\nbob,true\ncarol,false\n"), "mutes.csv")
        },
        headers=headers,
        content_type="multipart/form-data",
    )
    assert response.status_code == 200 and response.get_json() == "job started"
    client.post(f"{prefix}/mutes_import", data={"list": "bob"}, headers=headers)
    db.session.expire_all()
    mutes = db.session.scalars(select(Mute).where(Mute.account_id == account.id)).all()
    assert sorted(m.target_id for m in mutes) == sorted([people["bob"].id, people["carol"].id])
    assert all(m.hide_notifications and m.expires_at is None for m in mutes)
    relationship = client.get(
        f"/api/v1/accounts/relationships?id={people['bob'].id}", headers=headers
    ).get_json()[0]
    assert relationship["muting"] is True and relationship["muting_notifications"] is True


def test_mutes_import_scope(client, account, auth_headers):
    response = client.post(
        "/api/pleroma/mutes_import", data={"list": "bob"}, headers=auth_headers(account, "write:blocks")
    )
    assert response.status_code == 403
    assert response.get_json() == {"error": "Insufficient permissions: follow | write:mutes."}
    assert client.post("/api/pleroma/mutes_import", data={"list": "bob"}).get_json() == {
        "error": "Invalid credentials."
    }
    ok = client.post(
        "/api/pleroma/mutes_import", data={"list": "bob"}, headers=auth_headers(account, "write:mutes")
    )
    assert ok.status_code == 200


# ---------------------------------------------------------------------------------------------
# Reading the list


def test_parse_list_understands_whitespace_and_csv():
    text = "Account address,Show boosts\n@bob,true\n  carol@example.com  dave\r\n\n@@erin\nbob\n"
    assert parse_list(text) == ["bob", "carol@example.com", "dave", "erin"]


def test_a_long_import_pushes_to_every_subscribed_recipient(client, account, auth_headers, monkeypatch):
    """Push subscriptions are read with the other checks, a chunk at a time: every subscribed
    recipient past the first chunk is pushed to, and nobody else."""
    _insert_users(1200)
    users = db.session.execute(
        select(Account.id, Account.nickname).where(Account.nickname.like("user%"))
    ).all()
    subscribed = {account_id for account_id, nick in users if int(nick[4:]) % 2 == 0}  # 600, in both chunks
    tokens = {
        account_id: Token(account_id=account_id, access_token=new_flake_id()) for account_id in subscribed
    }
    db.session.add_all(tokens.values())
    db.session.flush()
    db.session.add_all(
        PushSubscription(
            account_id=a, token_id=t.id, endpoint="https://push.test/", key_p256dh="k", key_auth="a"
        )
        for a, t in tokens.items()
    )
    db.session.commit()
    pushed: list[str] = []
    enqueue = jobs.enqueue

    def capture(name, **kwargs):
        if name == "send_web_push":
            pushed.extend(kwargs["notification_ids"])
            return None
        return enqueue(name, **kwargs)

    monkeypatch.setattr(jobs, "enqueue", capture)
    names = "\n".join(f"user{i}" for i in range(1200))
    response = client.post("/api/pleroma/follow_import", data={"list": names}, headers=auth_headers(account))
    assert response.status_code == 200
    notified = db.session.execute(select(Notification.id, Notification.account_id)).all()
    assert len(notified) == 1200
    assert sorted(pushed) == sorted(nid for nid, account_id in notified if account_id in subscribed)
