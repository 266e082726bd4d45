"""Fixtures of the emoji pack tests: the fixture packs in the app's emoji folder, an admin."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import copy_fixture_pack
from tests.routes.pleroma.emoji_pack_helpers import PACKS


@pytest.fixture
def emoji_dir(app) -> Path:
    for name in PACKS:
        copy_fixture_pack(app, name)
    return Path(app.config["EMOJI_DIR"])


@pytest.fixture
def admin(make_account):
    return make_account("admin", is_admin=True)


@pytest.fixture
def admin_headers(admin, auth_headers) -> dict:
    return auth_headers(admin, "admin:write")
