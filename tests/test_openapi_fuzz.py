"""schemathesis over /openapi.json against a seeded Kenoma (in-process WSGI), as an admin.

Every operation of the document gets generated requests (valid ones and, in the long run,
invalid ones too); each answer must not be a 5xx, must use a documented status code and
content type, and must match its documented schema. Path parameters are half the time replaced
by ids that exist (a status, a notification, a conversation...), so the fuzzing reaches the code
behind the 404s. The database and the emoji folder are restored before each operation, so what
one operation deletes or revokes does not starve the next.

`make test` runs the fast variant (a few examples per operation, derandomized); `make fuzz` runs
the long one (`-m slow`). KENOMA_FUZZ_EXAMPLES sets the long run's examples per operation.
"""

from __future__ import annotations

import base64
import io
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from PIL import Image
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance
from schemathesis.specs.openapi.checks import response_schema_conformance
from schemathesis.specs.openapi.checks import status_code_conformance

from app import create_app
from models import db
from tests.conftest import BASE_URL
from tests.conftest import password_token
from tests.emoji_fixtures import fixture_packs

FAST_EXAMPLES = 4
LONG_EXAMPLES = int(os.environ.get("KENOMA_FUZZ_EXAMPLES", "60"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
PACKS = ("test_pack", "blobs.gg")
PASSWORD = "secret-pw"
_SETTINGS = {
    "deadline": None,
    "database": None,
    "suppress_health_check": list(HealthCheck),
}


@dataclass
class Seeded:
    """The live app, its files, the admin's token and the ids that exist, by parameter name."""

    app: Flask
    folder: Path
    token: str
    known: dict[str, list[str]] = field(default_factory=dict)
    cases: dict[str, int] = field(default_factory=dict)

    def restore(self) -> None:
        """Put the database, uploads and emoji folder back as seeded."""
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()
        for name in ("instance", "emoji"):
            shutil.rmtree(self.folder / name)
            # copy (not copy2): fresh mtimes, so the emoji cache keyed on them reloads.
            shutil.copytree(self.folder / f"{name}.seed", self.folder / name, copy_function=shutil.copy)


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


PNG_DATA_URL = "data:image/png;base64," + base64.b64encode(_png()).decode()


def _seed(folder: Path) -> Seeded:
    (folder / "emoji").mkdir(parents=True)
    for pack in PACKS:
        shutil.copytree(fixture_packs() / "emoji" / pack, folder / "emoji" / pack)
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(folder / "instance"),
            "EMOJI_DIR": str(folder / "emoji"),
            "BASE_URL": BASE_URL,
            "JOBS_IMMEDIATE": True,
            "RATELIMIT_ENABLED": False,
            "REGISTRATIONS_OPEN": True,
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_COST": 64,
        }
    )
    with app.app_context():
        db.create_all()
        known = _seed_content(app)
        db.session.remove()
        db.engine.dispose()
    for name in ("instance", "emoji"):
        shutil.copytree(folder / name, folder / f"{name}.seed")
    return Seeded(app=app, folder=folder, token=known.pop("token")[0], known=known)


def _seed_content(app: Flask) -> dict[str, list[str]]:
    """An admin and two others, and one of each thing the API names by id, made through the API."""
    from services.accounts import create_local_account

    admin = create_local_account("admin", PASSWORD, email="admin@example.org")
    admin.is_admin = True
    bob = create_local_account("bob", PASSWORD, email="bob@example.org")
    carol = create_local_account("carol", PASSWORD, email="carol@example.org")
    carol.is_locked = True
    db.session.commit()
    ids = {"admin": admin.id, "bob": bob.id, "carol": carol.id}
    client = app.test_client()
    registered = client.post(
        "/api/v1/apps",
        data={
            "client_name": "fuzz",
            "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
            "scopes": "read write follow push admin",
        },
    ).get_json()

    def login(nickname: str) -> dict:
        token = password_token(client, registered, nickname, "read write follow push admin", PASSWORD)
        return {"Authorization": f"Bearer {token}"}

    as_admin, as_bob, as_carol = login("admin"), login("bob"), login("carol")

    def call(method: str, path: str, headers: dict, **kwargs: Any) -> Any:
        answer = client.open(path, method=method, headers=headers, **kwargs)
        assert answer.status_code == 200, (path, answer.status_code, answer.get_data(as_text=True))
        return answer.get_json()

    media = call(
        "POST",
        "/api/v1/media",
        as_admin,
        data={"file": (io.BytesIO(_png()), "red.png"), "description": "red"},
    )
    post = call(
        "POST",
        "/api/v1/statuses",
        as_admin,
        json={"status": "hello #kenoma :blank: @bob", "media_ids": [media["id"]]},
    )
    reply = call(
        "POST", "/api/v1/statuses", as_bob, json={"status": "@admin hi", "in_reply_to_id": post["id"]}
    )
    dm = call("POST", "/api/v1/statuses", as_admin, json={"status": "@bob secret", "visibility": "direct"})
    quote = call("POST", "/api/v1/statuses", as_bob, json={"status": "look", "quote_id": post["id"]})
    call("POST", f"/api/v1/statuses/{post['id']}/favourite", as_bob)
    call("PUT", f"/api/v1/pleroma/statuses/{post['id']}/reactions/👍", as_bob)
    call("POST", f"/api/v1/accounts/{ids['admin']}/follow", as_bob)
    call("POST", f"/api/v1/accounts/{ids['bob']}/follow", as_admin)
    call("POST", f"/api/v1/accounts/{ids['bob']}/pin", as_admin)
    call("POST", f"/api/v1/accounts/{ids['carol']}/follow", as_admin)  # a pending request to carol
    call("PATCH", "/api/v1/accounts/update_credentials", as_admin, json={"locked": True})
    call("POST", f"/api/v1/accounts/{ids['admin']}/follow", as_carol)  # and one to the admin
    call("PUT", f"/api/v1/pleroma/statuses/{reply['id']}/reactions/🎉", as_admin)
    folder = call("POST", "/api/v1/pleroma/bookmark_folders", as_admin, json={"name": "later"})
    call("POST", f"/api/v1/statuses/{reply['id']}/bookmark", as_admin, json={"folder_id": folder["id"]})
    call("POST", "/api/v1/pleroma/scrobble", as_admin, json={"title": "a song", "artist": "someone"})
    call("POST", "/api/v1/reports", as_admin, json={"account_id": ids["bob"], "status_ids": [reply["id"]]})
    call(
        "POST",
        "/api/v1/push/subscription",
        as_admin,
        json={
            "subscription": {
                "endpoint": "https://push.example/1",
                "keys": {"p256dh": "key", "auth": "secret"},
            },
            "data": {"alerts": {"mention": True}},
        },
    )
    call("PATCH", "/api/v1/pleroma/settings/pleroma_fe", as_admin, json={"theme": "dark"})
    notifications = call("GET", "/api/v1/notifications", as_admin)
    conversations = call("GET", "/api/v1/conversations", as_admin)
    tokens = call("GET", "/api/oauth_tokens", as_admin)
    account_refs = [ids["admin"], ids["bob"], ids["carol"], "admin", "bob"]
    return {
        "token": [as_admin["Authorization"].removeprefix("Bearer ")],
        "ref": account_refs,
        "account_ref": account_refs,
        "account_id": account_refs,
        "nickname": ["admin", "bob"],
        "status_id": [post["id"], reply["id"], dm["id"], quote["id"]],
        "notification_id": [n["id"] for n in notifications][:3],
        "participation_id": [c["id"] for c in conversations],
        "media_id": [media["id"]],
        "path": [media["url"].removeprefix(f"{BASE_URL}/media/")],
        "folder_id": [folder["id"]],
        "emoji": ["👍", "blank", "🎉"],
        "hashtag": ["kenoma"],
        "app_name": ["pleroma_fe", "masto_fe"],
        "method": ["totp", "mfa"],
        "version": ["2.0", "2.1.json"],
        "name": [*PACKS, "admin"],
        "pack": list(PACKS),
        "file": ["blank.png"],
        "filename": ["avi.png", "banner.png"],
        "token_id": [str(t["id"]) for t in tokens],
        "list_id": ["1"],
        "uuid": [post["uri"].rsplit("/", 1)[1]],  # /objects/<uuid>
        # Query and body parameters
        "acct": ["admin", "bob", "admin@127.0.0.1:5000"],
        "resource": ["acct:admin@127.0.0.1:5000", f"{BASE_URL}/users/admin"],
        "shortcode": ["blank", "blank2"],
        "status_ids": [post["id"], reply["id"]],
        "media_ids": [media["id"]],
        "in_reply_to_id": [post["id"], reply["id"]],
        "quote_id": [post["id"]],
        "recipients": [ids["bob"], ids["carol"]],
        "id": [n["id"] for n in notifications][:3] + [ids["bob"]],
        "max_id": [n["id"] for n in notifications][:1],
        "page": ["true"],  # ActivityPub collection pages
        "alias": ["bob", "carol@127.0.0.1:5000"],
        "password": [PASSWORD],
        "username": ["admin", "admin@example.org"],
        "client_id": [registered["client_id"]],
        "client_secret": [registered["client_secret"]],
        "redirect_uri": ["urn:ietf:wg:oauth:2.0:oob"],
        "scope": ["read", "read write follow"],
        "status": ["hello @bob #kenoma :blank:", "**markdown** words"],
        "language": ["en", "de"],
        "content_type": ["text/plain", "text/markdown", "text/html"],
        "img": [PNG_DATA_URL, ""],
        "banner": [PNG_DATA_URL, ""],
        "target_account": ["bob", "carol@127.0.0.1:5000"],
        "visibility": ["public", "unlisted", "private", "direct"],
        "q": ["admin", "hello", "#kenoma"],
    }


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    seeded = _seed(tmp_path_factory.mktemp("fuzz"))
    yield seeded
    # `pytest -s` shows how much was tried (the note counts the cases).
    print(f"\nfuzz: {sum(seeded.cases.values())} cases over {len(seeded.cases)} operations")
    with seeded.app.app_context():
        db.session.remove()
        db.engine.dispose()


def _with_known(known: dict[str, list[str]]) -> Any:
    """A hook: half the time, each parameter that names a known thing (a string, or a list of
    strings) becomes one that exists; the other half the generated values stay."""

    def value(name: str, generated: Any) -> Any:
        if not known.get(name):
            return st.just(generated)
        if isinstance(generated, str):
            return st.sampled_from(known[name])
        if isinstance(generated, list):
            return st.lists(st.sampled_from(known[name]), min_size=1, max_size=2)
        return st.just(generated)

    def hook(context: Any, params: Any) -> Any:
        if not isinstance(params, dict) or not params:
            return st.just(params)
        replaced = st.fixed_dictionaries({name: value(name, v) for name, v in params.items()})
        return st.one_of(st.just(params), replaced)

    return hook


def _schema(seeded: Seeded) -> Any:
    schema = schemathesis.openapi.from_wsgi("/openapi.json", seeded.app)
    schema.config.update(headers={"Authorization": f"Bearer {seeded.token}"})
    # The admin token goes in every request: no generated credentials on top.
    schema.config.generation.update(with_security_parameters=False)

    for container in ("path_parameters", "query", "body"):
        schema.hook(f"flatmap_{container}")(_with_known(seeded.known))

    return schema


def _fuzz(seeded: Seeded, modes: list[GenerationMode], **hypothesis: Any) -> None:
    """Each operation in turn, from a freshly restored database; every failing operation is
    reported (its first failure), not just the first one."""
    schema = _schema(seeded)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 200, "the document lost its operations"
    for operation in operations:
        seeded.restore()
        strategies = [operation.as_strategy(mode, hooks=schema.hooks) for mode in modes]

        @given(case=st.one_of(strategies))
        @settings(**_SETTINGS, **hypothesis)
        def run(case: Any) -> None:
            seeded.cases[case.operation.label] = seeded.cases.get(case.operation.label, 0) + 1
            case.call_and_validate(checks=CHECKS)

        try:
            run()
        except (Exception, BaseExceptionGroup) as error:  # every operation's failure is collected
            failures.append(f"{operation.label}: {error}")
    assert not failures, f"{len(failures)} operations failed:\n\n" + "\n\n".join(failures)


def test_openapi_fuzz_fast(seeded: Seeded) -> None:
    """A few valid requests per operation: no 5xx, and every answer as documented."""
    _fuzz(seeded, [GenerationMode.POSITIVE], max_examples=FAST_EXAMPLES, derandomize=True)
    assert sum(seeded.cases.values()) > 200  # the run really sent requests


@pytest.mark.slow
def test_openapi_fuzz_long(seeded: Seeded) -> None:
    """Many valid and invalid requests per operation (make fuzz)."""
    _fuzz(seeded, [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=LONG_EXAMPLES)
    assert sum(seeded.cases.values()) > 200  # the run really sent requests
