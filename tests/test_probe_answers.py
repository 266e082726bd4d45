"""The answer's per-status facts (serializers/status_extras.py) on readcache's probe while the
request's Session has not begun, on the Session once it has (bench/README.md part M)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask import request
from sqlalchemy import event

import readcache
import serializers
from errors import ApiError
from models import Account
from models import Block
from models import Favourite
from models import Follow
from models import Status
from models import ThreadMute
from models import db
from services import interactions
from services import notifications
from services import reactions
from services.accounts import create_local_account
from services.statuses import NewStatus
from services.statuses import post_status
from tests.test_performance import bench_like  # noqa: F401 - the fixture
from tests.test_performance import statements


@pytest.fixture
def session_log(bench_like) -> Iterator[list[str]]:  # noqa: F811
    """The statements the app's pooled connections run (the probe's are not among them)."""
    client, _alice_h, _ids = bench_like
    with client.application.app_context():
        engine = db.engine
    log: list[str] = []

    def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        log.append(" ".join(sql.split()))

    event.listen(engine, "before_cursor_execute", statement)
    yield log
    event.remove(engine, "before_cursor_execute", statement)


WRITES = [
    # A favourite's and a reaction's notification checks come with the caller and the status
    # (interactions.account_and_status(..., notify_checks=True), bench/README.md part R).
    ("POST", "/api/v1/statuses/{id}/favourite", 6),
    ("POST", "/api/v1/statuses/{id}/unfavourite", 6),
    ("PUT", "/api/v1/pleroma/statuses/{id}/reactions/" + quote("🎉"), 5),
    ("PUT", "/api/v1/statuses/{id}/emoji_reactions/" + quote("👍"), 5),
]


def test_the_answer_of_a_write_reads_its_facts_on_the_probe(bench_like, session_log) -> None:  # noqa: F811
    """Counts as before (the probe's statement replaces the session's), and the answer is the
    one GET gives after the write."""
    client, alice_h, ids = bench_like
    for method, path, count in WRITES:
        session_log.clear()
        assert statements(client, method, path.format(id=ids["theirs"]), alice_h) == count, path
        # The answer's facts and the notification checks were read on the probe.
        assert not [sql for sql in session_log if sql.startswith("SELECT 'mention'")], path
        assert not [sql for sql in session_log if "push_subscription" in sql], path
        answer = client.open(path.format(id=ids["theirs"]), method=method, headers=alice_h).get_json()
        shown = client.get(f"/api/v1/statuses/{ids['theirs']}", headers=alice_h).get_json()
        assert answer == shown, path


def _fresh_session() -> None:
    """As a request of a real server begins: the test's Session closed, nothing begun."""
    db.session.remove()


def _loaded_then_ended(viewer_id: str, status_id: str) -> tuple[Account, Status]:
    """The viewer and the status loaded in a fresh Session, then that Session ended (the
    objects kept): nothing has begun, as in a request before its first write."""
    _fresh_session()
    viewer, found = db.session.get(Account, viewer_id), db.session.get(Status, status_id)
    db.session.close()
    return viewer, found


@pytest.fixture
def alice_and_bob(app: Flask) -> tuple[str, str]:
    alice = create_local_account("alice", "secret-pw", email="alice@example.org")
    bob = create_local_account("bob", "secret-pw", email="bob@example.org")
    return alice.id, bob.id


def _status(author_id: str, text: str) -> str:
    return post_status(db.session.get(Account, author_id), NewStatus(text=text)).id


@pytest.fixture
def probed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SQL of each readcache.probe_rows call, in order."""
    seen: list[str] = []
    probe_rows = readcache.probe_rows
    monkeypatch.setattr(readcache, "probe_rows", lambda sql, p: seen.append(sql) or probe_rows(sql, p))
    return seen


def test_a_status_read_on_the_probe_answers_as_on_the_session(app: Flask, alice_and_bob, probed) -> None:
    alice_id, bob_id = alice_and_bob
    sid = _status(alice_id, "hi @bob #tag")
    db.session.add(Favourite(account_id=bob_id, status_id=sid))
    db.session.commit()
    with app.test_request_context():
        _fresh_session()
        viewer, found = db.session.get(Account, bob_id), db.session.get(Status, sid)
        on_session = serializers.status_json(found, viewer)  # the loads above began the Session
        assert probed == []
        db.session.close()  # ended (the loaded objects kept): the next statement would begin another
        on_probe = serializers.status_json(found, viewer)
        assert len(probed) == 1
    assert on_probe == on_session
    assert on_probe["favourited"] is True


def test_an_answer_after_a_write_in_the_same_transaction_sees_the_write(app: Flask, alice_and_bob) -> None:
    alice_id, bob_id = alice_and_bob
    sid = _status(alice_id, "hi")
    with app.test_request_context():
        viewer, found = _loaded_then_ended(bob_id, sid)
        assert serializers.status_json(found, viewer)["favourited"] is False
        db.session.add(Favourite(account_id=bob_id, status_id=sid))  # not committed: probe can't see it
        assert serializers.status_json(found, viewer)["favourited"] is True
        db.session.rollback()
        assert serializers.status_json(found, viewer)["favourited"] is False


def test_the_probe_sees_the_session_s_commit(app: Flask, alice_and_bob, probed) -> None:
    """An answer rendered after the commit (DELETE reaction) reads on the probe: the commit is
    there."""
    alice_id, bob_id = alice_and_bob
    sid = _status(alice_id, "hi")
    with app.test_request_context():
        viewer, found = _loaded_then_ended(bob_id, sid)
        db.session.add(Favourite(account_id=bob_id, status_id=sid))
        db.session.commit()
        assert serializers.status_json(found, viewer)["favourited"] is True
        assert len(probed) == 1


def test_react_answering_answers_the_status_with_the_new_reaction(app: Flask, alice_and_bob) -> None:
    """services.reactions.react_answering: the answer of both PUT paths (Pleroma's, Akkoma's)."""
    alice_id, bob_id = alice_and_bob
    sid = _status(alice_id, "react to me")
    with app.test_request_context():
        viewer, found = db.session.get(Account, bob_id), db.session.get(Status, sid)
        with pytest.raises(ApiError) as refused:
            reactions.react_answering(viewer, found, "not an emoji")
        assert refused.value.status == 400
        answer = reactions.react_answering(viewer, found, "🎉")
        again = reactions.react_answering(viewer, found, "🎉")  # a no-op, the same answer
    [reaction] = answer["pleroma"]["emoji_reactions"]
    assert (reaction["name"], reaction["count"], reaction["me"]) == ("🎉", 1, True)
    assert reaction["account_ids"] == [bob_id]
    assert again == answer


def _normal(row: tuple) -> tuple:
    return (bool(row[0]), bool(row[1]), bool(row[2]), row[3], bool(row[4]), bool(row[5]))


def test_the_notification_checks_read_on_the_probe_as_on_the_session(app: Flask, alice_and_bob) -> None:
    alice_id, bob_id = alice_and_bob
    context_id = db.session.get(Status, _status(alice_id, "muted thread")).context_id
    db.session.get(Account, alice_id).notification_settings = {"block_from_strangers": True}
    db.session.add_all(
        [Block(account_id=alice_id, target_id=bob_id), ThreadMute(account_id=alice_id, context_id=context_id)]
    )
    db.session.commit()
    for context in (context_id, None):
        with app.test_request_context():
            _fresh_session()
            on_probe = _normal(notifications._suppression_row(alice_id, bob_id, context))
            assert not db.session().in_transaction()  # the probe read it
            db.session.connection()  # begun: the session's connection reads it
            on_session = _normal(notifications._suppression_row(alice_id, bob_id, context))
        assert (
            on_probe
            == on_session
            == (True, context is not None, False, {"block_from_strangers": True}, False, False)
        )
    with app.test_request_context():
        _fresh_session()
        assert _normal(notifications._suppression_row(bob_id, alice_id, None)) == (
            False,
            False,
            False,
            {},
            False,
            False,
        )


def test_the_status_statement_hands_over_the_notification_checks(app: Flask, alice_and_bob) -> None:
    """account_and_status(..., notify_checks=True) reads notify()'s checks for bob notifying
    alice as their own statement reads them; they are used while the Session has not begun."""
    alice_id, bob_id = alice_and_bob
    sid = _status(alice_id, "muted thread")
    context_id = db.session.get(Status, sid).context_id
    plain = (False, False, False, {}, False, False)
    checked = (True, True, True, {"block_from_strangers": True}, False, False)
    for expected in (plain, checked):
        if expected == checked:
            db.session.get(Account, alice_id).notification_settings = {"block_from_strangers": True}
            db.session.add_all(
                [
                    Block(account_id=alice_id, target_id=bob_id),
                    ThreadMute(account_id=alice_id, context_id=context_id),
                    Follow(follower_id=alice_id, followee_id=bob_id),
                ]
            )
            db.session.commit()
        with app.test_request_context():
            _fresh_session()
            _account, status = interactions.account_and_status(bob_id, sid, notify_checks=True)
            assert status.context_id == context_id
            handed = _normal(notifications._suppression_row(alice_id, bob_id, context_id))
            assert not request.environ.get(notifications._KNOWN)  # taken, not read again
            read = _normal(notifications._suppression_row(alice_id, bob_id, context_id))
        assert handed == read == expected
    with app.test_request_context():
        _fresh_session()
        interactions.account_and_status(bob_id, sid, notify_checks=True)
        db.session.connection()  # begun: a write of its own may have changed them
        assert _normal(notifications._suppression_row(alice_id, bob_id, context_id)) == checked
        assert request.environ.get(notifications._KNOWN)  # left unused
