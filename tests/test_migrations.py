"""`flask db upgrade` on a fresh instance builds exactly the schema the models describe: a model
change without its migration fails here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade
from flask_migrate import upgrade
from sqlalchemy import inspect
from sqlalchemy import text

from app import create_app
from models import db
from tests import scaled

pytestmark = [
    # Alembic says it cannot compare the expression indexes; the last test checks them itself.
    pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index"),
    pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index"),
    # migrations/env.py is Flask-Migrate's generated file; it tries get_engine() first.
    pytest.mark.filterwarnings("ignore:'get_engine' is deprecated:DeprecationWarning"),
]


@pytest.fixture
def migrated_app(tmp_path: Path) -> Iterator[Flask]:
    # On the scaled engines (tests/scaled.py) a database without tables, as a fresh instance has.
    made = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "fresh")} | scaled.empty_database())
    with made.app_context():
        upgrade()
        yield made
        db.session.remove()
        db.engine.dispose()


def _has_expression(index: Any) -> bool:
    """Functional indexes (lower(nickname), coalesce(domain, '')) that alembic cannot reflect."""
    return any(not hasattr(expression, "name") or expression.name is None for expression in index.expressions)


def _is_known_blind_spot(diff: Any) -> bool:
    # Alembic skips expression indexes when it reflects SQLite and then reports the model's
    # copy as missing; the migration does create them (checked separately below).
    if isinstance(diff, tuple) and diff[0] in ("add_index", "remove_index"):
        return _has_expression(diff[1])
    return False


def _differences() -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "compare_server_default": False, "render_as_batch": True},
        )
        diffs = compare_metadata(context, db.metadata)
    flat = [item for diff in diffs for item in (diff if isinstance(diff, list) else [diff])]
    return [diff for diff in flat if not _is_known_blind_spot(diff)]


def test_upgrade_builds_the_models_schema(migrated_app: Flask) -> None:
    differences = _differences()
    assert not differences, "models and migrations differ; run `flask db migrate`:\n" + "\n".join(
        map(str, differences)
    )


def test_upgrade_creates_every_table(migrated_app: Flask) -> None:
    tables = set(inspect(db.engine).get_table_names())
    missing = set(db.metadata.tables) - tables
    assert not missing
    assert "alembic_version" in tables


def test_upgrade_creates_the_expression_indexes(migrated_app: Flask) -> None:
    # `flask db migrate` leaves these out on SQLite: a regenerated migration must add them by hand.
    expected = {
        index.name
        for table in db.metadata.tables.values()
        for index in table.indexes
        if _has_expression(index)
    }
    listing = "SELECT name FROM sqlite_master WHERE type = 'index'"
    if db.engine.dialect.name == "postgresql":
        listing = "SELECT indexname FROM pg_indexes"
    rows = db.session.execute(text(listing)).scalars()
    assert expected <= set(rows)


def test_upgrade_is_at_head_and_idempotent(migrated_app: Flask) -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrated_app.extensions["migrate"].migrate.get_config())
    current = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert current in script.get_heads()
    upgrade()  # a second `make run` changes nothing
    assert db.session.execute(text("SELECT version_num FROM alembic_version")).scalar() == current


def test_downgrade_to_base_and_back(migrated_app: Flask) -> None:
    downgrade(revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade()
    assert not _differences()


def test_notification_ids_become_numbers_in_their_old_order(migrated_app: Flask) -> None:
    """SPEC 1.6: flake-id notifications are renumbered 1, 2, 3... in id order, and a marker
    moves to the number of the newest notification it covered."""
    from models import Account
    from services.accounts import create_local_account
    from services.follows import follow

    accounts = [create_local_account(f"n{i}", "secret-pw", email=f"n{i}@example.org") for i in range(4)]
    for follower in accounts[1:]:
        follow(follower, accounts[0])
    owner = accounts[0].id
    # Committed, with nothing read after: on PostgreSQL a read would hold the session's
    # transaction open, and the downgrade's DROP INDEX would wait for it for ever.
    db.session.commit()
    downgrade(revision="4c7e9a1d3b62")
    # Flake ids whose string order is not their insertion order (the third sorts first).
    old_ids = ["9hptFmVJ02khbzYJaS", "9hptFmVJ02khbzYJaT", "9hptFmVJ02khbzYJa0"]
    rows = db.session.execute(text("SELECT id FROM notification ORDER BY id")).scalars().all()
    assert rows == ["000000000000000001", "000000000000000002", "000000000000000003"]
    for old, new in zip(rows, old_ids, strict=True):
        db.session.execute(
            text("UPDATE notification SET id = :new WHERE id = :old"), {"new": new, "old": old}
        )
    db.session.execute(
        text(
            "INSERT INTO marker (id, account_id, timeline, last_read_id, version, updated_at) "
            "VALUES ('m1', :owner, 'notifications', '9hptFmVJ02khbzYJaSZ', 0, '2026-01-01')"
        ),
        {"owner": owner},
    )
    db.session.commit()
    upgrade()
    numbered = db.session.execute(text("SELECT id, from_account_id FROM notification ORDER BY id")).all()
    by_old = dict(zip(old_ids, [a.id for a in accounts[1:]], strict=True))
    assert numbered == [(1, by_old[old_ids[2]]), (2, by_old[old_ids[0]]), (3, by_old[old_ids[1]])]
    marker = db.session.execute(text("SELECT last_read_id FROM marker WHERE id = 'm1'")).scalar()
    assert marker == "2"
    # The sequence goes on after the copied ids and never reuses a deleted one.
    db.session.execute(text("DELETE FROM notification WHERE id = 3"))
    follow(create_local_account("n9", "secret-pw", email="n9@example.org"), db.session.get(Account, owner))
    db.session.commit()
    assert db.session.execute(text("SELECT MAX(id) FROM notification")).scalar() == 4
