"""Helpers for the interaction tests between two Kenomas: statuses looked up across servers,
activities sent again (replays) or hand-made (what other software sends), and a custom emoji."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.federation.peers import Peer


def status_seen_by(peer: Peer, who: str, uri: str) -> dict:
    """A status of another server as `who` on `peer` sees it (fetched if unknown there)."""
    found = peer.get("/api/v2/search", who, params={"q": uri, "resolve": "true", "type": "statuses"})
    matching = [s for s in found["statuses"] if s["uri"] == uri]
    assert len(matching) == 1, found
    return matching[0]


def redeliver(sender: Peer, receiver: Peer, kind: str) -> str:
    """POST the newest `kind` activity `sender` sent to `receiver`'s shared inbox again, freshly
    signed: a replay. Returns its id."""
    from federation.delivery import deliver
    from models import Activity
    from models import db

    with sender.server.app.app_context():
        sent = db.session.scalars(
            db.select(Activity)
            .where(Activity.type == kind, Activity.is_local.is_(True))
            .order_by(Activity.id.desc())
            .limit(1)
        ).one()
        deliver(f"{receiver.url}/inbox", sent.id)
        ap_id = sent.ap_id
        db.session.remove()
    return ap_id


def send_as(sender: Peer, nickname: str, receiver: Peer, activity: dict[str, Any]) -> dict:
    """Deliver a hand-made activity of `nickname` on `sender` to `receiver`'s inbox, signed by
    that account; `id` and `actor` are filled in. Returns the activity sent."""

    from federation.delivery import publish
    from federation.documents import with_context
    from federation.outbox import new_activity_id
    from models import Account
    from models import db

    with sender.server.app.app_context():
        actor = db.session.scalars(
            db.select(Account).where(Account.nickname == nickname, Account.domain.is_(None))
        ).one()
        data = with_context({"id": new_activity_id(), "actor": actor.ap_id, **activity})
        publish(data, actor, extra_inboxes=[f"{receiver.url}/inbox"])
        db.session.remove()
    return data


def add_custom_emoji(peer: Peer, shortcode: str = "kenoma") -> str:
    """A one-emoji pack on `peer`; answers the emoji's image URL."""
    folder = Path(peer.server.app.config["EMOJI_DIR"]) / "fed"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pack.json").write_text(json.dumps({"files": {shortcode: f"{shortcode}.png"}, "pack": {}}))
    (folder / f"{shortcode}.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    return f"{peer.url}/emoji/fed/{shortcode}.png"
