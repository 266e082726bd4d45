"""Rows read as plain SQL (services/row_loader.py, auth.me_row) are read-only instances: setting,
deleting or attaching one raises; serializers take them; the answers they build equal GET's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask import current_app
from flask import g
from sqlalchemy.orm.attributes import set_committed_value

import auth
import serializers
from models import Account
from models import ReadOnlyError
from models import Status
from models import as_loaded
from models import db
from services import interactions
from services.row_loader import ACCOUNT_KEYS
from services.statuses import NewStatus
from services.statuses import post_status
from tests.conftest import basic_headers
from tests.conftest import made_app


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """conftest's app, with the statement counter's header (the probe's statements included)."""
    yield from made_app(tmp_path, QUERY_COUNT_HEADER=True)


def _rows(account: Account, bob: Account) -> tuple[Account, Status]:
    status = post_status(bob, NewStatus(text="hello rows"))
    db.session.expire_all()
    with current_app.test_request_context():
        caller, found = interactions.account_and_status(account.id, status.id)
    assert caller is not None and found is not None
    return caller, found


def test_setting_an_attribute_of_a_row_raises(account, bob) -> None:
    caller, status = _rows(account, bob)
    with pytest.raises(ReadOnlyError, match=r"Account\.display_name"):
        caller.display_name = "changed"
    with pytest.raises(ReadOnlyError, match=r"Status\.content"):
        status.content = "changed"
    with pytest.raises(ReadOnlyError):
        status.account.note = "changed"  # the author, a row too
    with pytest.raises(ReadOnlyError):
        caller.anything_new = 1
    assert caller.display_name != "changed" and status.content != "changed"


def test_deleting_an_attribute_of_a_row_raises(account, bob) -> None:
    caller, status = _rows(account, bob)
    with pytest.raises(ReadOnlyError):
        del caller.nickname
    with pytest.raises(ReadOnlyError):
        del status.context
    assert caller.nickname == "alice"


def test_a_row_cannot_join_the_session(account, bob) -> None:
    caller, status = _rows(account, bob)
    for instance in (caller, status, status.context):
        with pytest.raises(ReadOnlyError, match="cannot join a session"):
            db.session.add(instance)
        with pytest.raises(ReadOnlyError, match="cannot join a session"):
            db.session.merge(instance)
    assert caller not in db.session and status not in db.session


def test_a_new_row_holding_a_read_only_one_cannot_join_the_session(account, bob) -> None:
    caller, _status = _rows(account, bob)
    new = Status()
    new.account = caller
    with pytest.raises(ReadOnlyError):
        db.session.add(new)  # the cascade along Status.account would attach the caller
    db.session.rollback()


def test_writers_still_record_what_the_database_now_holds(account, bob) -> None:
    caller, _status = _rows(account, bob)
    set_committed_value(caller, "statuses_count", 41)  # what the counter updates do
    assert caller.statuses_count == 41


def test_a_row_is_its_mapped_class(account, bob) -> None:
    caller, status = _rows(account, bob)
    assert isinstance(caller, Account) and isinstance(status, Status)
    assert db.inspect(caller).mapper is db.inspect(Account)
    plain = as_loaded(Account, {"id": "x"})
    plain.note = "settable"  # only read_only=True instances refuse
    assert not isinstance(plain, type(caller))


def test_serializers_take_rows(account, bob) -> None:
    caller, status = _rows(account, bob)
    db.session.expire_all()
    with current_app.test_request_context():
        from_rows = serializers.status_json(status, caller)
        loaded = serializers.status_json(
            db.session.get(Status, status.id), db.session.get(Account, account.id)
        )
        assert from_rows == loaded
        assert serializers.account_json(caller) == serializers.account_json(
            db.session.get(Account, account.id)
        )


def test_the_caller_row_holds_what_the_orm_loads(app, account, alice_h) -> None:
    with app.test_request_context(headers=alice_h):
        identity = auth._verify_bearer(alice_h["Authorization"].split()[1], caller_row=True)
        assert identity is not None and identity.caller_row is not None
        loaded = db.session.get(Account, account.id)
        for key in ACCOUNT_KEYS:
            assert getattr(identity.caller_row, key) == getattr(loaded, key), key
        with pytest.raises(ReadOnlyError):
            identity.caller_row.note = "changed"


def _caller(who: str, account: Account, carol: Account) -> None:
    alice = db.session.get(Account, account.id)
    if who == "moved":
        alice.moved_to_id = carol.id
    elif who == "admin":
        alice.is_admin = True
    alice.fields = [{"name": "site", "value": "example.org"}]
    db.session.commit()


@pytest.mark.parametrize("who", ["normal", "moved", "admin"])
def test_a_post_answers_what_get_shows_byte_for_byte(client, account, carol, alice_h, who) -> None:
    _caller(who, account, carol)
    form = {**alice_h, "Content-Type": "application/x-www-form-urlencoded"}
    answer = client.post("/api/v1/statuses", data="status=rows+all+the+way", headers=form)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["account"]["statuses_count"] == 1
    if who == "moved":
        assert body["account"]["moved"]["id"] == carol.id
    if who == "admin":
        assert body["account"]["pleroma"]["is_admin"] is True
    shown = client.get(f"/api/v1/statuses/{body['id']}", headers=alice_h)
    assert shown.status_code == 200
    assert answer.data == shown.data


def _fresh_count() -> None:
    # The test's app context is every request's here: its `g` carries the count across them.
    g.pop("kenoma_queries", None)


def test_a_post_runs_four_statements(client, alice_h) -> None:
    form = {**alice_h, "Content-Type": "application/x-www-form-urlencoded"}
    _fresh_count()
    answer = client.post("/api/v1/statuses", data="status=counted", headers=form)
    assert answer.status_code == 200, answer.get_json()
    # token with the caller, the context, the status, the author's counters
    assert answer.headers["X-Kenoma-Queries"] == "4"


def test_a_post_by_basic_auth_or_a_preview_uses_the_loaded_caller(client, account, alice_h) -> None:
    by_basic = client.post("/api/v1/statuses", data={"status": "basic"}, headers=basic_headers("alice"))
    assert by_basic.status_code == 200, by_basic.get_json()
    assert by_basic.get_json()["account"]["id"] == account.id
    preview = client.post("/api/v1/statuses", json={"status": "preview", "preview": True}, headers=alice_h)
    assert preview.status_code == 200, preview.get_json()
    assert client.get(f"/api/v1/statuses/{preview.get_json()['id']}", headers=alice_h).status_code == 404


def test_bookmark_answers_what_get_shows_in_four_statements(client, account, bob, alice_h) -> None:
    status = post_status(bob, NewStatus(text="keep me"))
    for action, marked in (("bookmark", True), ("unbookmark", False)):
        _fresh_count()
        answer = client.post(f"/api/v1/statuses/{status.id}/{action}", headers=alice_h)
        assert answer.status_code == 200, answer.get_json()
        assert answer.get_json()["bookmarked"] is marked
        assert answer.headers["X-Kenoma-Queries"] == "4"
        assert answer.data == client.get(f"/api/v1/statuses/{status.id}", headers=alice_h).data
