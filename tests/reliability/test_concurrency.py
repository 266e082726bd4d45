"""Two gunicorn workers (gunicorn.conf.py: gthread x 4 threads) under 16 clients writing at once:
no 5xx, no `database is locked`, every successful write in the database exactly once, every
counter equal to the rows it counts, and `PRAGMA integrity_check` ok. Identical requests racing
(a double tap, a retrying client) count once. Then `flask db backup` taken under the same kind of
load restores to a working server."""

from __future__ import annotations

import random
import shutil
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from tests.reliability.conftest import LOCKED
from tests.reliability.conftest import Server
from tests.reliability.conftest import counter_mismatches
from tests.reliability.conftest import flask_cli
from tests.reliability.conftest import integrity

# The embedded layout under test (SQLite's writers under gunicorn): servers and seeding
# stay on SQLite in the scaled run (tests/scaled.py); test_scaled_servers.py covers that one.
pytestmark = pytest.mark.embedded

CLIENTS = 16
WRITES = 400
SEED_STATUSES = 2  # per account, before the clients start: the shared targets of favourites and reactions
EMOJI = ("👍", "🎉", "❤️", "😂")


@dataclass
class Client:
    """One account driven by one thread: its requests run in order, so the state its successful
    responses imply is exact even though 16 of them run at once."""

    nickname: str
    account_id: str
    token: str
    statuses: set[str] = field(default_factory=set)
    replies: Counter = field(default_factory=Counter)  # parent id -> replies this client made
    favourites: set[str] = field(default_factory=set)
    reactions: set[tuple[str, str]] = field(default_factory=set)
    following: set[str] = field(default_factory=set)
    codes: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    writes: int = 0


@pytest.fixture(scope="module")
def loaded_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Server, list[Client], list[str]]]:
    """A 2-worker gunicorn with 16 registered accounts, each with SEED_STATUSES statuses."""
    server = Server(tmp_path_factory.mktemp("concurrency"))
    server.migrate()
    server.start(workers=2)
    try:
        accounts = server.register_accounts([f"user{i:02d}" for i in range(CLIENTS)])
        clients = [Client(nick, account_id, token) for nick, (account_id, token) in accounts.items()]
        seeded = []
        for client in clients:
            for n in range(SEED_STATUSES):
                response = requests.post(
                    f"{server.url}/api/v1/statuses",
                    data={"status": f"seed {n} from {client.nickname}"},
                    headers={"Authorization": f"Bearer {client.token}"},
                    timeout=30,
                )
                assert response.status_code == 200, response.text
                client.statuses.add(response.json()["id"])
                seeded.append(response.json()["id"])
        yield server, clients, seeded
    finally:
        server.stop()


def _drive(
    server: Server, client: Client, others: list[Client], seeded: list[str], writes: int, seed: int
) -> None:
    """`writes` random writes by one account: posts and replies, favourites and unfavourites,
    reactions and their removal, follows and unfollows. Records what each 200 changed."""
    rng = random.Random(seed)
    kinds = (
        ["post"] * 7
        + ["favourite"] * 4
        + ["unfavourite"]
        + ["react"] * 3
        + ["unreact"]
        + ["follow"] * 3
        + ["unfollow"] * 2
    )
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {client.token}"
        for _ in range(writes):
            kind = rng.choice(kinds)
            target = rng.choice(seeded)
            other = rng.choice(others)
            emoji = rng.choice(EMOJI)
            if kind == "unfavourite" and not client.favourites:
                kind = "favourite"
            if kind == "unreact" and not client.reactions:
                kind = "react"
            if kind == "unfollow" and not client.following:
                kind = "follow"
            if kind == "unfavourite":
                target = rng.choice(sorted(client.favourites))
            if kind == "unreact":
                target, emoji = rng.choice(sorted(client.reactions))
            if kind == "unfollow":
                followed = rng.choice(sorted(client.following))
                other = next(c for c in others if c.account_id == followed)
            reply = kind == "post" and rng.random() < 0.3
            method, path, data = {
                "post": (
                    "POST",
                    "/api/v1/statuses",
                    {"status": f"post by {client.nickname} {rng.random()}"}
                    | ({"in_reply_to_id": target} if reply else {}),
                ),
                "favourite": ("POST", f"/api/v1/statuses/{target}/favourite", None),
                "unfavourite": ("POST", f"/api/v1/statuses/{target}/unfavourite", None),
                "react": ("PUT", f"/api/v1/pleroma/statuses/{target}/reactions/{quote(emoji)}", None),
                "unreact": ("DELETE", f"/api/v1/pleroma/statuses/{target}/reactions/{quote(emoji)}", None),
                "follow": ("POST", f"/api/v1/accounts/{other.account_id}/follow", None),
                "unfollow": ("POST", f"/api/v1/accounts/{other.account_id}/unfollow", None),
            }[kind]
            try:
                response = session.request(method, server.url + path, data=data, timeout=60)
            except requests.RequestException as error:
                client.codes["error"] += 1
                client.failures.append(f"{kind} {path}: {error}")
                continue
            client.writes += 1
            client.codes[response.status_code] += 1
            if response.status_code != 200 or LOCKED in response.text:
                client.failures.append(f"{kind} {path}: {response.status_code} {response.text[:300]}")
                continue
            if kind == "post":
                client.statuses.add(response.json()["id"])
                if reply:
                    client.replies[target] += 1
            elif kind == "favourite":
                client.favourites.add(target)
            elif kind == "unfavourite":
                client.favourites.discard(target)
            elif kind == "react":
                client.reactions.add((target, emoji))
            elif kind == "unreact":
                client.reactions.discard((target, emoji))
            elif kind == "follow":
                client.following.add(other.account_id)
            elif kind == "unfollow":
                client.following.discard(other.account_id)


def test_sixteen_clients_400_mixed_writes_lose_nothing(
    loaded_server: tuple[Server, list[Client], list[str]],
) -> None:
    server, clients, seeded = loaded_server
    per_client = WRITES // len(clients)
    threads = [
        threading.Thread(
            target=_drive,
            args=(server, client, [c for c in clients if c is not client], seeded, per_client, index),
        )
        for index, client in enumerate(clients)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    elapsed = time.monotonic() - started
    assert not any(thread.is_alive() for thread in threads)

    codes = sum((c.codes for c in clients), Counter())
    failures = [f for c in clients for f in c.failures]
    print(f"\n{sum(c.writes for c in clients)} concurrent writes in {elapsed:.1f}s: {dict(codes)}")
    assert sum(c.writes for c in clients) == WRITES, failures[:5]
    assert not [code for code in codes if isinstance(code, int) and code >= 500], failures[:5]
    assert failures == [], failures[:5]  # every request here is valid: all of them answer 200
    assert codes == Counter({200: WRITES})
    assert LOCKED not in server.stderr()
    assert "Traceback" not in server.stderr(), server.stderr()[-3000:]

    db = server.database
    rows = server.sql
    by_author: dict[str, set[str]] = {}
    for status_id, author in rows("SELECT id, account_id FROM status"):
        by_author.setdefault(author, set()).add(status_id)
    for client in clients:
        assert by_author.get(client.account_id, set()) == client.statuses, client.nickname
        favourites = {
            s for (s,) in rows("SELECT status_id FROM favourite WHERE account_id = ?", client.account_id)
        }
        assert favourites == client.favourites, client.nickname
        reactions = set(
            rows("SELECT status_id, emoji FROM emoji_reaction WHERE account_id = ?", client.account_id)
        )
        assert reactions == client.reactions, client.nickname
        following = {
            f for (f,) in rows("SELECT followee_id FROM follow WHERE follower_id = ?", client.account_id)
        }
        assert following == client.following, client.nickname
    replies = sum((c.replies for c in clients), Counter())
    for parent, count in replies.items():
        assert rows("SELECT COUNT(*) FROM status WHERE in_reply_to_id = ?", parent) == [(count,)]
    # Rows of one transaction stay together: one favourite notification per favourite of
    # somebody else's status, one follow notification per follow.
    favourite_notifications = rows("SELECT COUNT(*) FROM notification WHERE type = 'favourite'")[0][0]
    others_favourited = rows(
        "SELECT COUNT(*) FROM favourite f JOIN status s ON s.id = f.status_id WHERE s.account_id != f.account_id"
    )[0][0]
    assert favourite_notifications == others_favourited
    assert rows("SELECT COUNT(*) FROM notification WHERE type = 'follow'") == rows(
        "SELECT COUNT(*) FROM follow"
    )
    assert counter_mismatches(db) == []
    assert integrity(db) == "ok"


DUPLICATES = 8


def _all_at_once(
    server: Server, token: str, method: str, path: str, data: dict | None = None
) -> list[requests.Response]:
    """The same request DUPLICATES times at the same instant: a double-tapping user, a retrying client."""
    barrier = threading.Barrier(DUPLICATES)
    answers: list[requests.Response] = []

    def send() -> None:
        with requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {token}"
            request = session.prepare_request(requests.Request(method, server.url + path, data=data))
            barrier.wait(timeout=30)
            answers.append(session.send(request, timeout=60))

    threads = [threading.Thread(target=send) for _ in range(DUPLICATES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


def test_identical_concurrent_writes_count_once(
    loaded_server: tuple[Server, list[Client], list[str]],
) -> None:
    server, clients, _ = loaded_server
    actor, author = clients[0], clients[1]
    posted = requests.post(
        f"{server.url}/api/v1/statuses",
        data={"status": "to be double-tapped"},
        headers={"Authorization": f"Bearer {author.token}"},
        timeout=30,
    )
    assert posted.status_code == 200, posted.text
    status_id = posted.json()["id"]
    requests.post(
        f"{server.url}/api/v1/accounts/{author.account_id}/unfollow",
        headers={"Authorization": f"Bearer {actor.token}"},
        timeout=30,
    )
    writes = {
        "follow": ("POST", f"/api/v1/accounts/{author.account_id}/follow"),
        "favourite": ("POST", f"/api/v1/statuses/{status_id}/favourite"),
        "reblog": ("POST", f"/api/v1/statuses/{status_id}/reblog"),
        "bookmark": ("POST", f"/api/v1/statuses/{status_id}/bookmark"),
        "react": ("PUT", f"/api/v1/pleroma/statuses/{status_id}/reactions/{quote('🎉')}"),
        "endorse": ("POST", f"/api/v1/accounts/{author.account_id}/pin"),
        "mute": ("POST", f"/api/v1/accounts/{author.account_id}/mute"),
        "block": ("POST", f"/api/v1/accounts/{clients[2].account_id}/block"),
    }
    for name, (method, path) in writes.items():
        answers = _all_at_once(server, actor.token, method, path)
        assert [a.status_code for a in answers] == [200] * DUPLICATES, (name, [a.text for a in answers])
    rows = server.sql
    assert rows(
        "SELECT COUNT(*) FROM follow WHERE follower_id = ? AND followee_id = ?",
        actor.account_id,
        author.account_id,
    ) == [(1,)]
    assert rows("SELECT COUNT(*) FROM favourite WHERE status_id = ?", status_id) == [(1,)]
    assert rows("SELECT COUNT(*) FROM status WHERE reblog_of_id = ?", status_id) == [(1,)]
    assert rows("SELECT COUNT(*) FROM bookmark WHERE status_id = ?", status_id) == [(1,)]
    assert rows("SELECT COUNT(*) FROM emoji_reaction WHERE status_id = ?", status_id) == [(1,)]
    assert rows("SELECT favourites_count, reblogs_count FROM status WHERE id = ?", status_id) == [(1, 1)]
    assert rows("SELECT COUNT(*) FROM endorsement WHERE account_id = ?", actor.account_id) == [(1,)]
    assert rows("SELECT COUNT(*) FROM mute WHERE account_id = ?", actor.account_id) == [(1,)]
    assert rows("SELECT COUNT(*) FROM block WHERE account_id = ?", actor.account_id) == [(1,)]
    # One notification each, not one per request.
    assert rows(
        "SELECT type, COUNT(*) FROM notification WHERE account_id = ? AND from_account_id = ? "
        "AND type IN ('follow', 'favourite', 'reblog', 'pleroma:emoji_reaction') AND "
        "(status_id = ? OR type = 'follow') GROUP BY type ORDER BY type",
        author.account_id,
        actor.account_id,
        status_id,
    ) == [("favourite", 1), ("follow", 1), ("pleroma:emoji_reaction", 1), ("reblog", 1)]
    assert counter_mismatches(server.database) == []
    assert LOCKED not in server.stderr()


def test_racing_registrations_of_one_name_make_one_account(
    loaded_server: tuple[Server, list[Client], list[str]],
) -> None:
    server, _, _ = loaded_server
    app_token = server.app_token(server.register_app())
    answers = _all_at_once(
        server,
        app_token,
        "POST",
        "/api/v1/accounts",
        {"username": "racer", "password": "secret-pw", "email": "racer@example.org", "agreement": "true"},
    )
    codes = sorted(a.status_code for a in answers)
    assert codes == [200] + [400] * (DUPLICATES - 1), [a.text for a in answers]
    assert all("error" in a.json() for a in answers if a.status_code == 400)
    assert server.sql("SELECT COUNT(*) FROM account WHERE nickname = 'racer'") == [(1,)]


def _writer(server: Server, client: Client, stop: threading.Event, done: list[tuple[float, str]]) -> None:
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {client.token}"
        while not stop.wait(0.02):  # steady, not flat out: the copy must finish meanwhile too
            response = session.post(
                f"{server.url}/api/v1/statuses", data={"status": "during backup"}, timeout=60
            )
            if response.status_code != 200:
                client.failures.append(f"post during backup: {response.status_code} {response.text[:300]}")
                continue
            done.append((time.monotonic(), response.json()["id"]))


def _all_statuses(session: requests.Session, server: Server, account_id: str) -> set[str]:
    """Every status id the account's timeline serves, page by page (reblogs left out: whether
    those show depends on the viewer's mutes and blocks)."""
    ids: set[str] = set()
    params: dict[str, str] = {"limit": "40", "exclude_reblogs": "true"}
    while True:
        page = session.get(f"{server.url}/api/v1/accounts/{account_id}/statuses", params=params, timeout=30)
        assert page.status_code == 200, page.text
        if not page.json():
            return ids
        ids |= {status["id"] for status in page.json()}
        params["max_id"] = page.json()[-1]["id"]


def test_backup_under_write_load_restores_to_a_working_server(
    loaded_server: tuple[Server, list[Client], list[str]], tmp_path: Path
) -> None:
    server, clients, _ = loaded_server
    stop = threading.Event()
    done: list[tuple[float, str]] = []
    writers = [threading.Thread(target=_writer, args=(server, c, stop, done)) for c in clients[:2]]
    for thread in writers:
        thread.start()
    try:
        while len(done) < 20:
            time.sleep(0.05)
        started = time.monotonic()
        target = tmp_path / "kenoma-backup.db"
        output = flask_cli(server.env, "db", "backup", str(target))
        finished = time.monotonic()
        assert str(target) in output
    finally:
        stop.set()
        for thread in writers:
            thread.join(timeout=60)
    written_during = sum(1 for at, _ in done if started <= at <= finished)
    print(f"\nbackup taken while {len(done)} posts were written ({written_during} during the copy)")
    assert written_during > 0  # the copy really ran under load
    assert [f for c in clients[:2] for f in c.failures] == []
    assert not Path(f"{target}.tmp").exists()
    assert integrity(target) == "ok"
    assert counter_mismatches(target) == []
    before = {status_id for at, status_id in done if at < started}
    with closing(sqlite3.connect(target)) as conn:
        in_backup = {status_id for (status_id,) in conn.execute("SELECT id FROM status")}
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file
    assert before <= in_backup
    assert in_backup <= {s for (s,) in server.sql("SELECT id FROM status")}

    # A fresh server on a fresh instance folder whose database is the backup serves what it held.
    restored = Server(tmp_path / "restored")
    restored.instance.mkdir(parents=True)
    shutil.copy(target, restored.database)
    restored.start(workers=1)
    try:
        with closing(sqlite3.connect(restored.database)) as conn:
            counts = dict(conn.execute("SELECT id, statuses_count FROM account"))
            held: dict[str, set[str]] = {}
            for status_id, author in conn.execute(
                "SELECT id, account_id FROM status WHERE reblog_of_id IS NULL"
            ):
                held.setdefault(author, set()).add(status_id)
        with requests.Session() as session:
            for client in clients:
                session.headers["Authorization"] = f"Bearer {client.token}"  # tokens are in the database
                me = session.get(f"{restored.url}/api/v1/accounts/verify_credentials", timeout=30)
                assert me.status_code == 200, me.text
                assert me.json()["statuses_count"] == counts[client.account_id]
                served = _all_statuses(session, restored, client.account_id)
                assert served == held.get(client.account_id, set()), client.nickname
            posted = session.post(
                f"{restored.url}/api/v1/statuses", data={"status": "after restore"}, timeout=30
            )
            assert posted.status_code == 200, posted.text
        assert integrity(restored.database) == "ok"
        assert LOCKED not in restored.stderr()
    finally:
        restored.stop()
