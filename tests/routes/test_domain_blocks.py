"""User-level domain blocks (SPEC 26): GET/POST/DELETE /api/v1/domain_blocks and their effects on
follows, timelines, notifications and relationships."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy import select

from models import Account
from models import DomainBlock
from models import Notification
from models import Status
from models import db
from services import follows
from services.statuses import NewStatus
from services.statuses import post_status
from tests.conftest import basic_headers

BLOCKS = "/api/v1/domain_blocks"


def remote_account(nickname: str = "remy", domain: str = "remote.example") -> Account:
    account = Account(nickname=nickname, domain=domain, ap_id=f"https://{domain}/users/{nickname}")
    db.session.add(account)
    db.session.commit()
    return account


def reblog(author: Account, original: Status) -> Status:
    row = Status(account=author, reblog_of_id=original.id, visibility="public", context=original.context)
    db.session.add(row)
    db.session.commit()
    return row


def blocked(account: Account) -> list[str]:
    rows = db.session.scalars(select(DomainBlock.domain).where(DomainBlock.account_id == account.id))
    return sorted(rows)


def test_block_domain_lists_newest_first_with_link(
    client: FlaskClient, account: Account, alice_h: dict
) -> None:
    for domain in ("one.example", "two.example", "three.example"):
        response = client.post(BLOCKS, data={"domain": domain}, headers=alice_h)
        assert response.status_code == 200
        assert response.get_json() == {}
    page = client.get(f"{BLOCKS}?limit=2", headers=alice_h)
    assert page.status_code == 200
    assert page.get_json() == ["three.example", "two.example"]
    rows = {r.domain: r.id for r in db.session.scalars(select(DomainBlock))}
    link = page.headers["Link"]
    assert f"max_id={rows['two.example']}" in link and f"min_id={rows['three.example']}" in link
    rest = client.get(f"{BLOCKS}?max_id={rows['two.example']}", headers=alice_h)
    assert rest.get_json() == ["one.example"]


def test_block_domain_twice_and_normalised(client: FlaskClient, account: Account, alice_h: dict) -> None:
    client.post(BLOCKS, json={"domain": "Remote.Example"}, headers=alice_h)
    client.post(BLOCKS, json={"domain": "https://remote.example/@someone"}, headers=alice_h)
    client.post(BLOCKS, json={"domain": "bücher.example"}, headers=alice_h)
    assert blocked(account) == ["remote.example", "xn--bcher-kva.example"]


def test_unblock_domain_from_json_form_and_query(
    client: FlaskClient, account: Account, alice_h: dict
) -> None:
    for domain in ("a.example", "b.example", "c.example"):
        client.post(BLOCKS, data={"domain": domain}, headers=alice_h)
    assert client.delete(BLOCKS, json={"domain": "a.example"}, headers=alice_h).get_json() == {}
    assert client.delete(BLOCKS, data={"domain": "b.example"}, headers=alice_h).status_code == 200
    assert client.delete(f"{BLOCKS}?domain=c.example", headers=alice_h).status_code == 200
    assert blocked(account) == []
    # Unblocking a domain that is not blocked changes nothing and is no error.
    assert client.delete(BLOCKS, json={"domain": "a.example"}, headers=alice_h).status_code == 200


def test_block_domain_bad_input_changes_nothing(client: FlaskClient, account: Account, alice_h: dict) -> None:
    missing = client.post(BLOCKS, json={}, headers=alice_h)
    assert missing.status_code == 400
    assert missing.get_json() == {"error": "Missing field: domain."}
    for bad in ("", "   ", "not a domain", "-bad.example", "x" * 300, "host.example:99999"):
        response = client.post(BLOCKS, json={"domain": bad}, headers=alice_h)
        assert response.status_code == 422, bad
        assert "error" in response.get_json()
    assert client.delete(BLOCKS, json={}, headers=alice_h).status_code == 400
    assert blocked(account) == []


def test_domain_blocks_auth_and_scopes(
    client: FlaskClient, account: Account, auth_headers: Callable[..., dict]
) -> None:
    for method in ("get", "post", "delete"):
        response = getattr(client, method)(BLOCKS, json={"domain": "x.example"})
        assert response.status_code == 403
        assert response.get_json() == {"error": "Invalid credentials."}
    reader = auth_headers(account, "read:blocks")
    assert client.post(BLOCKS, json={"domain": "x.example"}, headers=reader).status_code == 403
    assert client.get(BLOCKS, headers=auth_headers(account, "read:statuses")).status_code == 403
    writer = auth_headers(account, "write:blocks")
    assert client.post(BLOCKS, json={"domain": "x.example"}, headers=writer).status_code == 200
    assert client.get(BLOCKS, headers=reader).get_json() == ["x.example"]
    follow_scope = auth_headers(account, "follow")
    assert client.delete(BLOCKS, json={"domain": "x.example"}, headers=follow_scope).status_code == 200
    basic = basic_headers("alice")
    assert client.post(BLOCKS, data={"domain": "y.example"}, headers=basic).status_code == 200
    assert blocked(account) == ["y.example"]


def test_domain_blocks_are_per_user(
    client: FlaskClient, account: Account, bob: Account, alice_h: dict, bob_h: dict
) -> None:
    client.post(BLOCKS, json={"domain": "remote.example"}, headers=alice_h)
    assert client.get(BLOCKS, headers=bob_h).get_json() == []
    client.delete(BLOCKS, json={"domain": "remote.example"}, headers=bob_h)
    assert blocked(account) == ["remote.example"]


def test_block_domain_ends_follows_both_ways(
    client: FlaskClient, account: Account, bob: Account, alice_h: dict
) -> None:
    remy, rita = remote_account("remy"), remote_account("rita")
    other = remote_account("otto", "other.example")
    for follower, target in ((account, remy), (account, other), (bob, remy)):
        follows.follow(follower, target)
        follows.accepted_by_remote(follower, target)  # a remote account's Accept (SPEC 24.4)
    follows.follow(rita, account)
    client.post(BLOCKS, json={"domain": "remote.example"}, headers=alice_h)
    db.session.expire_all()
    alice = db.session.get(Account, account.id)
    assert (alice.following_count, alice.followers_count) == (1, 0)
    assert db.session.get(Account, remy.id).followers_count == 1  # bob's follow stays
    rels = client.get(
        f"/api/v1/accounts/relationships?id[]={remy.id}&id[]={rita.id}&id[]={other.id}&id[]={bob.id}",
        headers=alice_h,
    ).get_json()
    assert [r["following"] for r in rels] == [False, False, True, False]
    assert [r["followed_by"] for r in rels] == [False, False, False, False]
    assert [r["domain_blocking"] for r in rels] == [True, True, False, False]
    follow_notes = db.session.scalars(
        select(Notification).where(Notification.account_id == account.id, Notification.type == "follow")
    ).all()
    assert follow_notes == []  # rita's follow notification went with the follow


def test_block_domain_hides_statuses_in_timelines(
    client: FlaskClient, account: Account, bob: Account, alice_h: dict, bob_h: dict
) -> None:
    remy = remote_account()
    follows.follow(account, bob)
    remote_post = post_status(remy, NewStatus(text="from afar"))
    boosted = reblog(bob, remote_post)
    own = post_status(bob, NewStatus(text="local"))

    def timeline(path: str) -> list[str]:
        return [s["id"] for s in client.get(path, headers=alice_h).get_json()]

    assert remote_post.id in timeline("/api/v1/timelines/public")
    assert boosted.id in timeline("/api/v1/timelines/home")
    client.post(BLOCKS, json={"domain": "remote.example"}, headers=alice_h)
    assert timeline("/api/v1/timelines/public") == [own.id]
    # The reblog of the blocked domain's status goes too, though a local account shared it.
    assert timeline("/api/v1/timelines/home") == [own.id]
    # Others still see it; unblocking brings it back.
    assert remote_post.id in [
        s["id"] for s in client.get("/api/v1/timelines/public", headers=bob_h).get_json()
    ]
    client.delete(BLOCKS, json={"domain": "remote.example"}, headers=alice_h)
    assert boosted.id in timeline("/api/v1/timelines/home")


def test_block_domain_hides_notifications(
    client: FlaskClient, account: Account, bob: Account, alice_h: dict
) -> None:
    remy = remote_account()
    follows.follow(remy, account)
    follows.follow(bob, account)

    def senders() -> list[str]:
        return [n["account"]["id"] for n in client.get("/api/v1/notifications", headers=alice_h).get_json()]

    assert senders() == [bob.id, remy.id]
    client.post(BLOCKS, json={"domain": "remote.example"}, headers=alice_h)
    post_status(remy, NewStatus(text="@alice hi"))
    assert senders() == [bob.id]
    client.delete(BLOCKS, json={"domain": "remote.example"}, headers=alice_h)
    assert senders()[0] == remy.id  # the mention; remy's follow (and its notification) ended


def test_relationship_domain_blocking_is_one_query(
    client: FlaskClient, account: Account, alice_h: dict, count_queries: Callable
) -> None:
    remotes = [remote_account(f"r{i}") for i in range(5)]
    client.post(BLOCKS, json={"domain": "remote.example"}, headers=alice_h)
    query = "&".join(f"id[]={r.id}" for r in remotes)
    with count_queries() as one:
        client.get(f"/api/v1/accounts/relationships?id[]={remotes[0].id}", headers=alice_h)
    with count_queries() as five:
        body = client.get(f"/api/v1/accounts/relationships?{query}", headers=alice_h).get_json()
    assert [r["domain_blocking"] for r in body] == [True] * 5
    assert five.count <= one.count
