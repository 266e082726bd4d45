"""Account moves across servers (SPEC 11, 24.4, 24.5): the moving account's server sends a Move
to its followers' servers, which move their local followers to the target once the target
lists the origin in alsoKnownAs; the new follows of a remote target go out as Follows."""

from __future__ import annotations

from tests.federation.peers import PASSWORD
from tests.federation.peers import Peer


def _relationship(peer: Peer, who: str, acct: str) -> dict:
    target = peer.account(acct, who)
    return peer.get("/api/v1/accounts/relationships", who, params={"id[]": target["id"]})[0]


def _move(peer: Peer, who: str, target: str) -> dict:
    data = {"password": PASSWORD, "target_account": target}
    return peer.post("/api/pleroma/move_account", who, data=data)


def test_followers_on_both_servers_follow_the_moved_account(peers):
    here, there = peers
    here.follow("alice", there.acct_of("carol"))  # a remote follower of carol
    there.follow("erin", "carol")  # a local one
    here.call("PUT", "/api/pleroma/aliases", "dave", data={"alias": there.acct_of("carol")})
    assert _move(there, "carol", here.acct_of("dave")) == {"status": "success"}

    # Here, carol's Move arrived: alice follows dave instead, and was told.
    notification = here.get("/api/v1/notifications", "alice")[0]
    assert notification["type"] == "move"
    assert notification["account"]["acct"] == there.acct_of("carol")
    assert notification["target"]["acct"] == "dave"
    assert _relationship(here, "alice", "dave")["following"] is True
    assert _relationship(here, "alice", there.acct_of("carol"))["following"] is False
    shown = here.get(f"/api/v1/accounts/{here.account(there.acct_of('carol'), 'alice')['id']}", "alice")
    assert shown["moved"]["acct"] == "dave"
    # There, erin's follow of dave went out as a Follow and was accepted.
    assert _relationship(there, "erin", here.acct_of("dave"))["following"] is True
    dave = here.account("dave", "dave")
    followers = {a["acct"] for a in here.get(f"/api/v1/accounts/{dave['id']}/followers", "dave")}
    assert followers == {"alice", there.acct_of("erin")}
    # carol's server heard alice's Undo of her follow.
    carol = there.account("carol", "carol")
    assert there.get(f"/api/v1/accounts/{carol['id']}/followers", "carol") == []

    # The same Move again changes nothing.
    with there.server.app.app_context():
        from federation.delivery import deliver
        from models import Activity
        from models import db

        move = db.session.scalars(db.select(Activity).where(Activity.type == "Move")).one()
        deliver(f"{here.url}/inbox", move.id)
        db.session.remove()
    assert [n["type"] for n in here.get("/api/v1/notifications", "alice")].count("move") == 1


def test_a_move_to_an_account_that_does_not_alias_it_is_ignored(peers):
    here, there = peers
    here.follow("alice", there.acct_of("erin"))
    here.account(there.acct_of("carol"), "dave")
    with there.server.app.app_context():
        from federation import documents
        from federation.delivery import publish
        from models import Account
        from models import db

        erin = db.session.scalar(db.select(Account).where(Account.nickname == "erin"))
        carol = db.session.scalar(db.select(Account).where(Account.nickname == "carol"))
        # erin claims a move to carol, who never listed her as an alias.
        publish(documents.move(erin, carol, f"{there.url}/activities/unaliased"), erin, followers=True)
        db.session.remove()
    assert _relationship(here, "alice", there.acct_of("erin"))["following"] is True
    assert [n["type"] for n in here.get("/api/v1/notifications", "alice")] == []
    shown = here.get(f"/api/v1/accounts/{here.account(there.acct_of('erin'), 'alice')['id']}", "alice")
    assert shown["moved"] is None
