"""Rows read as plain SQL on readcache's probe connection (auth.py's token lookup, the caller and
the status of interactions.account_and_status) made instances of the mapped classes as a load
would make them (models.as_loaded): no Session and no ORM load, which cost about twice the
Python, its session execution about as much again. The instances are read-only: outside the
session, nothing set on them would be written back, so setting anything raises."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

from sqlalchemy import inspect

from models import Account
from models import as_loaded
from models import db


def columns(alias: str, model: Any) -> str:
    """The select list of every column of a mapped class' table, under a table alias."""
    return ", ".join(f'{alias}."{column.name}"' for column in model.__table__.c)


def keys(model: Any) -> list[str]:
    """The attribute of each column of a mapped class' table, in the table's order."""
    mapper = inspect(model)
    return [mapper.get_property_by_column(column).key for column in model.__table__.c]


class RowTypes:
    """The column types of a row made of whole tables, in order: `typed` gives the row as a load
    would see it, each type's result processor applied (JSON parsed, SQLite's truth values and
    times made Python's), the processors looked up once per dialect."""

    def __init__(self, *models: Any) -> None:
        self._types = [column.type for model in models for column in model.__table__.c]
        self._processors: dict[str, list[tuple[int, Callable[[Any], Any]]]] = {}

    def typed(self, row: Sequence[Any]) -> list[Any]:
        dialect = db.engine.dialect
        found = self._processors.get(dialect.name)
        if found is None:
            every = [(i, t._cached_result_processor(dialect, None)) for i, t in enumerate(self._types)]
            found = self._processors[dialect.name] = [(i, p) for i, p in every if p is not None]
        values = list(row)
        for position, process in found:
            values[position] = process(values[position])
        return values


ACCOUNT_KEYS = keys(Account)
ACCOUNT_TYPES = RowTypes(Account)


def account(values: Sequence[Any]) -> Account:
    """The read-only Account of a row's account columns (already typed)."""
    found = dict(zip(ACCOUNT_KEYS, values, strict=True))
    # A moved account's new one, as its lazy relationship would load it (rare: one statement).
    moved_to_id = found["moved_to_id"]
    found["moved_to"] = db.session.get(Account, moved_to_id) if moved_to_id is not None else None
    return as_loaded(Account, found, read_only=True)
