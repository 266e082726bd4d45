"""Blocks between two Kenomas (SPEC 24.4, 24.5): a Block of a remote account reaches its server,
where the follows between the two end both ways and the blocker shows as `blocked_by`; its Undo
lifts that; replays change nothing."""

from __future__ import annotations

from tests.federation.acts import redeliver
from tests.federation.peers import Peer


def _relationship(peer: Peer, who: str, account_id: str) -> dict:
    return peer.get("/api/v1/accounts/relationships", who, params={"id[]": account_id})[0]


def _follow(peer: Peer, who: str, acct: str) -> None:
    assert peer.follow(who, acct)["following"] is True


def test_a_block_ends_the_follows_on_the_other_server_and_its_undo_lifts_it(peers):
    here, there = peers
    _follow(here, "dave", there.acct_of("carol"))
    _follow(there, "carol", here.acct_of("dave"))
    dave = there.account(here.acct_of("dave"), "carol")["id"]  # search hides who blocks you
    seen = _relationship(there, "carol", dave)
    assert seen["following"] is True and seen["followed_by"] is True

    carol = here.account(there.acct_of("carol"), "dave")
    blocked = here.post(f"/api/v1/accounts/{carol['id']}/block", "dave")
    assert blocked["blocking"] is True and blocked["following"] is False

    seen = _relationship(there, "carol", dave)
    assert seen["blocked_by"] is True
    assert seen["following"] is False and seen["followed_by"] is False
    me = there.get("/api/v1/accounts/verify_credentials", "carol")
    assert me["following_count"] == 0 and me["followers_count"] == 0

    redeliver(here, there, "Block")
    assert _relationship(there, "carol", dave)["blocked_by"] is True

    unblocked = here.post(f"/api/v1/accounts/{carol['id']}/unblock", "dave")
    assert unblocked["blocking"] is False
    seen = _relationship(there, "carol", dave)
    assert seen["blocked_by"] is False and seen["following"] is False
    redeliver(here, there, "Undo")
    redeliver(here, there, "Block")  # the old Block after its Undo: already seen
    assert _relationship(there, "carol", dave)["blocked_by"] is False


def test_a_remote_block_keeps_the_blocked_local_account_from_following(peers):
    here, there = peers
    carol = there.account("carol", "carol")
    dave = there.account(here.acct_of("dave"), "carol")
    remote_carol = here.account(there.acct_of("carol"), "dave")
    there.post(f"/api/v1/accounts/{dave['id']}/block", "carol")
    assert _relationship(here, "dave", remote_carol["id"])["blocked_by"] is True
    # dave's server refuses a follow of an account that blocks him, and sends nothing.
    refused = here.call("POST", f"/api/v1/accounts/{remote_carol['id']}/follow", "dave")
    assert refused.status_code == 403
    assert there.get(f"/api/v1/accounts/{carol['id']}/followers", "carol") == []
    there.post(f"/api/v1/accounts/{dave['id']}/unblock", "carol")
    assert _relationship(here, "dave", remote_carol["id"])["blocked_by"] is False


def test_an_imported_block_of_a_remote_account_is_sent_too(peers):
    here, there = peers
    dave = there.account(here.acct_of("dave"), "carol")["id"]
    response = here.call("POST", "/api/pleroma/blocks_import", "dave", data={"list": there.acct_of("carol")})
    assert response.status_code == 200, response.text
    assert _relationship(there, "carol", dave)["blocked_by"] is True
    # Importing the same list again blocks no one anew: no second Block goes out.
    here.call("POST", "/api/pleroma/blocks_import", "dave", data={"list": there.acct_of("carol")})
    with here.server.app.app_context():
        from models import Activity
        from models import db

        sent = db.session.scalars(db.select(Activity.ap_id).where(Activity.type == "Block")).all()
        db.session.remove()
    assert len(sent) == 1
