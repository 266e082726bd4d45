"""Local objects and activities as other servers read them (SPEC 24.1): /activities/<uuid> serves
what was delivered (a Create shows its status as it is now), a deleted object answers 410 with
its Tombstone, and what is not public is served only to a signed fetch by a recipient (the signed
fetches themselves are in test_bovine.py, made by an independent implementation)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from federation.documents import PUBLIC
from models import Account
from models import Activity
from models import Follow
from models import db
from tests.federation.conftest import get_ap


def _delete_activity(uri: str) -> Activity:
    found = db.session.scalar(select(Activity).where(Activity.type == "Delete", Activity.object_id == uri))
    assert found is not None
    return found


def _path(ap_id: str) -> str:
    return ap_id.split("5000", 1)[1]


def test_a_deleted_object_answers_410_with_its_tombstone(client, post, alice_h):
    status = post(alice_h, status="soon gone")
    uri, path = status.uri, _path(status.uri)
    assert get_ap(client, path).status_code == 200
    assert client.delete(f"/api/v1/statuses/{status.id}", headers=alice_h).status_code == 200
    for gone in (path, f"{path}/activity"):
        response = get_ap(client, gone)
        assert response.status_code == 410
        assert response.content_type == "application/activity+json"
        body = response.get_json()
        assert body["id"] == uri and body["type"] == "Tombstone" and body["formerType"] == "Note"
        assert body["deleted"] and body["@context"][0] == "https://www.w3.org/ns/activitystreams"
    assert get_ap(client, f"/objects/{uuid.uuid4()}").status_code == 404


def test_a_deleted_private_object_is_a_tombstone_too_but_a_live_one_stays_hidden(client, post, alice_h):
    status = post(alice_h, status="followers only", visibility="private")
    path = _path(status.uri)
    assert get_ap(client, path).status_code == 404  # unsigned: as if it did not exist
    client.delete(f"/api/v1/statuses/{status.id}", headers=alice_h)
    assert get_ap(client, path).status_code == 410


def test_activities_serve_what_was_delivered(client, post, alice_h):
    status = post(alice_h, status="to be deleted")
    client.delete(f"/api/v1/statuses/{status.id}", headers=alice_h)
    delete = _delete_activity(status.uri)
    response = get_ap(client, _path(delete.ap_id))
    assert response.status_code == 200
    assert response.content_type == "application/activity+json"
    body = response.get_json()
    assert body == delete.data
    assert body["type"] == "Delete" and body["object"]["id"] == status.uri and body["to"] == [PUBLIC]
    assert get_ap(client, f"/activities/{uuid.uuid4()}").status_code == 404


def test_a_create_activity_shows_its_status_as_it_is_now(app, client, post, alice_h):
    status = post(alice_h, status="first words")
    create_id = f"{app.config['BASE_URL']}/activities/{uuid.uuid4()}"
    db.session.add(
        Activity(
            ap_id=create_id,
            type="Create",
            actor_id=status.account_id,
            object_id=status.uri,
            is_local=True,
            data={"id": create_id, "type": "Create", "object": {"id": status.uri, "content": "first words"}},
        )
    )
    db.session.commit()
    edited = client.put(f"/api/v1/statuses/{status.id}", json={"status": "second words"}, headers=alice_h)
    assert edited.status_code == 200
    body = get_ap(client, _path(create_id)).get_json()
    assert body["id"] == create_id and body["type"] == "Create"
    assert body["object"]["id"] == status.uri and "second words" in body["object"]["content"]
    client.delete(f"/api/v1/statuses/{status.id}", headers=alice_h)
    assert get_ap(client, _path(create_id)).status_code == 404


def test_an_activity_not_addressed_to_the_public_needs_a_signed_recipient(client, post, alice_h, bob):
    status = post(alice_h, status=f"@{bob.nickname} between us", visibility="direct")
    client.delete(f"/api/v1/statuses/{status.id}", headers=alice_h)
    delete = _delete_activity(status.uri)
    assert PUBLIC not in (delete.data or {}).get("to", [])
    assert get_ap(client, _path(delete.ap_id)).status_code == 404
    # A signature that does not verify makes an anonymous reader, not an error.
    forged = {
        "Accept": "application/activity+json",
        "Signature": 'keyId="http://127.0.0.1:9/x",signature="AAAA"',
    }
    assert client.get(_path(delete.ap_id), headers=forged).status_code == 404


def test_a_create_of_something_else_is_served_as_it_was_sent(app, client, post, alice_h, bob):
    # A poll vote is a Create of a Note that is no status: served as delivered, to its addressee.
    poll = post(alice_h, status="which?", poll={"options": ["a", "b"], "expires_in": 600})
    vote_id = f"{app.config['BASE_URL']}/activities/{uuid.uuid4()}"
    vote = {
        "id": vote_id,
        "type": "Create",
        "to": [PUBLIC],
        "object": {"id": f"{vote_id}#vote", "type": "Note", "name": "a", "inReplyTo": poll.uri},
    }
    db.session.add(
        Activity(ap_id=vote_id, type="Create", actor_id=bob.id, object_id=poll.uri, is_local=True, data=vote)
    )
    db.session.commit()
    assert get_ap(client, _path(vote_id)).get_json() == vote


def _queued_federations(monkeypatch) -> list[str]:
    import jobs

    queued: list[str] = []
    real = jobs.enqueue

    def spy(name: str, **kwargs):
        if name == "federate_status":
            queued.append(kwargs["status_id"])
        return real(name, **kwargs)

    monkeypatch.setattr(jobs, "enqueue", spy)
    return queued


def test_a_post_queues_its_delivery_only_when_another_server_would_get_it(
    client, post, alice_h, account, monkeypatch
):
    """Most local posts reach no other server: no job is queued for them (issue 19). A remote
    follower, a remote mention or a remote author's reblogged status each make one."""
    queued = _queued_federations(monkeypatch)
    alone = post(alice_h, status="nobody remote reads this")
    assert queued == []
    rita = Account(nickname="rita", domain="remote.example", ap_id="https://remote.example/users/rita")
    db.session.add(rita)
    db.session.commit()
    mentioning = post(alice_h, status="hi @rita@remote.example")
    assert queued == [mentioning.id]
    db.session.add(Follow(follower_id=rita.id, followee_id=account.id))
    db.session.commit()
    followed = post(alice_h, status="now rita follows")
    assert queued == [mentioning.id, followed.id]
    assert alone.id not in queued
