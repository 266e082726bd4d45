"""What the speed work of issue 6 must not break: the statement counter, statements built once and
cached (their per-request values stay per request), answers cached per pack change, flake ids
in forked workers, the orjson answers."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from collections.abc import Iterator
from datetime import datetime
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

import models
from app import create_app
from emoji_packs import archives as pack_archives
from models import Account
from models import Follow
from models import Mute
from models import db
from models import utcnow
from services.accounts import create_local_account
from services.statuses import NewStatus
from services.statuses import post_status
from tests.conftest import copy_fixture_pack
from tests.conftest import password_token

HOME = "/api/v1/timelines/home"


def follow(follower: Account, followee: Account) -> None:
    db.session.add(Follow(follower_id=follower.id, followee_id=followee.id))
    db.session.commit()


def ids(response: object) -> list[str]:
    return [s["id"] for s in response.get_json()]  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------------
# X-Kenoma-Queries


def test_query_count_header_is_off_by_default(
    client: FlaskClient, account: Account, auth_headers: Callable
) -> None:
    response = client.get(HOME, headers=auth_headers(account))
    assert response.status_code == 200
    assert "X-Kenoma-Queries" not in response.headers


def test_query_count_header_counts_statements_when_on(tmp_path: Path) -> None:
    counted = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "EMOJI_DIR": str(tmp_path),
            "JOBS_IMMEDIATE": True,
            "QUERY_COUNT_HEADER": True,
        }
    )
    with counted.app_context():
        db.create_all()
        client = counted.test_client()
        # No database work: zero; an unknown bearer token: its one lookup.
        assert client.get("/api/v1/pleroma/emoji").headers["X-Kenoma-Queries"] == "0"
        answer = client.get(HOME, headers={"Authorization": "Bearer nope"})
        assert answer.status_code == 403
        assert answer.headers["X-Kenoma-Queries"] == "1"
        db.session.remove()
        db.engine.dispose()


# ---------------------------------------------------------------------------------------------
# Cached statements keep their per-request values per request


def test_cached_home_statement_answers_each_viewer_with_their_own_timeline(
    client: FlaskClient, make_account: Callable[..., Account], auth_headers: Callable
) -> None:
    alice, bob, carol = make_account("alice"), make_account("bob"), make_account("carol")
    follow(alice, bob)
    follow(carol, alice)
    by_bob = post_status(bob, NewStatus(text="bob here"))
    by_alice = post_status(alice, NewStatus(text="alice here"))

    assert ids(client.get(HOME, headers=auth_headers(alice))) == [by_alice.id, by_bob.id]
    assert ids(client.get(HOME, headers=auth_headers(carol))) == [by_alice.id]
    assert ids(client.get(HOME, headers=auth_headers(bob))) == [by_bob.id]
    # The cursors and the limit are bound per request too.
    assert ids(client.get(f"{HOME}?limit=1", headers=auth_headers(alice))) == [by_alice.id]
    assert ids(client.get(f"{HOME}?max_id={by_alice.id}", headers=auth_headers(alice))) == [by_bob.id]
    assert ids(client.get(f"{HOME}?min_id={by_bob.id}", headers=auth_headers(alice))) == [by_alice.id]


def test_a_mute_expires_in_a_statement_built_before_it_did(
    client: FlaskClient,
    make_account: Callable[..., Account],
    auth_headers: Callable,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alice, bob = make_account("alice"), make_account("bob")
    follow(alice, bob)
    status = post_status(bob, NewStatus(text="for a while muted"))
    db.session.add(Mute(account_id=alice.id, target_id=bob.id, expires_at=utcnow() + timedelta(hours=1)))
    db.session.commit()
    assert ids(client.get(HOME, headers=auth_headers(alice))) == []

    later = utcnow() + timedelta(hours=2)
    monkeypatch.setattr(models, "utcnow", lambda: later)
    assert ids(client.get(HOME, headers=auth_headers(alice))) == [status.id]


def test_favourites_page_follows_the_favourite_index(
    client: FlaskClient, make_account: Callable[..., Account], auth_headers: Callable
) -> None:
    alice, bob = make_account("alice"), make_account("bob")
    alice.hide_favorites = False
    db.session.commit()
    statuses = [post_status(bob, NewStatus(text=f"bob {n}")) for n in range(3)]
    for status in statuses:
        assert (
            client.post(f"/api/v1/statuses/{status.id}/favourite", headers=auth_headers(alice)).status_code
            == 200
        )
    path = f"/api/v1/pleroma/accounts/{alice.id}/favourites"
    newest_first = [s.id for s in reversed(statuses)]

    assert ids(client.get(path, headers=auth_headers(bob))) == newest_first
    assert ids(client.get(f"{path}?limit=2", headers=auth_headers(bob))) == newest_first[:2]
    assert ids(client.get(f"{path}?max_id={newest_first[1]}")) == newest_first[2:]


# ---------------------------------------------------------------------------------------------
# Answers cached per pack change


def test_emoji_list_answers_304_until_a_pack_changes(
    app: Flask, client: FlaskClient, make_account: Callable[..., Account], auth_headers: Callable
) -> None:
    copy_fixture_pack(app, "test_pack")
    first = client.get("/api/v1/pleroma/emoji")
    assert first.status_code == 200 and "blank" in first.get_json()
    etag = first.headers["ETag"]
    assert client.get("/api/v1/pleroma/emoji", headers={"If-None-Match": etag}).status_code == 304

    admin = make_account("admin", is_admin=True)
    created = client.post(
        "/api/v1/pleroma/emoji/pack", data={"name": "fresh"}, headers=auth_headers(admin, "admin:write")
    )
    assert created.status_code == 200
    (Path(app.config["EMOJI_DIR"]) / "fresh" / "pack.json").write_text(
        '{"files": {"fresh_one": "blank.png"}, "pack": {}}'
    )
    changed = client.get("/api/v1/pleroma/emoji", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag


def test_pack_archive_is_rebuilt_when_a_file_changes_on_disk(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pack_archives, "MEMBER_RECHECK_SECONDS", 0.1)  # members are stat'ed this often
    pack = copy_fixture_pack(app, "test_pack")
    path = "/api/v1/pleroma/emoji/packs/archive?name=test_pack"
    first = client.get(path)
    assert first.status_code == 200
    assert client.get(path).headers["ETag"] == first.headers["ETag"]  # the checked archive again

    image = next(p for p in pack.iterdir() if p.suffix == ".png")
    image.write_bytes(image.read_bytes() + b"\0")  # an edit in place: pack.json is untouched
    time.sleep(0.15)
    changed = client.get(path)
    assert changed.status_code == 200
    assert changed.headers["ETag"] != first.headers["ETag"]

    image.unlink()  # a file gone: the pack can no longer be shared whole
    assert client.get(path).status_code == 403


# ---------------------------------------------------------------------------------------------
# Flake ids and JSON answers


def test_a_forked_worker_makes_flake_ids_of_its_own() -> None:
    models.new_flake_id()
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child reports its worker bits and leaves at once
        os.write(writer, models._flake_state["worker"].to_bytes(8, "big"))
        os._exit(0)
    os.waitpid(pid, 0)
    child_worker = int.from_bytes(os.read(reader, 8), "big")
    os.close(reader)
    os.close(writer)
    assert child_worker != models._flake_state["worker"]


def test_answers_keep_flask_json_conversions(app: Flask) -> None:
    with app.test_request_context():
        body = app.json.response({1: datetime(2024, 1, 2, 3, 4, 5), "text": "héllo ✨"}).get_json()
    assert body == {"1": "Tue, 02 Jan 2024 03:04:05 GMT", "text": "héllo ✨"}


# ---------------------------------------------------------------------------------------------
# Statements per request of the bench's rows (issue 19): the same limits as bench/report.py's
# STATEMENT_LIMITS and PAGES, counted as its counting server counts them (X-Kenoma-Queries, no
# kept answers, jobs queued rather than run in the request).

START_UP_STATEMENTS = {
    "/api/v1/instance": 1,  # the usage aggregate (domains in it)
    "/api/v2/instance": 1,
    "/api/v1/accounts/verify_credentials": 3,  # token, account, the owner's counters
}


@pytest.fixture
def bench_like(tmp_path: Path) -> Iterator[tuple[FlaskClient, dict, dict]]:
    """A counting app seeded as the bench seeds, in small: bob follows alice, mentions her and
    favourites her status; 40 peers, a quarter followed by alice. Yields the client, alice's
    headers and the ids the paths need."""
    folder = tmp_path / "bench"
    (folder / "emoji").mkdir(parents=True)
    counted = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(folder / "instance"),
            "EMOJI_DIR": str(folder / "emoji"),
            "RATELIMIT_ENABLED": False,
            "QUERY_COUNT_HEADER": True,
            "READ_CACHE": False,
            "JOBS_CONSUMER_THREAD": False,
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_COST": 64,
        }
    )
    with counted.app_context():
        db.create_all()
        alice = create_local_account("alice", "secret-pw", email="alice@example.org")
        bob = create_local_account("bob", "secret-pw", email="bob@example.org")
        peers = [create_local_account(f"peer{n}", "secret-pw", email=f"p{n}@example.org") for n in range(40)]
        follow(bob, alice)
        for peer in peers[::4]:
            follow(alice, peer)
        follow(alice, bob)
        mine = post_status(alice, NewStatus(text="alice here"))
        theirs = [post_status(bob, NewStatus(text=f"@alice hello {n}")) for n in range(3)]
        ids = {"alice": alice.id, "bob": bob.id, "mine": mine.id, "theirs": theirs[0].id}
        ids["peers"] = [peer.id for peer in peers]
    client = counted.test_client()
    registered = client.post(
        "/api/v1/apps",
        data={
            "client_name": "t",
            "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
            "scopes": "read write follow",
        },
    ).get_json()
    bob_h = {"Authorization": f"Bearer {password_token(client, registered, 'bob', 'read write')}"}
    assert client.post(f"/api/v1/statuses/{ids['mine']}/favourite", headers=bob_h).status_code == 200
    alice_h = {"Authorization": f"Bearer {password_token(client, registered, 'alice', 'read write follow')}"}
    yield client, alice_h, ids
    with counted.app_context():
        db.engine.dispose()


def statements(client: FlaskClient, method: str, path: str, headers: dict) -> int:
    answer = client.open(path, method=method, headers=headers)
    assert answer.status_code == 200, answer.get_json()
    return int(answer.headers["X-Kenoma-Queries"])


def test_start_up_reads_run_their_pinned_statements(bench_like) -> None:
    client, alice_h, ids = bench_like
    for path, expected in START_UP_STATEMENTS.items():
        assert statements(client, "GET", path, alice_h) == expected, path
    # token, the reader with the status (readcache's probe), the per-status facts
    assert statements(client, "GET", f"/api/v1/statuses/{ids['theirs']}", alice_h) == 3
    relationships = "/api/v1/accounts/relationships?" + "&".join(f"id[]={i}" for i in ids["peers"])
    assert statements(client, "GET", relationships, alice_h) == 4  # token, account, known ids, facts


def test_pages_of_the_bench_cost_the_same_at_limit_20_and_40(bench_like) -> None:
    client, alice_h, ids = bench_like
    for path, most in (
        ("/api/v1/notifications", 7),
        (f"/api/v1/accounts/{ids['bob']}/statuses", 5),
    ):
        twenty = statements(client, "GET", f"{path}?limit=20", alice_h)
        forty = statements(client, "GET", f"{path}?limit=40", alice_h)
        assert twenty == forty <= most, path


def test_the_favourite_cycle_runs_its_pinned_statements(bench_like) -> None:
    client, alice_h, ids = bench_like
    status = f"/api/v1/statuses/{ids['theirs']}"
    # Part of each: the notification of bob, made and then withdrawn.
    assert statements(client, "POST", f"{status}/favourite", alice_h) <= 6
    assert statements(client, "POST", f"{status}/unfavourite", alice_h) <= 6


def test_bookmark_and_unbookmark_run_their_pinned_statements(bench_like) -> None:
    client, alice_h, ids = bench_like
    status = f"/api/v1/statuses/{ids['theirs']}"
    # token, the caller with the status (readcache's probe), the write, the answer's facts
    assert statements(client, "POST", f"{status}/bookmark", alice_h) == 4
    assert statements(client, "POST", f"{status}/unbookmark", alice_h) == 4


def test_a_post_runs_its_pinned_statements(bench_like) -> None:
    client, alice_h, _ids = bench_like
    form = {**alice_h, "Content-Type": "application/x-www-form-urlencoded"}
    answer = client.post("/api/v1/statuses", data="status=bench+write+the+quick+brown+fox", headers=form)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["content"] == "bench write the quick brown fox"
    # token with the caller (readcache's probe), the context, the status, the author's counters
    # (with its subscribers and remote followers: bob follows alice)
    assert int(answer.headers["X-Kenoma-Queries"]) == 4
