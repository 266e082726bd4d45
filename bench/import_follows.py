"""Time a 10,000-account follow import through the HTTP API (issue 3).

Run from the repository root:  .venv/bin/python bench/import_follows.py [--accounts N]

A throwaway instance is made in a temporary folder. The accounts to follow are inserted directly
(one precomputed password hash, no key pairs): the benchmark measures the import, not account
creation. The import goes through the Flask test client with jobs inline, so the request time
includes the whole job.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

# Import from the repository root, not from bench/ (its http.py would shadow the standard one).
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from sqlalchemy import insert  # noqa: E402

from app import create_app  # noqa: E402
from models import Account  # noqa: E402
from models import Notification  # noqa: E402
from models import db  # noqa: E402
from models import new_flake_id  # noqa: E402
from services.accounts import create_local_account  # noqa: E402
from services.passwords import hash_password  # noqa: E402

BASE_URL = "http://127.0.0.1:5000"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    count = parser.parse_args().accounts
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "INSTANCE_PATH": str(Path(folder) / "instance"),
                "BASE_URL": BASE_URL,
                "JOBS_IMMEDIATE": True,
                "RATELIMIT_ENABLED": False,
            }
        )
        with app.app_context():
            db.create_all()
            create_local_account("importer", "bench-password")
            seeded = time.perf_counter()
            hashed = hash_password("unused")
            rows = [
                {
                    "id": new_flake_id(),
                    "nickname": f"user{i}",
                    "ap_id": f"{BASE_URL}/users/user{i}",
                    "password_hash": hashed,
                }
                for i in range(count)
            ]
            db.session.execute(insert(Account), rows)
            db.session.commit()
            print(f"created {count} accounts in {time.perf_counter() - seeded:.2f} s")
            # The forms clients send: plain nicknames, @nick@host and Mastodon's CSV lines.
            lines = ["Account address,Show boosts"]
            for i in range(count):
                lines.append((f"user{i}", f"@user{i}@127.0.0.1:5000", f"user{i}@127.0.0.1,true")[i % 3])
            client = app.test_client()
            auth = {"Authorization": "Basic aW1wb3J0ZXI6YmVuY2gtcGFzc3dvcmQ="}  # importer:bench-password
            request_started = time.perf_counter()
            response = client.post(
                "/api/pleroma/follow_import", data={"list": "\n".join(lines)}, headers=auth
            )
            request_time = time.perf_counter() - request_started
            assert response.status_code == 200 and response.get_json() == "job started", response.get_data()
            db.session.expire_all()
            importer = Account.find_local("importer")
            assert importer is not None and importer.following_count == count, (
                importer and importer.following_count
            )
            notified = db.session.query(Notification).count()
            assert notified == count, notified
            db.session.remove()
    total = time.perf_counter() - started
    print(
        f"follow_import of {count} accounts: request (job inline) {request_time:.2f} s; total run {total:.2f} s"
    )


if __name__ == "__main__":
    main()
