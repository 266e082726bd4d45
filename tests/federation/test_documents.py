"""federation/documents: the shape of every ActivityPub document, its addressing, and that an
independent JSON-LD processor (pyld) reads each one with every term defined."""

from __future__ import annotations

import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

import keys
from federation import documents
from federation.documents import PUBLIC
from models import Account
from models import Poll
from models import Status
from models import db
from models import utcnow
from tests.conftest import BASE_URL
from tests.federation.conftest import AS
from tests.federation.conftest import expand
from tests.federation.conftest import first
from tests.routes.test_media import upload

SEC = "https://w3id.org/security#"


# ---- Addressing (SPEC 24.2)


@pytest.mark.parametrize(
    ("visibility", "to", "cc"),
    [
        ("public", ["PUBLIC"], ["FOLLOWERS", "BOB"]),
        ("unlisted", ["FOLLOWERS"], ["PUBLIC", "BOB"]),
        ("private", ["FOLLOWERS", "BOB"], []),
        ("direct", ["BOB"], []),
    ],
)
def test_addressing_follows_visibility(post, alice_h, account, bob, visibility, to, cc):
    status = post(alice_h, status="hi @bob", visibility=visibility)
    names = {"PUBLIC": PUBLIC, "FOLLOWERS": f"{account.ap_id}/followers", "BOB": bob.ap_id}
    note = documents.note(status)
    assert (note["to"], note["cc"]) == ([names[n] for n in to], [names[n] for n in cc])
    assert documents.addressing(status, [bob.ap_id]) == (note["to"], note["cc"])
    # ...and read back the same way.
    assert documents.visibility_from(note["to"], note["cc"], f"{account.ap_id}/followers") == visibility


@pytest.mark.parametrize("spelling", [PUBLIC, "as:Public", "Public"])
def test_visibility_from_accepts_every_public_spelling(spelling):
    followers = "https://x.example/users/a/followers"
    assert documents.visibility_from([spelling], [followers], followers) == "public"
    assert documents.visibility_from(followers, spelling, followers) == "unlisted"
    assert documents.visibility_from([followers], None, followers) == "private"
    assert documents.visibility_from(["https://x.example/users/b"], [], followers) == "direct"
    assert documents.visibility_from(None, None, None) == "direct"


# ---- Actors


def test_actor_has_every_field(app, account, bob, emoji_pack):
    account.display_name = "Alice :kenoma:"
    account.note_html = "<p>bio</p>"
    account.fields = [
        {"name": "site", "value": "https://a.example", "value_html": '<a href="https://a.example">a</a>'}
    ]
    account.is_locked = True
    account.is_discoverable = True
    account.avatar = "x/me.png"
    account.header = "x/top.jpg"
    account.also_known_as = ["https://old.example/users/alice"]
    account.moved_to_id = bob.id
    db.session.commit()

    actor = documents.actor(account)

    ap_id = account.ap_id
    assert actor["@context"] == documents.CONTEXT
    assert actor["id"] == ap_id == f"{BASE_URL}/users/alice"
    assert actor["type"] == "Person"
    assert actor["preferredUsername"] == "alice"
    assert actor["name"] == "Alice :kenoma:"
    assert actor["summary"] == "<p>bio</p>"
    assert actor["url"] == ap_id
    assert actor["inbox"] == f"{ap_id}/inbox"
    assert actor["outbox"] == f"{ap_id}/outbox"
    assert actor["followers"] == f"{ap_id}/followers"
    assert actor["following"] == f"{ap_id}/following"
    assert actor["featured"] == f"{ap_id}/collections/featured"
    assert actor["endpoints"] == {"sharedInbox": f"{BASE_URL}/inbox"}
    assert actor["publicKey"]["id"] == f"{ap_id}#main-key"
    assert actor["publicKey"]["owner"] == ap_id
    assert actor["publicKey"]["publicKeyPem"] == account.public_key
    assert actor["manuallyApprovesFollowers"] is True
    assert actor["discoverable"] is True
    assert actor["icon"] == {"type": "Image", "mediaType": "image/png", "url": f"{BASE_URL}/media/x/me.png"}
    assert actor["image"] == {
        "type": "Image",
        "mediaType": "image/jpeg",
        "url": f"{BASE_URL}/media/x/top.jpg",
    }
    assert actor["attachment"] == [
        {"type": "PropertyValue", "name": "site", "value": '<a href="https://a.example">a</a>'}
    ]
    assert actor["tag"] == [
        {
            "id": emoji_pack,
            "type": "Emoji",
            "name": ":kenoma:",
            "icon": {"type": "Image", "mediaType": "image/png", "url": emoji_pack},
            "updated": "1970-01-01T00:00:00Z",
        }
    ]
    assert actor["alsoKnownAs"] == ["https://old.example/users/alice"]
    assert actor["movedTo"] == bob.ap_id

    expanded = expand(actor)
    assert expanded[0]["@type"] == [f"{AS}Person"]
    assert first(expanded, f"{AS}manuallyApprovesFollowers")["@value"] is True
    assert first(expanded, f"{AS}movedTo") == {"@id": bob.ap_id}
    assert first(expanded, f"{SEC}publicKey")["@id"] == f"{ap_id}#main-key"
    assert first(expanded, "http://joinmastodon.org/ns#featured") == {"@id": actor["featured"]}
    field = first(expanded, f"{AS}attachment")
    assert field["@type"] == ["http://schema.org#PropertyValue"]


def test_bot_is_a_service_without_images(account):
    account.actor_type = "Service"
    db.session.commit()
    actor = documents.actor(account)
    assert actor["type"] == "Service"
    assert "icon" not in actor and "image" not in actor and "movedTo" not in actor
    assert actor["tag"] == [] and actor["attachment"] == []
    expand(actor)


def test_instance_actor_is_an_application_with_a_kept_key(app: Flask):
    actor = documents.instance_actor()
    ap_id = f"{BASE_URL}/internal/fetch"
    assert actor["id"] == ap_id
    assert actor["type"] == "Application"
    assert actor["preferredUsername"] == "internal.fetch"
    assert actor["inbox"] == f"{ap_id}/inbox"
    assert actor["publicKey"]["id"] == f"{ap_id}#main-key"
    assert actor["publicKey"]["owner"] == ap_id
    assert actor["publicKey"]["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----")
    expand(actor)
    # One pair, kept owner-only in the instance folder, the same at every call.
    private, public = keys.instance_actor_keys(Path(app.instance_path))
    assert private.startswith("-----BEGIN PRIVATE KEY-----")
    assert public == actor["publicKey"]["publicKeyPem"]
    assert documents.instance_actor()["publicKey"] == actor["publicKey"]
    mode = os.stat(Path(app.instance_path) / "instance_actor.pem").st_mode
    assert stat.S_IMODE(mode) == 0o600


# ---- Notes


def test_note_has_every_field(app, client, post, alice_h, account, bob, emoji_pack):
    parent = post(alice_h, status="first")
    quoted = post(alice_h, status="quoted")
    media = upload(client, alice_h, description="a red square").get_json()
    status = post(
        alice_h,
        status="hey @bob #Kenoma :kenoma:",
        spoiler_text="cw",
        sensitive=True,
        in_reply_to_id=parent.id,
        quote_id=quoted.id,
        media_ids=[media["id"]],
        language="en",
    )

    note = documents.note(status)

    assert note["id"] == status.uri and status.uri.startswith(f"{BASE_URL}/objects/")
    assert note["type"] == "Note"
    assert note["attributedTo"] == account.ap_id
    assert note["content"] == status.content and "Kenoma" in note["content"]
    assert note["source"] == {"content": "hey @bob #Kenoma :kenoma:", "mediaType": "text/plain"}
    assert note["contentMap"] == {"en": note["content"]}
    assert note["summary"] == "cw"
    assert note["sensitive"] is True
    assert note["published"].endswith("Z")
    assert "updated" not in note
    assert note["inReplyTo"] == parent.uri
    assert note["context"] == note["conversation"] == f"{BASE_URL}/contexts/{parent.context.uri}"
    assert note["quoteUrl"] == quoted.uri
    assert note["url"] == f"{BASE_URL}/notice/{status.id}"
    assert note["tag"] == [
        {"type": "Mention", "href": bob.ap_id, "name": "@bob@127.0.0.1:5000"},
        {"type": "Hashtag", "href": f"{BASE_URL}/tags/kenoma", "name": "#kenoma"},
        {
            "id": emoji_pack,
            "type": "Emoji",
            "name": ":kenoma:",
            "icon": {"type": "Image", "mediaType": "image/png", "url": emoji_pack},
            "updated": "1970-01-01T00:00:00Z",
        },
    ]
    [attachment] = note["attachment"]
    assert attachment["type"] == "Document"
    assert attachment["mediaType"] == "image/png"
    assert attachment["url"] == media["url"]
    assert attachment["name"] == "a red square"

    expanded = expand(note)
    assert expanded[0]["@type"] == [f"{AS}Note"]
    assert first(expanded, f"{AS}inReplyTo") == {"@id": parent.uri}
    assert first(expanded, f"{AS}sensitive")["@value"] is True
    assert {"@value": note["content"], "@language": "en"} in expanded[0][f"{AS}content"]
    assert first(expanded, "http://ostatus.org#conversation") == {"@id": note["context"]}
    types = {tag["@type"][0] for tag in expanded[0][f"{AS}tag"]}
    assert types == {f"{AS}Mention", f"{AS}Hashtag", "http://joinmastodon.org/ns#Emoji"}


def test_edited_note_has_updated(client, post, alice_h):
    status = post(alice_h, status="before")
    response = client.put(f"/api/v1/statuses/{status.id}", json={"status": "after"}, headers=alice_h)
    assert response.status_code == 200, response.get_json()
    db.session.refresh(status)
    note = documents.note(status)
    assert note["updated"].endswith("Z")
    assert note["source"]["content"] == "after"
    update = documents.update_note(status, f"{BASE_URL}/activities/u1")
    assert update["type"] == "Update" and update["object"]["id"] == status.uri
    expand(update)


def _poll_status(post, headers, multiple: bool = False) -> Status:
    return post(
        headers,
        status="which?",
        poll={"options": ["a", "b :kenoma:"], "expires_in": 3600, "multiple": multiple},
    )


def test_poll_is_a_question(client, post, alice_h, bob_h, carol_h, emoji_pack):
    status = _poll_status(post, alice_h)
    poll = db.session.query(Poll).filter_by(status_id=status.id).one()
    for headers, choice in ((bob_h, 1), (carol_h, 1)):
        assert (
            client.post(
                f"/api/v1/polls/{poll.id}/votes", json={"choices": [choice]}, headers=headers
            ).status_code
            == 200
        )

    question = documents.note(status)

    assert question["type"] == "Question"
    assert question["oneOf"] == [
        {"type": "Note", "name": "a", "replies": {"type": "Collection", "totalItems": 0}},
        {"type": "Note", "name": "b :kenoma:", "replies": {"type": "Collection", "totalItems": 2}},
    ]
    assert "anyOf" not in question and "closed" not in question
    assert question["endTime"].endswith("Z")
    assert question["votersCount"] == 2
    assert [t["name"] for t in question["tag"]] == [":kenoma:"]  # from an option title
    expanded = expand(question)
    assert expanded[0]["@type"] == [f"{AS}Question"]
    assert len(expanded[0][f"{AS}oneOf"]) == 2


def test_multiple_choice_ended_poll(post, alice_h):
    status = _poll_status(post, alice_h, multiple=True)
    poll = db.session.query(Poll).filter_by(status_id=status.id).one()
    poll.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    question = documents.note(status)
    assert [o["name"] for o in question["anyOf"]] == ["a", "b :kenoma:"]
    assert "oneOf" not in question
    assert question["closed"] == question["endTime"]
    expand(question)


def test_poll_vote_is_a_create_of_a_named_note(post, alice_h, account, bob):
    status = _poll_status(post, alice_h)
    vote = documents.poll_vote(bob, status, "a", f"{BASE_URL}/objects/v1", f"{BASE_URL}/activities/v1")
    assert vote["type"] == "Create" and vote["actor"] == bob.ap_id and vote["to"] == [account.ap_id]
    assert vote["object"] == {
        "id": f"{BASE_URL}/objects/v1",
        "type": "Note",
        "attributedTo": bob.ap_id,
        "name": "a",
        "inReplyTo": status.uri,
        "to": [account.ap_id],
        "cc": [],
    }
    expand(vote)


def test_poll_totals_kept_back_stay_back(client, post, alice_h, bob_h):
    status = post(alice_h, status="q", poll={"options": ["a", "b"], "expires_in": 3600, "hide_totals": True})
    poll = db.session.query(Poll).filter_by(status_id=status.id).one()
    client.post(f"/api/v1/polls/{poll.id}/votes", json={"choices": [0]}, headers=bob_h)
    question = documents.note(status)
    assert [o["replies"]["totalItems"] for o in question["oneOf"]] == [0, 0]


def test_notes_of_a_page_take_constant_queries(post, alice_h, bob, count_queries):
    ids = [post(alice_h, status=f"@bob #t{i} post {i}", media_ids=[]).id for i in range(10)]

    def render(wanted: list[str]) -> list[dict]:
        statuses = list(db.session.scalars(select(Status).where(Status.id.in_(wanted))))
        return documents.note_objects(statuses)

    with count_queries() as one:
        render(ids[:1])
    with count_queries() as ten:
        rendered = render(ids)
    assert len(rendered) == 10 and all(len(n["tag"]) == 2 for n in rendered)
    assert ten.count == one.count <= 6


# ---- Activities


def _ids(n: int) -> list[str]:
    return [f"{BASE_URL}/activities/{i}" for i in range(n)]


def test_create_and_announce(client, post, alice_h, bob_h, account, bob):
    status = post(alice_h, status="hello")
    create = documents.create(status)
    assert create["id"] == f"{status.uri}/activity"
    assert create["type"] == "Create"
    assert create["actor"] == account.ap_id
    assert create["object"]["id"] == status.uri and "@context" not in create["object"]
    assert (create["to"], create["cc"]) == (create["object"]["to"], create["object"]["cc"])
    assert documents.create(status, "https://x/activities/1")["id"] == "https://x/activities/1"
    expand(create)

    reblog_id = client.post(f"/api/v1/statuses/{status.id}/reblog", headers=bob_h).get_json()["id"]
    reblog = db.session.get(Status, reblog_id)
    announce = documents.announce(reblog)
    assert announce["id"] == reblog.uri
    assert announce["type"] == "Announce"
    assert announce["actor"] == bob.ap_id
    assert announce["object"] == status.uri
    assert announce["to"] == [PUBLIC]
    assert announce["cc"] == [f"{bob.ap_id}/followers", account.ap_id]
    expand(announce)


def test_interactions(post, alice_h, account, bob, emoji_pack):
    status = post(alice_h, status="hello")
    like_id, react_id, custom_id = _ids(3)

    like = documents.like(bob, status, like_id)
    assert like["type"] == "Like" and like["object"] == status.uri and like["actor"] == bob.ap_id
    assert like["to"] == [f"{bob.ap_id}/followers", account.ap_id] and like["cc"] == [PUBLIC]

    react = documents.emoji_react(bob, status, "👍", None, react_id)
    assert react["type"] == "EmojiReact" and react["content"] == "👍" and "tag" not in react

    custom = documents.emoji_react(bob, status, "kenoma", emoji_pack, custom_id)
    assert custom["content"] == ":kenoma:"
    assert custom["tag"] == [
        {
            "id": emoji_pack,
            "type": "Emoji",
            "name": ":kenoma:",
            "icon": {"type": "Image", "mediaType": "image/png", "url": emoji_pack},
        }
    ]
    assert (
        documents.emoji_react(bob, status, ":blob@x.example:", "https://x.example/b.gif", react_id)["content"]
        == ":blob:"
    )
    for document in (like, react, custom):
        expand(document)
    expanded = expand(custom)
    assert expanded[0]["@type"] == ["http://litepub.social/ns#EmojiReact"]

    undo = documents.undo(bob, like, _ids(4)[3])
    assert undo["type"] == "Undo" and undo["object"]["id"] == like_id and "@context" not in undo["object"]
    assert undo["to"] == like["to"] and undo["cc"] == like["cc"]
    expand(undo)


def test_follow_accept_reject_block(account, bob):
    follow_id, accept_id, reject_id, block_id = _ids(4)
    follow = documents.follow(bob, account, follow_id)
    assert follow == {
        "@context": documents.CONTEXT,
        "id": follow_id,
        "type": "Follow",
        "actor": bob.ap_id,
        "object": account.ap_id,
        "to": [account.ap_id],
        "cc": [],
    }
    accept = documents.accept(account, follow, accept_id)
    assert accept["type"] == "Accept" and accept["actor"] == account.ap_id
    assert accept["object"]["id"] == follow_id and "@context" not in accept["object"]
    assert accept["to"] == [bob.ap_id]
    reject = documents.reject(account, follow_id, reject_id, follower=bob.ap_id)
    assert reject["object"] == follow_id and reject["to"] == [bob.ap_id]
    block = documents.block(account, bob, block_id)
    assert block["type"] == "Block" and block["object"] == bob.ap_id and block["to"] == [bob.ap_id]
    for document in (follow, accept, reject, block):
        expand(document)


def test_delete_update_move_flag_add_remove(post, alice_h, account, bob):
    status = post(alice_h, status="pinned")
    ids = _ids(7)

    delete = documents.delete(status.uri, account, ids[0])
    assert delete["object"] == {"id": status.uri, "type": "Tombstone"}
    assert delete["to"] == [PUBLIC] and delete["cc"] == [f"{account.ap_id}/followers"]
    gone = documents.delete(account.ap_id, account, ids[1])
    assert gone["object"] == account.ap_id  # the account itself

    update = documents.update_actor(account, ids[2])
    assert update["type"] == "Update" and update["object"]["id"] == account.ap_id
    assert "@context" not in update["object"]

    move = documents.move(account, bob, ids[3])
    assert (move["object"], move["target"]) == (account.ap_id, bob.ap_id)

    flag = documents.flag(None, bob, [status], "spam", ids[4])
    assert flag["actor"] == f"{BASE_URL}/internal/fetch"
    assert flag["object"] == [bob.ap_id, status.uri] and flag["content"] == "spam"
    assert documents.flag(account, bob, [], "", ids[4])["actor"] == account.ap_id

    add = documents.add(account, status, ids[5])
    remove = documents.remove(account, status, ids[6])
    assert add["type"] == "Add" and remove["type"] == "Remove"
    assert add["target"] == remove["target"] == f"{account.ap_id}/collections/featured"
    assert add["object"] == status.uri

    tombstone = documents.with_context(documents.tombstone(status.uri, "Note", utcnow()))
    assert tombstone["formerType"] == "Note" and tombstone["deleted"].endswith("Z")
    for document in (delete, gone, update, move, flag, add, remove, tombstone):
        expand(document)


def test_collections_expand(account: Account):
    head = documents.ordered_collection(f"{account.ap_id}/outbox", 3, f"{account.ap_id}/outbox?page=true")
    page = documents.ordered_collection_page(
        f"{account.ap_id}/outbox?page=true", f"{account.ap_id}/outbox", ["https://x/1"], "https://x/next", 3
    )
    assert head["first"] == f"{account.ap_id}/outbox?page=true" and head["totalItems"] == 3
    assert page["next"] == "https://x/next" and page["partOf"] == f"{account.ap_id}/outbox"
    expand(head)
    expanded = expand(page)
    assert expanded[0][f"{AS}items"][0]["@list"] == [{"@id": "https://x/1"}]
