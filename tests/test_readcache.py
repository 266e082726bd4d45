"""Kept answers (readcache.py): served while the database, the packs and the reader's mutes are
unchanged, never after."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine
from sqlalchemy import event
from sqlalchemy import text

from app import create_app
from models import Account
from models import db
from readcache import Kept
from readcache import Store
from services.accounts import create_local_account
from tests import scaled
from tests.conftest import copy_fixture_pack
from tests.conftest import password_token

HOME = "/api/v1/timelines/home"
PUBLIC = "/api/v1/timelines/public"


@pytest.fixture
def bob(make_account) -> Account:
    return make_account("bob")


@pytest.fixture
def alice_h(account, auth_headers) -> dict:
    return auth_headers(account)


@pytest.fixture
def bob_h(bob, auth_headers) -> dict:
    return auth_headers(bob)


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    seen: list[str] = []
    caller = threading.get_ident()  # the test client's requests; not the job consumer's sweeps

    def count(*args: object) -> None:
        if threading.get_ident() == caller:
            seen.append(str(args[2]))

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def post(client: FlaskClient, headers: dict, **data: object) -> dict:
    response = client.post("/api/v1/statuses", headers=headers, data=data)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def follow(client: FlaskClient, headers: dict, target: Account) -> None:
    assert client.post(f"/api/v1/accounts/{target.id}/follow", headers=headers).status_code == 200


@pytest.fixture
def counted(tmp_path: Path) -> Iterator[tuple[Flask, FlaskClient, dict]]:
    """A client of an app that answers X-Kenoma-Queries (the bench's statement counter, which
    counts the probe's statements too), with no app context held across requests, as a real
    server has none; and alice's headers."""
    folder = tmp_path / "counted"
    (folder / "emoji").mkdir(parents=True)
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(folder / "instance"),
            "EMOJI_DIR": str(folder / "emoji"),
            "RATELIMIT_ENABLED": False,
            "QUERY_COUNT_HEADER": True,
            # Jobs run in the request that queues them: a consumer thread committing between two
            # reads would retire the answer the second read must find kept.
            "JOBS_IMMEDIATE": True,
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_COST": 64,
        }
    )
    with app.app_context():
        db.create_all()
        create_local_account("alice", "secret-pw", email="alice@example.org")
    client = app.test_client()
    registered = client.post(
        "/api/v1/apps",
        data={"client_name": "t", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read write"},
    ).get_json()
    token = password_token(client, registered, "alice", "read write")
    yield app, client, {"Authorization": f"Bearer {token}"}
    with app.app_context():
        db.engine.dispose()


def test_a_repeated_read_is_one_statement_and_the_same_answer(counted):
    app, client, alice_h = counted
    post(client, alice_h, status="hello #kept")
    first = client.get(HOME, headers=alice_h)
    with app.app_context(), statements(app) as seen:  # no session statement: the probe answers
        again = client.get(HOME, headers=alice_h)
    assert int(first.headers["X-Kenoma-Queries"]) > 1
    assert again.headers["X-Kenoma-Queries"] == "1"  # the token lookup, nothing else
    assert again.status_code == 200 and seen == []
    assert again.get_data() == first.get_data()
    assert again.headers["Link"] == first.headers["Link"]
    assert again.headers["Content-Type"] == "application/json"


def test_anonymous_reads_are_kept_with_one_statement(counted):
    _, client, alice_h = counted
    post(client, alice_h, status="public words")
    first = client.get(PUBLIC)
    again = client.get(PUBLIC)
    assert again.get_json() == first.get_json() and len(again.get_json()) == 1
    assert again.headers["X-Kenoma-Queries"] == "1"  # the probe's data_version


def test_a_write_through_the_api_retires_the_answer(client, account, bob, alice_h, bob_h):
    follow(client, alice_h, bob)
    status = post(client, bob_h, status="like me")
    assert client.get(HOME, headers=alice_h).get_json()[0]["favourited"] is False
    assert client.post(f"/api/v1/statuses/{status['id']}/favourite", headers=alice_h).status_code == 200
    fresh = client.get(HOME, headers=alice_h).get_json()[0]
    assert fresh["favourited"] is True and fresh["favourites_count"] == 1


def test_a_write_by_another_connection_retires_the_answer(app, client, account, alice_h):
    status = post(client, alice_h, status="before")
    assert client.get(PUBLIC).get_json()[0]["content"] == "before"
    # Another process (a second worker or app server, the CLI, a sqlite3 or psql shell) commits
    # behind the app's back: a connection of its own, not the app's pool.
    other = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with other.begin() as connection:
        connection.execute(text("UPDATE status SET content = 'after' WHERE id = :id"), {"id": status["id"]})
    other.dispose()
    assert client.get(PUBLIC).get_json()[0]["content"] == "after"


def test_each_reader_has_their_own_answer(client, account, bob, alice_h, bob_h):
    status = post(client, alice_h, status="mine")
    client.post(f"/api/v1/statuses/{status['id']}/favourite", headers=bob_h)
    as_alice = client.get(PUBLIC, headers=alice_h).get_json()[0]
    as_bob = client.get(PUBLIC, headers=bob_h).get_json()[0]
    anonymous = client.get(PUBLIC).get_json()[0]
    assert (as_alice["favourited"], as_bob["favourited"], anonymous["favourited"]) == (False, True, False)


def test_a_timed_mute_ends_the_answer_when_it_ends(client, account, bob, alice_h, bob_h):
    post(client, bob_h, status="quiet for a second")
    muted = client.post(f"/api/v1/accounts/{bob.id}/mute", headers=alice_h, data={"duration": 1})
    assert muted.status_code == 200
    assert client.get(PUBLIC, headers=alice_h).get_json() == []
    time.sleep(1.1)  # nothing is written when a mute runs out: only the clock says so
    assert [s["content"] for s in client.get(PUBLIC, headers=alice_h).get_json()] == ["quiet for a second"]


def test_a_pack_change_on_disk_retires_the_answer(app, client, account, alice_h):
    post(client, alice_h, status="look :blank:")
    assert client.get(PUBLIC).get_json()[0]["emojis"] == []
    copy_fixture_pack(app, "test_pack")  # a pack with :blank: appears, no database write
    emojis = client.get(PUBLIC).get_json()[0]["emojis"]
    assert [e["shortcode"] for e in emojis] == ["blank"]


def test_errors_and_other_pages_are_not_mixed_up(client, account, alice_h):
    first = post(client, alice_h, status="one")
    post(client, alice_h, status="two")
    assert len(client.get(PUBLIC + "?limit=1").get_json()) == 1
    assert len(client.get(PUBLIC + "?limit=2").get_json()) == 2
    assert client.get(f"{PUBLIC}?limit=1&max_id={first['id']}").get_json() == []
    assert client.get(PUBLIC + "?limit=zero").status_code == 400
    assert client.get(PUBLIC + "?limit=zero").status_code == 400


def test_a_revoked_token_is_refused_even_with_a_kept_answer(client, account, alice_h, oauth_app):
    assert client.get(HOME, headers=alice_h).status_code == 200
    token = alice_h["Authorization"].split()[1]
    revoked = client.post(
        "/oauth/revoke",
        data={
            "token": token,
            "client_id": oauth_app["client_id"],
            "client_secret": oauth_app["client_secret"],
        },
    )
    assert revoked.status_code == 200
    assert client.get(HOME, headers=alice_h).status_code == 403


def test_the_cache_can_be_turned_off(app, client, account, alice_h):
    app.config["READ_CACHE"] = False
    post(client, alice_h, status="uncached")
    client.get(HOME, headers=alice_h)
    with statements(app) as seen:
        assert client.get(HOME, headers=alice_h).status_code == 200
    assert len(seen) > 1


def test_the_store_is_bounded_in_bytes():
    store = Store(max_bytes=1000)
    for n in range(10):
        store.put((n,), Kept((), None, b"x" * 200, 200, []))
    assert store.size <= 1000 and store.get((0,)) is None and store.get((9,)) is not None
    store.put(("huge",), Kept((), None, b"x" * 600, 200, []))  # more than a quarter: not kept
    assert store.get(("huge",)) is None and store.size <= 1000


def test_the_threads_of_a_process_share_kept_answers_on_postgresql(counted):
    """PostgreSQL's snapshot means the same to every probe: a page built by one request thread is
    served by another with the probe's one statement. SQLite's data_version counts per connection,
    so there each thread's probe keeps answers of its own."""
    app, client, alice_h = counted
    post(client, alice_h, status="one page for every thread")
    first = client.get(HOME, headers=alice_h)
    answers = []
    other = threading.Thread(target=lambda: answers.append(app.test_client().get(HOME, headers=alice_h)))
    other.start()
    other.join(30)
    (again,) = answers
    assert again.status_code == 200 and again.get_data() == first.get_data()
    if scaled.SCALED:
        assert again.headers["X-Kenoma-Queries"] == "1"
    else:
        assert int(again.headers["X-Kenoma-Queries"]) > 1
