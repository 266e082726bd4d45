"""A server killed with SIGKILL (no handler, no flush: what the OOM killer or a power cut does)
in the middle of a long follow import or of an emoji pack download restarts consistent: the
database passes its integrity check, counters equal their rows, the import runs again to the
same result, and no half-written pack is left on disk."""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import sqlite3
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import closing
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image
from sqlalchemy import insert

import emoji_packs
from app import create_app
from models import Account
from models import db
from tests.reliability.conftest import LOCKED
from tests.reliability.conftest import Server
from tests.reliability.conftest import counter_mismatches
from tests.reliability.conftest import flask_cli
from tests.reliability.conftest import integrity

# The embedded layout under test (SIGKILL against SQLite's WAL and the instance folder): servers and seeding
# stay on SQLite in the scaled run (tests/scaled.py); test_scaled_servers.py covers that one.
pytestmark = pytest.mark.embedded

IMPORTED = 10_000


def _wait(predicate: Any, timeout: float, what: str, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


# ---------------------------------------------------------------------------------------------
# Follow import


def _seed_local_accounts(server: Server, count: int) -> list[str]:
    """`count` local accounts written straight into the instance database (registering them one by
    one over HTTP would take minutes); the nicknames."""
    app = create_app(
        {"INSTANCE_PATH": str(server.instance), "EMOJI_DIR": str(server.emoji), "BASE_URL": server.url}
    )
    nicknames = [f"target{n:05d}" for n in range(count)]
    with app.app_context():
        db.session.execute(
            insert(Account), [{"nickname": nick, "ap_id": f"{server.url}/users/{nick}"} for nick in nicknames]
        )
        db.session.commit()
        db.engine.dispose()
    return nicknames


def _write_lock_held(database: Path) -> bool:
    """True while some connection holds the database's write lock (a transaction that wrote)."""
    with closing(sqlite3.connect(database, timeout=0, isolation_level=None)) as probe:
        try:
            probe.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            assert LOCKED in str(error) or "busy" in str(error)
            return True
        probe.execute("ROLLBACK")
        return False


def test_sigkill_during_a_10000_follow_import(make_server: Any) -> None:
    server: Server = make_server("import")
    nicknames = _seed_local_accounts(server, IMPORTED)
    server.start()
    ((importer_id, token),) = server.register_accounts(["importer"]).values()
    auth = {"Authorization": f"Bearer {token}"}
    ids = dict(server.sql("SELECT nickname, id FROM account WHERE nickname LIKE 'target%'"))
    for nick in nicknames[:3]:  # followed already: the import must neither double nor recount them
        response = requests.post(f"{server.url}/api/v1/accounts/{ids[nick]}/follow", headers=auth, timeout=30)
        assert response.status_code == 200, response.text
    handles = "\n".join(nicknames)

    response = requests.post(
        f"{server.url}/api/v1/pleroma/follow_import", data={"list": handles}, headers=auth, timeout=60
    )
    assert response.status_code == 200, response.text
    # The job resolves the names with reads, then writes every follow, counter and notification in
    # one transaction: SIGKILL the server while that transaction holds the write lock.
    _wait(lambda: _write_lock_held(server.database), 60, "the import to start writing", interval=0.002)
    server.kill()

    assert Path(f"{server.database}-wal").exists()  # the interrupted transaction's frames are there
    assert integrity(server.database) == "ok"
    assert counter_mismatches(server.database) == []
    following = server.sql("SELECT COUNT(*) FROM follow WHERE follower_id = ?", importer_id)[0][0]
    # All or nothing: the transaction either committed before the kill or left no trace.
    assert following in (3, IMPORTED), following
    print(f"\nkilled mid-import: {following} follows survived of {IMPORTED} imported")

    server.start()
    assert integrity(server.database) == "ok"
    # Run again: the same list gives the same follows, once each.
    response = requests.post(
        f"{server.url}/api/v1/pleroma/follow_import", data={"list": handles}, headers=auth, timeout=60
    )
    assert response.status_code == 200, response.text

    def done() -> bool:
        me = requests.get(f"{server.url}/api/v1/accounts/verify_credentials", headers=auth, timeout=30)
        assert me.status_code == 200, me.text
        return me.json()["following_count"] == IMPORTED

    _wait(done, 60, "the re-run import to finish", interval=0.2)
    server.stop()
    rows = server.sql
    assert rows(
        "SELECT COUNT(*), COUNT(DISTINCT followee_id) FROM follow WHERE follower_id = ?", importer_id
    ) == [(IMPORTED, IMPORTED)]
    assert rows(
        "SELECT COUNT(*) FROM notification WHERE type = 'follow' AND from_account_id = ?", importer_id
    ) == [(IMPORTED,)]
    assert rows(
        "SELECT MIN(followers_count), MAX(followers_count) FROM account WHERE nickname LIKE 'target%'"
    ) == [(1, 1)]
    assert counter_mismatches(server.database) == []
    assert integrity(server.database) == "ok"
    assert LOCKED not in server.stderr()


# ---------------------------------------------------------------------------------------------
# Emoji pack download


def _pack_archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        files = {}
        for n in range(20):
            image = io.BytesIO()
            Image.new("RGB", (32, 32), (n * 10, 0, 0)).save(image, "PNG")
            archive.writestr(f"blob{n}.png", image.getvalue())
            files[f"blob{n}"] = f"blob{n}.png"
        archive.writestr("pack.json", json.dumps({"files": files, "pack": {"description": "slow"}}))
    return buffer.getvalue()


class SlowPackServer:
    """Another server sharing `slowpack`, whose archive stops half way until released."""

    def __init__(self) -> None:
        self.archive = _pack_archive()
        self.sha = hashlib.sha256(self.archive).hexdigest().upper()
        self.half_sent = threading.Event()
        self.release = threading.Event()
        self.slow = True
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _json(self, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                root = outer.url
                if self.path == "/.well-known/nodeinfo":
                    self._json(
                        {
                            "links": [
                                {
                                    "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1",
                                    "href": f"{root}/nodeinfo/2.1.json",
                                }
                            ]
                        }
                    )
                elif self.path == "/nodeinfo/2.1.json":
                    self._json({"metadata": {"features": ["shareable_emoji_packs"]}})
                elif self.path.startswith("/api/v1/pleroma/emoji/pack?"):
                    self._json(
                        {
                            "files": {f"blob{n}": f"blob{n}.png" for n in range(20)},
                            "files_count": 20,
                            "pack": {"share-files": True, "can-download": True, "download-sha256": outer.sha},
                        }
                    )
                elif self.path.startswith("/api/v1/pleroma/emoji/packs/archive?"):
                    self.send_response(200)
                    self.send_header("Content-Type", "application/zip")
                    self.send_header("Content-Length", str(len(outer.archive)))
                    self.end_headers()
                    half = len(outer.archive) // 2
                    self.wfile.write(outer.archive[:half])
                    self.wfile.flush()
                    if outer.slow:
                        outer.half_sent.set()
                        outer.release.wait(timeout=60)
                    try:
                        self.wfile.write(outer.archive[half:])
                    except OSError:
                        pass  # the downloader died
                else:
                    self.send_error(404)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def pack_server() -> Iterator[SlowPackServer]:
    remote = SlowPackServer()
    yield remote
    remote.close()


def _staging_dirs(emoji: Path) -> list[Path]:
    return [p for p in emoji.iterdir() if p.name.startswith(".download-")]


def test_sigkill_during_an_emoji_pack_download(make_server: Any, pack_server: SlowPackServer) -> None:
    server: Server = make_server("packs", KENOMA_ALLOW_PRIVATE_FETCH="true")
    flask_cli(server.env, "user", "create", "admin", "--password", "secret-pw", "--admin")
    server.start()
    auth = {"Authorization": f"Bearer {server.password_token('admin')}"}
    body = {"url": pack_server.url, "name": "slowpack"}
    answers: list[Any] = []

    def download() -> None:
        try:
            answers.append(
                requests.post(
                    f"{server.url}/api/v1/pleroma/emoji/packs/download", json=body, headers=auth, timeout=60
                )
            )
        except requests.RequestException as error:
            answers.append(error)

    downloader = threading.Thread(target=download)
    downloader.start()
    assert pack_server.half_sent.wait(timeout=30)
    # Half an archive is on its way into the staging folder.
    staged = _wait(
        lambda: [p for p in _staging_dirs(server.emoji) if any(p.iterdir())], 10, "the staging folder"
    )
    server.kill()
    pack_server.release.set()
    downloader.join(timeout=30)
    assert isinstance(answers[0], requests.ConnectionError)

    # What the killed server left: a hidden staging folder, never a `slowpack` folder.
    assert _staging_dirs(server.emoji) == staged
    assert not (server.emoji / "slowpack").exists()

    server.start()  # each worker cleans abandoned staging folders as it boots
    assert _staging_dirs(server.emoji) == []
    assert sorted(os.listdir(server.emoji)) == []
    listed = requests.get(f"{server.url}/api/v1/pleroma/emoji/packs", headers=auth, timeout=30)
    assert listed.status_code == 200 and listed.json()["count"] == 0, listed.text

    # The same download, uninterrupted, now gives the whole pack.
    pack_server.slow = False
    answer = requests.post(
        f"{server.url}/api/v1/pleroma/emoji/packs/download", json=body, headers=auth, timeout=60
    )
    assert answer.status_code == 200, answer.text
    shown = requests.get(f"{server.url}/api/v1/pleroma/emoji/pack", params={"name": "slowpack"}, timeout=30)
    assert shown.status_code == 200, shown.text
    assert len(shown.json()["files"]) == 20
    assert sorted(os.listdir(server.emoji)) == ["slowpack"]
    assert integrity(server.database) == "ok"
    assert LOCKED not in server.stderr()


def test_clean_staging_spares_folders_in_use(tmp_path: Path) -> None:
    emoji, scratch = tmp_path / "emoji", tmp_path / "tmp"
    (emoji / "pack" / ".zip-abandoned").mkdir(parents=True)
    (emoji / ".download-abandoned" / "half").mkdir(parents=True)
    (scratch / ".download-abandoned").mkdir(parents=True)
    (emoji / ".download-busy").mkdir()
    (emoji / "pack" / "pack.json").write_text("{}")
    busy = os.open(emoji / ".download-busy", os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(busy, fcntl.LOCK_EX)  # another worker's download in progress
        removed = emoji_packs.clean_staging(emoji, scratch)
    finally:
        os.close(busy)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in removed) == [
        "emoji/.download-abandoned",
        "emoji/pack/.zip-abandoned",
        "tmp/.download-abandoned",
    ]
    assert sorted(os.listdir(emoji)) == [".download-busy", "pack"]
    assert os.listdir(emoji / "pack") == ["pack.json"]
    assert os.listdir(scratch) == []
