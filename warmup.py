"""Warming the code of the hot paths in gunicorn's master, before the workers are forked.

CPython 3.11 writes into every code object, function and constant a request touches (inline
caches, specialised bytecode, reference counts), and each worker forked from the preloaded master
copies the pages it writes: ~33 MB per worker after the bench's load (bench/README.md, issue 19).
Running the requests once in the master first moves the one-time part of that (quickening, lazily
built statements, the modules and objects a first call makes) into the pages every worker shares.

A production server has no token to do that with, and must not touch its own data: the requests
run against a throwaway app of the same code, in a temporary folder with its own SQLite database,
seeded with two accounts and a token. Nothing leaves that folder (no jobs consumer, no Redis, no
mail server, nothing federated: the accounts follow nobody remote), and the folder is removed.
The process-wide rate limiter is put back as the real app left it.

Off with KENOMA_WARMUP=false (gunicorn.conf.py reads it); the test suite never runs it."""

from __future__ import annotations

import gc
import logging
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

import keys
import ratelimits
from app import create_app
from models import Account
from models import App
from models import db

log = logging.getLogger(__name__)

# Symlinked from the real instance folder: create_app would otherwise generate them (an RSA
# pair takes ~0.1 s). Only read.
_KEY_FILES = ("vapid_private.pem", "instance_actor.pem")
TIMES = 2  # the second pass takes the kept-answer paths (readcache.py)


def warm_up(real: Flask) -> float:
    """Run the hot requests through a throwaway copy of `real`; the seconds it took."""
    started = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="kenoma-warmup-"))
    limiter_state = dict(ratelimits.limiter.__dict__)
    try:
        app = _throwaway_app(real, folder)
        with app.app_context():
            db.create_all()
            _requests(app.test_client(), _seed(app))
            db.session.remove()
            db.engine.dispose()
    finally:
        # create_app's init_app took the limiter (one per process) for the throwaway app.
        ratelimits.limiter.__dict__.clear()
        ratelimits.limiter.__dict__.update(limiter_state)
        shutil.rmtree(folder, ignore_errors=True)
    gc.collect()
    return time.perf_counter() - started


def _throwaway_app(real: Flask, folder: Path) -> Flask:
    instance = folder / "instance"
    instance.mkdir()
    for name in _KEY_FILES:
        source = Path(real.instance_path) / name
        if source.exists():
            (instance / name).symlink_to(source)
    return create_app(
        {
            "INSTANCE_PATH": str(instance),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'warmup.db'}",
            "SECRET_KEY": "warm-up",
            "BASE_URL": real.config["BASE_URL"],
            "EMOJI_DIR": str(folder / "emoji"),
            "FRONTEND_DIR": str(folder / "frontend"),
            "REDIS_URL": "",
            "RATELIMIT_ENABLED": False,
            "RATELIMIT_STORAGE_URI": "memory://",
            "MAIL_SERVER": "",
            "MAIL_BACKEND": "locmem",
            "JOBS_IMMEDIATE": False,
            "JOBS_CONSUMER_THREAD": False,
            "TESTING_API": False,
            "QUERY_COUNT_HEADER": False,
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_COST": 64,
        }
    )


def _seed(app: Flask) -> dict[str, Any]:
    """alice and bob, each with a token; the instance actor's key pair stands in for theirs."""
    from services.passwords import hash_password

    private, public = keys.instance_actor_keys(Path(app.instance_path))
    accounts = [
        Account(
            nickname=nickname,
            ap_id=f"{app.config['BASE_URL']}/users/{nickname}",
            email=f"{nickname}@warmup.invalid",
            password_hash=hash_password("warm-up"),
            is_confirmed=True,
            hide_favorites=False,  # so the favourites page is built, not refused
            private_key=private,
            public_key=public,
        )
        for nickname in ("alice", "bob")
    ]
    client_app = App(
        client_id="warmup",
        client_secret="warmup",
        name="warm-up",
        redirect_uris_text="urn:ietf:wg:oauth:2.0:oob",
        scopes="read write follow push",
    )
    db.session.add_all([*accounts, client_app])
    db.session.commit()
    from auth import issue_token

    headers = {
        account.nickname: {"Authorization": f"Bearer {issue_token(client_app, account)['access_token']}"}
        for account in accounts
    }
    return {"headers": headers, "ids": {account.nickname: str(account.id) for account in accounts}}


# The reads every client makes on start-up and on each refresh (the bench's rows); `{...}` are
# filled from the seeded ids. Each runs TIMES over, as alice.
READS = (
    "/api/v1/instance",
    "/api/v2/instance",
    "/api/v1/accounts/verify_credentials",
    "/api/v1/statuses/{theirs}",
    "/api/v1/statuses/{theirs}/context",
    "/api/v1/pleroma/statuses/{theirs}/reactions",
    "/api/v1/timelines/home?limit=20",
    "/api/v1/timelines/public?limit=20",
    "/api/v1/accounts/{bob}/statuses?limit=20",
    "/api/v1/pleroma/accounts/{alice}/favourites?limit=20",
    "/api/v1/favourites?limit=20",
    "/api/v1/notifications?limit=20",
    "/api/v1/accounts/relationships?id[]={bob}&id[]={alice}",
    "/api/v1/custom_emojis",
    "/api/v1/pleroma/emoji",
)


def _requests(client: FlaskClient, seeded: dict[str, Any]) -> None:
    alice, bob = seeded["headers"]["alice"], seeded["headers"]["bob"]
    ids = seeded["ids"]

    def call(path: str, method: str = "GET", headers: dict | None = None, **kwargs: Any) -> Any:
        answer = client.open(path, method=method, headers=headers, **kwargs)
        # A failure is no reason not to start: the warm-up only saves memory.
        if answer.status_code >= 400 and headers is not None:
            log.warning("warm-up: %s %s answered %s", method, path, answer.status_code)
        return answer.get_json(silent=True) or {}

    call(f"/api/v1/accounts/{ids['bob']}/follow", "POST", alice)
    call(f"/api/v1/accounts/{ids['alice']}/follow", "POST", bob)
    theirs = call("/api/v1/statuses", "POST", bob, data={"status": "@alice hello"})
    mine = call("/api/v1/statuses", "POST", alice, data={"status": "hello #warm"})
    for status, who in ((theirs, alice), (mine, bob)):
        call(f"/api/v1/statuses/{status.get('id')}/favourite", "POST", who)
        call(f"/api/v1/pleroma/statuses/{status.get('id')}/reactions/%F0%9F%91%8D", "PUT", who)
    ids["theirs"] = theirs.get("id")
    for _ in range(TIMES):
        for path in READS:
            call(path.format(**ids), headers=alice)
        call("/api/v1/accounts/verify_credentials")  # no token: the refusal
        call(f"/api/v1/statuses/{ids['theirs']}/unfavourite", "POST", alice)
        call(f"/api/v1/statuses/{ids['theirs']}/favourite", "POST", alice)
        call(f"/api/v1/pleroma/statuses/{ids['theirs']}/reactions/%F0%9F%94%A5", "PUT", alice)
        call(f"/api/v1/pleroma/statuses/{ids['theirs']}/reactions/%F0%9F%94%A5", "DELETE", alice)
        call("/api/v1/statuses", "POST", alice, data={"status": "warm"})
