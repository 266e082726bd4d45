"""Profiles across servers (SPEC 24.4, 24.5): a local profile change goes out as an Update of the
actor to the followers' servers, which show it through their client API; a replay changes
nothing and an Update of someone else's actor is not applied."""

from __future__ import annotations

import json
from pathlib import Path

from tests.emoji_fixtures import BLANK_PNG
from tests.federation.peers import Peer


def _emoji_pack(peer: Peer) -> None:
    folder = Path(peer.server.app.config["EMOJI_DIR"]) / "fed"
    folder.mkdir(parents=True)
    (folder / "pack.json").write_text(json.dumps({"files": {"kenoma": "kenoma.png"}, "pack": {}}))
    (folder / "kenoma.png").write_bytes(BLANK_PNG)


def _remote_view(peer: Peer, acct: str, who: str) -> dict:
    found = peer.account(acct, who)
    return peer.get(f"/api/v1/accounts/{found['id']}", who)


def test_a_profile_change_reaches_the_followers_server(peers):
    here, there = peers
    _emoji_pack(here)
    there.follow("carol", here.acct_of("dave"))
    response = here.call(
        "PATCH",
        "/api/v1/accounts/update_credentials",
        "dave",
        data={
            "display_name": "Dave :kenoma:",
            "note": "I write *notes*",
            "locked": "true",
            "bot": "true",
            "fields_attributes[0][name]": "site",
            "fields_attributes[0][value]": "kenoma",
        },
        files={"avatar": ("me.png", BLANK_PNG, "image/png")},
    )
    assert response.status_code == 200, response.text
    shown = _remote_view(there, here.acct_of("dave"), "carol")
    assert shown["display_name"] == "Dave :kenoma:"
    assert "notes" in shown["note"]
    assert shown["locked"] is True and shown["bot"] is True
    assert [(f["name"], f["value"]) for f in shown["fields"]] == [("site", "kenoma")]
    assert shown["avatar"].startswith(here.url) and shown["avatar"] == response.json()["avatar"]
    assert [(e["shortcode"], e["url"].startswith(here.url)) for e in shown["emojis"]] == [("kenoma", True)]


def test_a_new_banner_through_the_pleroma_api_goes_out_too(peers):
    here, there = peers
    there.follow("carol", here.acct_of("dave"))
    files = {"banner": ("banner.png", BLANK_PNG, "image/png")}
    response = here.call("PATCH", "/api/v1/pleroma/accounts/update_banner", "dave", files=files)
    assert response.status_code == 200, response.text
    shown = _remote_view(there, here.acct_of("dave"), "carol")
    assert shown["header"] == response.json()["url"] and shown["header"].startswith(here.url)


def test_a_replayed_or_foreign_update_changes_nothing(peers):
    here, there = peers
    there.follow("carol", here.acct_of("dave"))
    here.call("PATCH", "/api/v1/accounts/update_credentials", "dave", data={"display_name": "First"})
    here.call("PATCH", "/api/v1/accounts/update_credentials", "dave", data={"display_name": "Second"})
    with here.server.app.app_context():
        from federation import documents
        from federation.delivery import deliver
        from federation.delivery import publish
        from models import Account
        from models import Activity
        from models import db

        first = db.session.scalars(
            db.select(Activity).where(Activity.type == "Update").order_by(Activity.id)
        ).first()
        deliver(f"{there.url}/inbox", first.id)  # the first Update again: already seen, not re-applied
        dave = db.session.scalar(db.select(Account).where(Account.nickname == "dave"))
        alice = db.session.scalar(db.select(Account).where(Account.nickname == "alice"))
        # alice signs an Update of dave's actor: not hers, so not applied.
        dave.display_name = "Forged"
        forged = documents.update_actor(dave, f"{here.url}/activities/forged")
        forged["actor"] = alice.ap_id
        db.session.rollback()
        publish(forged, alice, extra_inboxes=[f"{there.url}/inbox"])
        db.session.remove()
    assert _remote_view(there, here.acct_of("dave"), "carol")["display_name"] == "Second"
