"""Emptying an instance (SPEC 27): `flask --app app reset` and, for client test suites,
`POST /api/kenoma/testing/reset`. Every row goes, and the uploaded files with them; the schema,
the keys, the configuration, the front-end and the operator's emoji packs stay (the demo's own
pack goes with the demo data). The instance works as a fresh one afterwards.
"""

from __future__ import annotations

import shutil

from sqlalchemy import delete
from sqlalchemy import inspect
from sqlalchemy import text

import emoji_packs
from models import begin_write
from models import db
from services.media import media_root

# The custom emoji pack `flask demo` makes (services/demo.py); other packs are the operator's.
DEMO_EMOJI_PACK = "kenoma_demo"


def empty_instance() -> int:
    """Delete every row (children before parents), in one transaction; returns how many."""
    begin_write()
    removed = 0
    for table in reversed(db.metadata.sorted_tables):
        removed += db.session.execute(delete(table)).rowcount or 0
    if db.engine.dialect.name == "sqlite" and inspect(db.session.connection()).has_table("sqlite_sequence"):
        # AUTOINCREMENT counters (notification ids) start again from 1, as on a new instance.
        db.session.execute(text("DELETE FROM sqlite_sequence"))
    db.session.commit()
    shutil.rmtree(media_root(), ignore_errors=True)
    try:
        emoji_packs.delete_pack(DEMO_EMOJI_PACK)
    except emoji_packs.PackNotFound:
        pass
    return removed
