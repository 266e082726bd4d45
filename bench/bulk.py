"""Bulk seeding for what the HTTP API would take minutes to create: the 10,000 accounts a follow
import names, and the statuses of GROWTH mode. Rows go in with executemany through SQLAlchemy
Core, so the models' column defaults apply; counters are set as the services would leave them.

    python bench/bulk.py accounts N          # N local accounts named bench00001...
    python bench/bulk.py peers N             # N local accounts named peer00001...; prints their ids
    python bench/bulk.py growth TOTAL        # statuses up to TOTAL, favourites scaled alike
    python bench/bulk.py remote-followers NICK SPEC.json   # remote accounts following NICK
    python bench/bulk.py analyze             # PostgreSQL: ANALYZE (each kind above ends with it)

Run with the same KENOMA_* environment as the server (instance path, base URL)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func  # noqa: E402
from sqlalchemy import insert  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy import update  # noqa: E402

from app import create_app  # noqa: E402
from models import Account  # noqa: E402
from models import Context  # noqa: E402
from models import Favourite  # noqa: E402
from models import Follow  # noqa: E402
from models import Status  # noqa: E402
from models import db  # noqa: E402
from models import new_flake_id  # noqa: E402

BATCH = 5000


def bulk_accounts(count: int, prefix: str = "bench") -> list[str]:
    from flask import current_app

    root = current_app.config["BASE_URL"]
    made = []
    for start in range(0, count, BATCH):
        rows = []
        for n in range(start + 1, min(count, start + BATCH) + 1):
            nickname = f"{prefix}{n:05d}"
            rows.append({"id": new_flake_id(), "nickname": nickname, "ap_id": f"{root}/users/{nickname}"})
        db.session.execute(insert(Account), rows)
        db.session.commit()
        made += [row["id"] for row in rows]
    return made


def bulk_growth(total: int) -> None:
    """Statuses up to `total`, by alice, bob and carol in turn (carol is followed by nobody, so a
    home page has to skip hers); alice favourites a fifth of bob's new statuses."""
    from flask import current_app

    root = current_app.config["BASE_URL"]
    authors = {a.nickname: a for a in db.session.scalars(select(Account).where(Account.domain.is_(None)))}
    if "carol" not in authors:
        carol_id = new_flake_id()
        db.session.execute(
            insert(Account), [{"id": carol_id, "nickname": "carol", "ap_id": f"{root}/users/carol"}]
        )
        db.session.commit()
        authors["carol"] = db.session.get(Account, carol_id)
    order = [authors["alice"], authors["bob"], authors["carol"]]
    existing = db.session.scalar(select(func.count()).select_from(Status)) or 0
    wanted = max(0, total - existing)
    made: dict[str, int] = {a.id: 0 for a in order}
    favourites = 0
    for start in range(0, wanted, BATCH):
        size = min(BATCH, wanted - start)
        first_context = (db.session.scalar(select(func.max(Context.id))) or 0) + 1
        db.session.execute(insert(Context), [{"id": first_context + i} for i in range(size)])
        statuses = []
        liked = []
        for i in range(size):
            n = start + i
            author = order[n % 3]
            status_id = new_flake_id()
            text = f"bulk status {n} #growth"
            statuses.append(
                {
                    "id": status_id,
                    "account_id": author.id,
                    "uri": f"{root}/objects/{status_id}",
                    "source": text,
                    "content": f"<p>{text}</p>",
                    "context_id": first_context + i,
                }
            )
            made[author.id] += 1
            if author.nickname == "bob" and n % 5 == 1:
                liked.append(
                    {"id": new_flake_id(), "account_id": authors["alice"].id, "status_id": status_id}
                )
        db.session.execute(insert(Status), statuses)
        if liked:
            db.session.execute(insert(Favourite), liked)
            db.session.execute(
                update(Status)
                .where(Status.id.in_([row["status_id"] for row in liked]))
                .values(favourites_count=Status.favourites_count + 1)
            )
            favourites += len(liked)
        db.session.commit()
    for account_id, count in made.items():
        db.session.execute(
            update(Account)
            .where(Account.id == account_id)
            .values(statuses_count=Account.statuses_count + count)
        )
    db.session.commit()
    follows = db.session.scalar(select(func.count()).select_from(Follow))
    print(f"{wanted} statuses, {favourites} favourites added ({follows} follows)")


def bulk_remote_followers(nickname: str, spec_path: str) -> None:
    """`followers` remote accounts spread over the spec's `hosts` (the federation probe's inbox
    servers), all with the spec's public key, following `nickname` (accepted)."""
    spec = json.loads(Path(spec_path).read_text())
    hosts, total = spec["hosts"], spec["followers"]
    followee = db.session.scalar(
        select(Account).where(Account.nickname == nickname, Account.domain.is_(None))
    )
    accounts, follows = [], []
    for n in range(total):
        host = hosts[n % len(hosts)]
        ap_id = f"http://{host}/users/f{n}"
        account_id = new_flake_id()
        accounts.append(
            {
                "id": account_id,
                "nickname": f"f{n}",
                "domain": host,
                "ap_id": ap_id,
                "inbox": f"{ap_id}/inbox",
                "shared_inbox": f"http://{host}/inbox",
                "key_id": f"{ap_id}#main-key",
                "public_key": spec["public_pem"],
            }
        )
        follows.append({"id": new_flake_id(), "follower_id": account_id, "followee_id": followee.id})
    db.session.execute(insert(Account), accounts)
    db.session.execute(insert(Follow), follows)
    db.session.execute(
        update(Account)
        .where(Account.id == followee.id)
        .values(followers_count=Account.followers_count + total)
    )
    db.session.commit()
    print(f"{total} remote followers of {nickname} on {len(hosts)} hosts")


def analyze() -> None:
    """PostgreSQL: statistics for the planner, as autovacuum gathers them on a real server after
    a bulk load. The bench's throwaway server runs without autovacuum (tests/scaled.py says why);
    without statistics the planner takes every table for a few rows and, on a page of the home
    timeline, reads and sorts all of a followed account's statuses (24 ms instead of 0.6 ms)."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as connection:
            connection.execute(text("ANALYZE"))
            connection.commit()


def main() -> None:
    kind = sys.argv[1]
    app = create_app()
    with app.app_context():
        if kind == "analyze":  # after the HTTP seeding (bench/run.py)
            analyze()
            return
        if kind == "remote-followers":
            bulk_remote_followers(sys.argv[2], sys.argv[3])
            analyze()
            return
        count = int(sys.argv[2])
        if kind == "accounts":
            bulk_accounts(count)
            print(f"{count} accounts")
        elif kind == "peers":  # the accounts of the relationships row (bench/seeding.py)
            print(json.dumps(bulk_accounts(count, prefix="peer")))
        elif kind == "growth":
            bulk_growth(count)
        else:
            raise SystemExit(f"unknown kind {kind}")
        analyze()


if __name__ == "__main__":
    main()
