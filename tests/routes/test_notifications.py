"""Mastodon notifications (SPEC 7)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from models import Account
from models import Block
from models import Mute
from models import Notification
from models import Status
from models import ThreadMute
from models import db
from models import utcnow
from services.notifications import notify
from services.statuses import NewStatus
from services.statuses import post_status
from tests.conftest import basic_headers

URL = "/api/v1/notifications"


def post(author: Account, text: str, **kwargs: object) -> Status:
    return post_status(author, NewStatus(text=text, **kwargs))


def add(recipient: Account, actor: Account, type_: str, **kwargs: object) -> Notification:
    notification = notify(recipient, actor, type_, **kwargs)
    assert notification is not None
    db.session.commit()
    return notification


def mention(recipient: Account, actor: Account, **kwargs: object) -> Notification:
    """The notification of a status by `actor` mentioning `recipient`."""
    status = post(actor, f"hey @{recipient.nickname}", **kwargs)
    return db.session.scalars(
        select(Notification).where(
            Notification.status_id == status.id, Notification.account_id == recipient.id
        )
    ).one()


def ids(response: object) -> list[int]:
    """The ids listed, as numbers: each is a decimal string below 2^53 (SPEC 1.6)."""
    listed = [n["id"] for n in response.get_json()]  # type: ignore[attr-defined]
    assert all(isinstance(i, str) and i.isdigit() and int(i) < 2**53 for i in listed)
    return [int(i) for i in listed]


@pytest.fixture
def people(make_account: Callable[..., Account]) -> dict[str, Account]:
    return {name: make_account(name) for name in ("alice", "bob", "carol")}


# ---------------------------------------------------------------------------------------------
# GET /api/v1/notifications


def test_list_notifications_newest_first_with_entities(
    client: FlaskClient, auth_headers: Callable[..., dict], people: dict[str, Account]
) -> None:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    mentioned = mention(alice, bob)
    followed = add(alice, carol, "follow")
    liked = add(alice, bob, "favourite", status=post(alice, "like me"))

    response = client.get(URL, headers=auth_headers(alice))

    assert response.status_code == 200
    body = response.get_json()
    assert ids(response) == [liked.id, followed.id, mentioned.id]
    assert body[0]["type"] == "favourite" and body[0]["status"]["content"] == "like me"
    assert body[1]["type"] == "follow" and body[1]["account"]["acct"] == "carol"
    assert "status" not in body[1]
    assert body[2]["status"]["id"] == mentioned.status_id
    assert body[2]["pleroma"] == {"is_seen": False, "is_muted": False}
    assert body[2]["created_at"].endswith("Z")
    assert f"max_id={mentioned.id}" in response.headers["Link"]


def test_list_notifications_needs_auth_and_scope(
    client: FlaskClient, auth_headers: Callable[..., dict], account: Account
) -> None:
    assert client.get(URL).get_json() == {"error": "Invalid credentials."}
    response = client.get(URL, headers=auth_headers(account, "read:statuses write"))
    assert response.status_code == 403
    assert response.get_json() == {"error": "Insufficient permissions: read:notifications."}
    assert client.get(URL, headers=auth_headers(account, "read:notifications")).status_code == 200
    assert client.get(URL, headers=basic_headers("alice")).status_code == 200


def test_list_notifications_type_filters(
    client: FlaskClient, auth_headers: Callable[..., dict], people: dict[str, Account]
) -> None:
    alice, bob = people["alice"], people["bob"]
    mentioned = mention(alice, bob)
    followed = add(alice, bob, "follow")
    report = add(alice, bob, "pleroma:report")
    chat = add(alice, bob, "pleroma:chat_mention")
    headers = auth_headers(alice)

    def listed(query: str = "") -> list[int]:
        return ids(client.get(f"{URL}?{query}", headers=headers))

    assert listed() == [followed.id, mentioned.id]  # reports and chats only when asked for
    assert listed("types[]=follow") == [followed.id]
    assert listed("include_types[]=mention&include_types[]=pleroma:report") == [report.id, mentioned.id]
    assert listed("types[]=pleroma:chat_mention") == [chat.id]
    assert listed("exclude_types[]=follow") == [mentioned.id]
    assert listed("types[]=follow&types[]=mention&exclude_types[]=mention") == [followed.id]
    # Unknown type names (Mastodon's newer ones) are ignored, not refused.
    assert listed("exclude_types[]=admin.sign_up&exclude_types[]=status") == [followed.id, mentioned.id]


def test_list_notifications_by_account(
    client: FlaskClient, auth_headers: Callable[..., dict], people: dict[str, Account]
) -> None:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    from_bob = add(alice, bob, "follow")
    add(alice, carol, "follow")
    headers = auth_headers(alice)

    assert ids(client.get(f"{URL}?account_id={bob.id}", headers=headers)) == [from_bob.id]
    response = client.get(f"{URL}?account_id=nobody", headers=headers)
    assert response.status_code == 404
    assert response.get_json() == {"error": "Account is not found"}


def test_list_notifications_statement_built_once_binds_reader_and_account_per_request(
    client: FlaskClient, auth_headers: Callable[..., dict], people: dict[str, Account]
) -> None:
    """The list's statement is cached per filter combination: the reader and the account
    filter are bind parameters, never values baked in by the first request."""
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    bob_to_alice = add(alice, bob, "follow")
    carol_to_alice = add(alice, carol, "follow")
    alice_to_bob = add(bob, alice, "follow")
    carol_to_bob = add(bob, carol, "follow")

    assert ids(client.get(URL, headers=auth_headers(alice))) == [carol_to_alice.id, bob_to_alice.id]
    assert ids(client.get(URL, headers=auth_headers(bob))) == [carol_to_bob.id, alice_to_bob.id]
    by_carol = f"{URL}?account_id={carol.id}"
    assert ids(client.get(by_carol, headers=auth_headers(alice))) == [carol_to_alice.id]
    assert ids(client.get(by_carol, headers=auth_headers(bob))) == [carol_to_bob.id]
    assert ids(client.get(f"{URL}?account_id={alice.id}", headers=auth_headers(bob))) == [alice_to_bob.id]


def test_list_notifications_exclude_visibilities(
    client: FlaskClient, auth_headers: Callable[..., dict], people: dict[str, Account]
) -> None:
    alice, bob = people["alice"], people["bob"]
    public_mention = mention(alice, bob)
    direct_mention = mention(alice, bob, visibility="direct")
    liked_private = add(alice, bob, "favourite", status=post(alice, "for followers", visibility="private"))
    followed = add(alice, bob, "follow")
    headers = auth_headers(alice)

    assert ids(client.get(URL, headers=headers)) == [
        followed.id,
        liked_private.id,
        direct_mention.id,
        public_mention.id,
    ]
    response = client.get(
        f"{URL}?exclude_visibilities[]=direct&exclude_visibilities[]=private", headers=headers
    )
    assert ids(response) == [followed.id, public_mention.id]
    response = client.get(f"{URL}?exclude_visibilities[]=sideways", headers=headers)
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("exclude_visibilities")


def test_list_notifications_hides_muted_unless_with_muted(
    client: FlaskClient, auth_headers: Callable[..., dict], make_account: Callable[..., Account]
) -> None:
    alice, loud, quiet, gone = (make_account(n) for n in ("alice", "loud", "quiet", "gone"))
    # Created before the mutes: the filter applies when listing, not when notifying.
    from_loud = add(alice, loud, "follow")
    from_quiet = add(alice, quiet, "follow")
    from_gone = add(alice, gone, "follow")
    db.session.add_all(
        [
            Mute(account_id=alice.id, target_id=loud.id),  # mutes notifications by default
            Mute(account_id=alice.id, target_id=quiet.id, hide_notifications=False),
            Mute(account_id=alice.id, target_id=gone.id, expires_at=utcnow() - timedelta(seconds=1)),
        ]
    )
    db.session.commit()
    headers = auth_headers(alice)

    assert ids(client.get(URL, headers=headers)) == [from_gone.id, from_quiet.id]
    response = client.get(f"{URL}?with_muted=true", headers=headers)
    assert ids(response) == [from_gone.id, from_quiet.id, from_loud.id]
    assert [n["pleroma"]["is_muted"] for n in response.get_json()] == [False, True, True]


def test_list_notifications_hides_blocked_and_muted_threads(
    client: FlaskClient, auth_headers: Callable[..., dict], people: dict[str, Account]
) -> None:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    add(alice, bob, "follow")
    thread = post(alice, "my thread")
    in_muted_thread = add(alice, carol, "favourite", status=thread)
    kept = add(alice, carol, "follow")
    db.session.add_all(
        [
            Block(account_id=alice.id, target_id=bob.id),
            ThreadMute(account_id=alice.id, context_id=thread.context_id),
        ]
    )
    db.session.commit()
    headers = auth_headers(alice)

    assert ids(client.get(URL, headers=headers)) == [kept.id]
    assert ids(client.get(f"{URL}?with_muted=true", headers=headers)) == [kept.id, in_muted_thread.id]


def test_list_notifications_filters_before_limit(
    client: FlaskClient, auth_headers: Callable[..., dict], people: dict[str, Account]
) -> None:
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    wanted = [add(alice, bob, "follow") for _ in range(3)]
    for _ in range(3):  # the newest rows are all filtered out
        add(alice, carol, "follow")
    db.session.add(Mute(account_id=alice.id, target_id=carol.id))
    db.session.commit()

    response = client.get(f"{URL}?limit=2", headers=auth_headers(alice))

    assert ids(response) == [wanted[2].id, wanted[1].id]


def test_list_notifications_paging(
    client: FlaskClient, auth_headers: Callable[..., dict], people: dict[str, Account]
) -> None:
    alice, bob = people["alice"], people["bob"]
    made = [add(alice, bob, "follow").id for _ in range(5)]
    headers = auth_headers(alice)

    def page(query: str) -> list[int]:
        return ids(client.get(f"{URL}?{query}", headers=headers))

    assert page("limit=2") == [made[4], made[3]]
    assert page(f"max_id={made[3]}&limit=2") == [made[2], made[1]]
    assert page(f"since_id={made[1]}&limit=2") == [made[4], made[3]]
    assert page(f"min_id={made[1]}&limit=2") == [made[3], made[2]]
    response = client.get(f"{URL}?limit=2&types[]=follow", headers=headers)
    link = response.headers["Link"]
    assert f"max_id={made[3]}" in link and f"min_id={made[4]}" in link
    assert "types%5B%5D=follow" in link and "limit=2" in link


def test_list_notifications_queries_do_not_grow_with_page_size(
    client: FlaskClient,
    auth_headers: Callable[..., dict],
    make_account: Callable[..., Account],
    count_queries: Callable,
) -> None:
    alice = make_account("alice")
    others = [make_account(f"user{n}") for n in range(3)]
    mine = post(alice, "my post #tagged")
    for n in range(45):
        actor = others[n % 3]
        if n % 3 == 0:
            add(alice, actor, "follow")
        elif n % 3 == 1:
            add(alice, actor, "favourite", status=mine)
        else:  # the newest is a mention, so both pages render statuses
            post(actor, f"@alice hello {n} #hi", in_reply_to_id=mine.id)
    headers = auth_headers(alice)
    client.get(f"{URL}?limit=1", headers=headers)  # warm-up

    with count_queries() as one:
        assert len(ids(client.get(f"{URL}?limit=1", headers=headers))) == 1
    with count_queries() as forty:
        assert len(ids(client.get(f"{URL}?limit=40", headers=headers))) == 40

    assert one.count == forty.count, forty.statements


# ---------------------------------------------------------------------------------------------
# One notification


def test_get_notification(
    client: FlaskClient, auth_headers: Callable[..., dict], people: dict[str, Account]
) -> None:
    alice, bob = people["alice"], people["bob"]
    mine = add(alice, bob, "follow")
    theirs = add(bob, alice, "follow")
    headers = auth_headers(alice)

    response = client.get(f"{URL}/{mine.id}", headers=headers)
    assert response.status_code == 200
    assert response.get_json()["id"] == str(mine.id) and response.get_json()["type"] == "follow"
    for other in (theirs.id, "missing"):
        response = client.get(f"{URL}/{other}", headers=headers)
        assert response.status_code == 403
        assert response.get_json() == {"error": "Cannot get notification"}
    assert client.get(f"{URL}/{mine.id}").get_json() == {"error": "Invalid credentials."}


def test_clear_notifications(
    client: FlaskClient, auth_headers: Callable[..., dict], people: dict[str, Account]
) -> None:
    alice, bob = people["alice"], people["bob"]
    add(alice, bob, "follow")
    mention(alice, bob)
    theirs = add(bob, alice, "follow")

    response = client.post(f"{URL}/clear", headers=auth_headers(alice))

    assert response.status_code == 200 and response.get_json() == {}
    assert client.get(URL, headers=auth_headers(alice)).get_json() == []
    assert db.session.get(Notification, theirs.id) is not None
    response = client.post(f"{URL}/clear", headers=auth_headers(alice, "read"))
    assert response.get_json() == {"error": "Insufficient permissions: write:notifications."}


def test_dismiss_notification(
    client: FlaskClient, auth_headers: Callable[..., dict], people: dict[str, Account]
) -> None:
    alice, bob = people["alice"], people["bob"]
    first = add(alice, bob, "follow")
    second = add(alice, bob, "follow")
    theirs = add(bob, alice, "follow")
    headers = auth_headers(alice)

    response = client.post(f"{URL}/{first.id}/dismiss", headers=headers)
    assert response.status_code == 200 and response.get_json() == {}
    # The legacy form takes the id in the body (form or JSON).
    response = client.post(f"{URL}/dismiss", json={"id": second.id}, headers=headers)
    assert response.status_code == 200 and response.get_json() == {}
    assert client.get(URL, headers=headers).get_json() == []

    for url, body in ((f"{URL}/{theirs.id}/dismiss", None), (f"{URL}/dismiss", {"id": "missing"})):
        response = client.post(url, data=body, headers=headers)
        assert response.status_code == 403
        assert response.get_json() == {"error": "Cannot dismiss notification"}
    assert db.session.get(Notification, theirs.id) is not None

    response = client.post(f"{URL}/dismiss", headers=headers)
    assert response.status_code == 400 and response.get_json() == {"error": "Missing field: id."}
    assert client.post(f"{URL}/{theirs.id}/dismiss").get_json() == {"error": "Invalid credentials."}


def test_destroy_multiple_notifications(
    client: FlaskClient, auth_headers: Callable[..., dict], people: dict[str, Account]
) -> None:
    alice, bob = people["alice"], people["bob"]
    gone = [add(alice, bob, "follow").id for _ in range(2)]
    kept = add(alice, bob, "follow")
    theirs = add(bob, alice, "follow")
    headers = auth_headers(alice)

    query = "&".join(f"ids[]={i}" for i in [*gone, theirs.id])
    response = client.delete(f"{URL}/destroy_multiple?{query}", headers=headers)

    assert response.status_code == 200 and response.get_json() == {}
    assert ids(client.get(URL, headers=headers)) == [kept.id]
    assert db.session.get(Notification, theirs.id) is not None
    response = client.delete(f"{URL}/destroy_multiple", headers=headers)
    assert response.status_code == 400 and response.get_json() == {"error": "Missing field: ids."}
    response = client.delete(f"{URL}/destroy_multiple?ids[]={kept.id}", headers=auth_headers(alice, "read"))
    assert response.status_code == 403


def test_notification_ids_page_as_numbers(
    client: FlaskClient, auth_headers: Callable[..., dict], people: dict[str, Account]
) -> None:
    """SPEC 1.6: "9" < "10" for since_id/max_id/min_id, as Pleroma-FE and Mastodon compare them."""
    alice, bob = people["alice"], people["bob"]
    made = [add(alice, bob, "follow").id for _ in range(11)]
    assert made == list(range(made[0], made[0] + 11))  # a sequence, one more each time
    headers = auth_headers(alice)
    nine, ten = made[8], made[9]

    def page(query: str) -> list[int]:
        return ids(client.get(f"{URL}?{query}", headers=headers))

    assert page(f"max_id={ten}&limit=2") == [nine, made[7]]
    assert page(f"since_id={nine}") == [made[10], ten]
    assert page(f"min_id={nine}&limit=1") == [ten]
    assert page(f"max_id={2**70}&limit=1") == [made[10]]  # past 2^53: clamped, not an error
    for bad in ("max_id=9hptFmVJ02khbzYJaS", "since_id=-1", "min_id=1.5"):
        response = client.get(f"{URL}?{bad}", headers=headers)
        assert response.status_code == 400
        assert response.get_json()["error"].endswith("Not a valid id.")
