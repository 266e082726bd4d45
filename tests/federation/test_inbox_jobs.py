"""The inbound job (federation.inbox.process_activity) on its own: ordering and key lookups that
real servers produce and that two Kenomas never do — a late Undo of an earlier Follow
(GoToSocial retries deliveries), and a keyId that names a stub of the actor."""

from __future__ import annotations

from federation import actors
from federation import inbox
from models import Account
from models import Follow
from models import db

REMOTE = "https://remote.example/users/rita"


def _remote() -> Account:
    account = Account(nickname="rita", domain="remote.example", ap_id=REMOTE, key_id=f"{REMOTE}#main-key")
    db.session.add(account)
    db.session.commit()
    return account


def _follow(activity_id: str, target: Account) -> dict:
    return {"id": activity_id, "type": "Follow", "actor": REMOTE, "object": target.ap_id}


def _following(rita: Account, alice: Account) -> bool:
    row = db.session.scalar(
        db.select(Follow).where(Follow.follower_id == rita.id, Follow.followee_id == alice.id)
    )
    return row is not None and not row.is_pending


def test_a_late_undo_of_an_earlier_follow_leaves_the_newer_one(app, make_account):
    with app.app_context():
        alice, rita = make_account("alice"), _remote()
        first, second = _follow(f"{REMOTE}#follow-1", alice), _follow(f"{REMOTE}#follow-2", alice)
        inbox.process_activity(first, rita.id)
        inbox.process_activity(
            {"id": f"{REMOTE}#undo-1", "type": "Undo", "actor": REMOTE, "object": first}, rita.id
        )
        assert not _following(rita, alice)
        inbox.process_activity(second, rita.id)
        # The undo of the first Follow arrives again, late, under another id: the second stands.
        late = {"id": f"{REMOTE}#undo-1-again", "type": "Undo", "actor": REMOTE, "object": first}
        inbox.process_activity(late, rita.id)
        assert _following(rita, alice)
        undo = {"id": f"{REMOTE}#undo-2", "type": "Undo", "actor": REMOTE, "object": second}
        inbox.process_activity(undo, rita.id)
        assert not _following(rita, alice)


def test_a_replayed_follow_id_changes_nothing(app, make_account):
    with app.app_context():
        alice, rita = make_account("alice"), _remote()
        follow = _follow(f"{REMOTE}#follow-1", alice)
        inbox.process_activity(follow, rita.id)
        inbox.process_activity(
            {"id": f"{REMOTE}#undo", "type": "Undo", "actor": REMOTE, "object": follow}, rita.id
        )
        inbox.process_activity(follow, rita.id)  # the same id again: already seen
        assert not _following(rita, alice)
        assert db.session.get(Account, alice.id).followers_count == 0


def test_a_key_id_naming_a_stub_of_the_actor_reads_the_whole_actor(app, monkeypatch):
    # GoToSocial serves its key at <actor>/main-key as an actor stub with only id and key.
    key_id = f"{REMOTE}/main-key"
    stub = {
        "id": REMOTE,
        "type": "Person",
        "preferredUsername": "rita",
        "publicKey": {"id": key_id, "owner": REMOTE, "publicKeyPem": "PEM"},
    }
    whole = stub | {"inbox": f"{REMOTE}/inbox", "followers": f"{REMOTE}/followers"}
    fetched: list[str] = []

    def fetch(url: str, as_account: object = None) -> dict:
        fetched.append(url)
        return {key_id: stub, REMOTE: whole}[url]

    monkeypatch.setattr(actors, "fetch_document", fetch)
    with app.app_context():
        found = actors.actor_for_key(key_id)
        assert found is not None and found.inbox == f"{REMOTE}/inbox" and found.key_id == key_id
        assert fetched == [key_id, REMOTE]


def test_an_actor_not_read_for_a_day_is_read_again(app, make_account, monkeypatch):
    from datetime import timedelta

    from models import utcnow

    key_id = f"{REMOTE}#main-key"
    document = {
        "id": REMOTE,
        "type": "Person",
        "preferredUsername": "rita",
        "name": "Rita, renamed",
        "inbox": f"{REMOTE}/inbox",
        "publicKey": {"id": key_id, "owner": REMOTE, "publicKeyPem": "PEM"},
    }
    monkeypatch.setattr(actors, "fetch_document", lambda url, as_account=None: document)
    with app.app_context():
        alice, rita = make_account("alice"), _remote()
        rita.fetched_at = utcnow() - timedelta(days=2)
        db.session.commit()
        inbox.process_activity(_follow(f"{REMOTE}#follow-1", alice), rita.id)
        assert db.session.get(Account, rita.id).display_name == "Rita, renamed"
