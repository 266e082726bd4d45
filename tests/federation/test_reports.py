"""Reports across servers (SPEC 3, 24.4, 24.5): a report of a remote account made with
`forward` reaches that account's server as a Flag by the instance actor, where its admins get a
`pleroma:report` notification with the reported statuses; without `forward` nothing is sent,
and a replayed Flag makes no second report."""

from __future__ import annotations

import pytest

from tests.federation.peers import Peer


@pytest.fixture
def peers(live_server):
    here = Peer(live_server(), "alice", "dave")
    there = Peer(live_server(), "carol", "erin")
    with here.server.app.app_context():
        from models import Account
        from models import db

        db.session.scalar(db.select(Account).where(Account.nickname == "alice")).is_admin = True
        db.session.commit()
        db.session.remove()
    return here, there


def _report(peer: Peer, who: str, account_id: str, status_ids: list[str], forward: bool) -> dict:
    data = {
        "account_id": account_id,
        "status_ids": status_ids,
        "comment": "spam <b>here</b>",
        "forward": forward,
    }
    return peer.post("/api/v1/reports", who, json=data)


def _reports_seen(peer: Peer) -> list[dict]:
    return peer.get("/api/v1/notifications", "alice", params={"include_types[]": "pleroma:report"})


def test_a_forwarded_report_reaches_the_admins_of_the_reported_server(peers):
    here, there = peers
    dave = there.account(here.acct_of("dave"), "carol")
    there.post(f"/api/v1/accounts/{dave['id']}/follow", "carol")
    posted = here.post_status("dave", "buy my stuff")
    seen = there.get("/api/v1/timelines/home", "carol")[0]
    _report(there, "carol", dave["id"], [seen["id"]], forward=False)
    assert _reports_seen(here) == []

    _report(there, "carol", dave["id"], [seen["id"]], forward=True)
    notifications = _reports_seen(here)
    assert [n["type"] for n in notifications] == ["pleroma:report"]
    report = notifications[0]["report"]
    assert report["account"]["acct"] == "dave"
    assert [s["id"] for s in report["statuses"]] == [posted["id"]]
    assert report["comment"] == "spam here"
    # The instance reported, not carol: her name stays on her server.
    assert report["actor"]["acct"] != there.acct_of("carol")
    assert there.host in report["actor"]["acct"]

    with there.server.app.app_context():
        from federation.delivery import deliver
        from models import Activity
        from models import db

        flag = db.session.scalars(db.select(Activity).where(Activity.type == "Flag")).one()
        deliver(f"{here.url}/inbox", flag.id)
        db.session.remove()
    assert len(_reports_seen(here)) == 1
