"""App-wide behaviour: both Pleroma prefixes, trailing slashes, the OpenAPI document, instance
isolation, SQLite pragmas and configuration precedence (SPEC 0, 1.8; STYLE "Configuration")."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from app import ROOT
from app import create_app
from models import Account
from models import db
from routes import PLEROMA_VERSIONED_GROUPS
from tests.conftest import form_login

V1 = "/api/v1/pleroma/"
LEGACY = "/api/pleroma/"


def _routes(app: Flask) -> dict[str, set[str]]:
    """rule -> methods (without the automatic HEAD/OPTIONS)."""
    found: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        found.setdefault(rule.rule, set()).update((rule.methods or set()) - {"HEAD", "OPTIONS"})
    return found


@pytest.fixture
def fresh_app(tmp_path: Path) -> Callable[..., Flask]:
    """Build extra apps on their own instance folders; their engines are closed afterwards."""
    built: list[Flask] = []

    def build(name: str = "other", **config: object) -> Flask:
        made = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / name), **config})
        built.append(made)
        return made

    yield build
    for made in built:
        with made.app_context():
            db.engine.dispose()


# --- Both Pleroma prefixes (SPEC 1.8, 21.3) -------------------------------------------------------


def _versioned_only(app: Flask) -> set[str]:
    """Rules of the groups Pleroma mounts under /api/v1/pleroma and /api/v2/pleroma only (chats)."""
    return {
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.split(".")[0].removeprefix("pleroma_") in PLEROMA_VERSIONED_GROUPS
    }


def test_every_pleroma_route_has_a_twin_under_the_other_prefix(app: Flask) -> None:
    routes = _routes(app)
    pleroma = [rule for rule in routes if rule.startswith((V1, LEGACY)) and rule not in _versioned_only(app)]
    # Pleroma groups exist in this build; an empty walk would prove nothing.
    assert pleroma, "no /api/v1/pleroma or /api/pleroma routes are mounted"
    missing = []
    for rule in pleroma:
        twin = LEGACY + rule.removeprefix(V1) if rule.startswith(V1) else V1 + rule.removeprefix(LEGACY)
        if routes.get(twin) != routes[rule]:
            missing.append(f"{rule} {sorted(routes[rule])} -> {twin} {sorted(routes.get(twin, set()))}")
    assert not missing, "\n".join(missing)


def test_pleroma_twins_share_one_view_function(app: Flask) -> None:
    by_rule = {}
    for rule in app.url_map.iter_rules():
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            by_rule[(rule.rule, method)] = app.view_functions[rule.endpoint]
    versioned_only = _versioned_only(app)
    for (rule, method), view in by_rule.items():
        if rule.startswith(V1) and rule not in versioned_only:
            # One definition mounted twice, never a copy of the route (SPEC 0).
            assert by_rule[(LEGACY + rule.removeprefix(V1), method)] is view, rule


# --- Trailing slashes: same answer, never a 308 (SPEC 1.8, CLIENTS.md 4.2) ----------------------


def test_instance_with_trailing_slash(client: FlaskClient) -> None:
    plain = client.get("/api/v1/instance")
    slashed = client.get("/api/v1/instance/")
    assert plain.status_code == 200
    assert slashed.status_code == 200
    assert slashed.get_json()["uri"] == plain.get_json()["uri"]


def test_authorize_form_with_trailing_slash(client: FlaskClient, oauth_app: dict) -> None:
    response = client.get(
        "/oauth/authorize/",
        query_string={
            "response_type": "code",
            "client_id": oauth_app["client_id"],
            "redirect_uri": "urn:ietf:wg:oauth:2.0:oob",
            "scope": "read write",
        },
    )
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "authorization[password]" in response.get_data(as_text=True)


def test_blocks_with_trailing_slash(
    client: FlaskClient, account: Account, auth_headers: Callable[..., dict]
) -> None:
    response = client.get("/api/v1/blocks/", headers=auth_headers(account))
    assert response.status_code == 200
    assert response.get_json() == []


def test_post_with_trailing_slash_is_not_redirected(client: FlaskClient) -> None:
    response = client.post(
        "/api/v1/apps/", data={"client_name": "Slash", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"}
    )
    assert response.status_code == 200
    assert response.get_json()["name"] == "Slash"


def test_no_route_answers_a_trailing_slash_with_a_redirect(client: FlaskClient, app: Flask) -> None:
    for rule in app.url_map.iter_rules():
        if "<" in rule.rule or "GET" not in (rule.methods or set()) or rule.rule.endswith("/"):
            continue
        if rule.endpoint == "static" or rule.endpoint.startswith("openapi."):
            continue  # the API document and Swagger UI are not client routes
        response = client.get(rule.rule + "/")
        assert response.status_code not in (301, 308, 404), (rule.rule, response.status_code)


# --- The OpenAPI document ---------------------------------------------------------------------


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def test_openapi_document_lists_the_routes(client: FlaskClient, app: Flask) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    document = response.get_json()
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    assert "/api/v1/apps" in paths
    assert "post" in paths["/oauth/token"]
    # Every API route is described (files, docs and static aside).
    undocumented = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(("/api/", "/oauth/")) and _openapi_path(rule.rule) not in paths
    ]
    assert not undocumented, undocumented


def test_openapi_document_describes_inputs(client: FlaskClient) -> None:
    operation = client.get("/openapi.json").get_json()["paths"]["/api/v1/apps"]["post"]
    assert "requestBody" in operation or "parameters" in operation


# --- One checkout, several instances (SPEC 0) ---------------------------------------------------


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.mark.embedded
def test_two_instances_share_no_file(fresh_app: Callable[..., Flask], tmp_path: Path) -> None:
    checkout_instance = ROOT / "instance"
    before = _files(checkout_instance)
    first = fresh_app("one")
    second = fresh_app("two")
    for made in (first, second):
        with made.app_context():
            db.create_all()
            db.session.execute(text("SELECT 1"))
    assert first.instance_path == str((tmp_path / "one").resolve())
    assert second.instance_path == str((tmp_path / "two").resolve())
    assert first.config["SECRET_KEY"] != second.config["SECRET_KEY"]
    assert first.config["VAPID_PUBLIC_KEY"] != second.config["VAPID_PUBLIC_KEY"]
    assert first.config["SQLALCHEMY_DATABASE_URI"] != second.config["SQLALCHEMY_DATABASE_URI"]
    for made, name in ((first, "one"), (second, "two")):
        folder = tmp_path / name
        assert str(folder) in made.config["SQLALCHEMY_DATABASE_URI"]
        assert (folder / "kenoma.db").exists()
        assert (folder / "secret_key").read_text().strip() == made.config["SECRET_KEY"]
        assert (folder / "vapid_private.pem").exists()
        assert Path(made.extensions["kenoma_jobs"].huey.storage.filename).parent == folder
        # Every path-like setting stays inside the instance (EMOJI_DIR is shared static data).
        for key, value in made.config.items():
            if isinstance(value, str) and len(value) > 1 and value.startswith("/") and key != "EMOJI_DIR":
                assert value.startswith(str(folder)), (key, value)
    # Nothing was written to the checkout's own instance folder.
    assert _files(checkout_instance) == before


@pytest.mark.embedded
def test_instance_path_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    target = tmp_path / "from-env"
    monkeypatch.setenv("KENOMA_INSTANCE_PATH", str(target))
    made = create_app({"TESTING": True})
    assert made.instance_path == str(target.resolve())
    assert (target / "secret_key").exists()
    assert made.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{target.resolve() / 'kenoma.db'}"


def test_secret_key_is_stable_across_restarts(fresh_app: Callable[..., Flask]) -> None:
    assert fresh_app("same").config["SECRET_KEY"] == fresh_app("same").config["SECRET_KEY"]
    assert fresh_app("same").config["VAPID_PUBLIC_KEY"] == fresh_app("same").config["VAPID_PUBLIC_KEY"]


def test_vapid_public_key_follows_a_replaced_private_key(
    fresh_app: Callable[..., Flask], tmp_path: Path
) -> None:
    first = fresh_app("vapid").config["VAPID_PUBLIC_KEY"]
    point = base64.urlsafe_b64decode(first + "=")
    assert len(point) == 65 and point[0] == 4  # an uncompressed P-256 point
    (tmp_path / "vapid" / "vapid_private.pem").unlink()  # a new pair on the next start
    assert fresh_app("vapid").config["VAPID_PUBLIC_KEY"] != first


# Libraries that only a CLI command, an upload, a reaction, a captcha or MFA setup needs: a server
# process that never does these must not carry them (issue 6, memory). requests, urllib3 and
# cryptography are no longer among them: a federating server signs, fetches and delivers from its
# first post on (SPEC 24), so they load at start — in the gunicorn master, shared by the workers.
# redis and psycopg: huey.storage imports them when installed; jobs.py hides them from that
# import unless Redis is configured (issue 19: ~16 MB per process).
LAZY_LIBRARIES = (
    "alembic",
    "flask_migrate",
    "pygments",
    "PIL",
    "emoji",
    "captcha",
    "segno",
    "redis",
    "psycopg",
)


@pytest.mark.embedded
def test_create_app_leaves_rarely_used_libraries_unloaded(
    fresh_app: Callable[..., Flask], tmp_path: Path
) -> None:
    fresh_app("lazy")  # the first start makes the keys, which does need cryptography
    code = "import sys; from app import create_app; create_app(); print(*sys.modules)"
    env = {**os.environ, "KENOMA_INSTANCE_PATH": str(tmp_path / "lazy"), "KENOMA_EMOJI_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    # Packages, and the subpackages named above.
    names = done.stdout.split()
    loaded = {name.split(".")[0] for name in names} | {".".join(name.split(".")[:2]) for name in names}
    assert "sqlalchemy" in loaded  # the list is the real one
    assert loaded.isdisjoint(LAZY_LIBRARIES), sorted(loaded.intersection(LAZY_LIBRARIES))


def test_flask_db_sets_up_flask_migrate_when_run(fresh_app: Callable[..., Flask]) -> None:
    made = fresh_app("migrate")
    answer = made.test_cli_runner().invoke(args=["db", "--help"])
    assert answer.exit_code == 0, answer.output
    assert "upgrade" in answer.output and "backup" in answer.output  # Flask-Migrate's and ours
    assert made.extensions["migrate"].directory == str(ROOT / "migrations")


# --- SQLite ---------------------------------------------------------------------------------


@pytest.mark.embedded
def test_sqlite_pragmas_on_every_connection(app: Flask) -> None:
    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
        assert connection.execute(text("PRAGMA soft_heap_limit")).scalar() == 4 * 1024 * 1024
    assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1


@pytest.mark.embedded
def test_sqlite_heap_bound_is_a_setting(fresh_app: Callable[..., Flask]) -> None:
    for bound in (1_500_000, 0):  # 0: SQLite's own default, no bound
        made = fresh_app(f"heap{bound}", SQLITE_HEAP_BYTES=bound)
        with made.app_context(), db.engine.connect() as connection:
            assert connection.execute(text("PRAGMA soft_heap_limit")).scalar() == bound


# --- Configuration precedence: defaults < instance/config.py < KENOMA_* < test mapping ----------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    import os

    for name in list(os.environ):
        if name.startswith("KENOMA_"):
            monkeypatch.delenv(name)
    yield monkeypatch


def test_config_defaults(clean_env: pytest.MonkeyPatch, fresh_app: Callable[..., Flask]) -> None:
    made = fresh_app()
    assert made.config["BASE_URL"] == "http://127.0.0.1:5000"
    assert made.config["REGISTRATIONS_OPEN"] is False
    assert made.config["ALLOW_PRIVATE_FETCH"] is False
    assert made.config["RATELIMIT_ENABLED"] is True
    assert made.config["MAX_TOOT_CHARS"] == 5000
    assert made.config["UPLOAD_LIMIT"] == 16 * 1024 * 1024
    assert made.config["SESSION_COOKIE_NAME"] == "_pleroma_key"
    assert made.config["EMOJI_DIR"] == str(ROOT / "static" / "emoji")


def test_config_precedence(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, fresh_app: Callable[..., Flask]
) -> None:
    instance = tmp_path / "layered"
    instance.mkdir()
    (instance / "config.py").write_text(
        'INSTANCE_NAME = "From file"\n'
        "MAX_TOOT_CHARS = 100\n"
        'BASE_URL = "https://file.example/"\n'
        "UPLOAD_LIMIT = 1024\n"
    )
    clean_env.setenv("KENOMA_MAX_TOOT_CHARS", "200")
    clean_env.setenv("KENOMA_BASE_URL", "https://env.example")
    clean_env.setenv("KENOMA_REGISTRATIONS_OPEN", "true")
    clean_env.setenv("KENOMA_ALLOW_PRIVATE_FETCH", "true")
    made = fresh_app("layered", BASE_URL="https://mapping.example/")
    assert made.config["INSTANCE_NAME"] == "From file"  # file over default
    assert made.config["UPLOAD_LIMIT"] == 1024
    assert made.config["MAX_TOOT_CHARS"] == 200  # env over file, JSON-decoded to an int
    assert made.config["REGISTRATIONS_OPEN"] is True  # "true" is the bool, not a string
    assert made.config["ALLOW_PRIVATE_FETCH"] is True
    assert made.config["BASE_URL"] == "https://mapping.example"  # mapping over env, trailing slash dropped
    # Derived settings follow the layered values.
    assert made.config["MAX_CONTENT_LENGTH"] == 1024 + 1024 * 1024


def test_config_env_string_values(clean_env: pytest.MonkeyPatch, fresh_app: Callable[..., Flask]) -> None:
    clean_env.setenv("KENOMA_BASE_URL", "https://social.example/")
    clean_env.setenv("KENOMA_INSTANCE_NAME", "Env name")
    made = fresh_app()
    assert made.config["BASE_URL"] == "https://social.example"
    assert made.config["INSTANCE_NAME"] == "Env name"


def test_config_secret_key_from_env_is_not_written(
    clean_env: pytest.MonkeyPatch, fresh_app: Callable[..., Flask], tmp_path: Path
) -> None:
    clean_env.setenv("KENOMA_SECRET_KEY", "operator-chosen-secret")
    made = fresh_app("keyed")
    assert made.config["SECRET_KEY"] == "operator-chosen-secret"
    assert not (tmp_path / "keyed" / "secret_key").exists()


def test_config_reaches_the_api(clean_env: pytest.MonkeyPatch, fresh_app: Callable[..., Flask]) -> None:
    clean_env.setenv("KENOMA_MAX_TOOT_CHARS", "321")
    made = fresh_app("api", BASE_URL="http://kenoma.test")
    with made.app_context():
        db.create_all()
    instance = made.test_client().get("/api/v1/instance").get_json()
    assert instance["max_toot_chars"] == 321
    assert instance["uri"] in ("http://kenoma.test", "kenoma.test")


def test_a_request_without_the_session_cookie_builds_no_cookie_signer(
    app: Flask, client: FlaskClient, account: Account, oauth_app: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    signer = app.session_interface.get_signing_serializer
    built: list[int] = []
    monkeypatch.setattr(
        app.session_interface, "get_signing_serializer", lambda a: built.append(1) or signer(a)
    )
    assert client.get("/api/v1/instance").status_code == 200
    assert built == []  # no cookie, nothing to verify or to save
    # The login form's session still signs, sets and reads its cookie.
    login = form_login(client, oauth_app)
    assert login.status_code in (200, 302)
    assert client.get_cookie("_pleroma_key") is not None
    assert built
    assert client.get("/api/v1/accounts/verify_credentials").get_json()["id"] == account.id
