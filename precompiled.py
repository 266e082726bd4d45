"""A built select run as its compiled SQL, for the widest statements of the hot paths.

SQLAlchemy looks every execution up in its compiled cache by the statement's cache key, and
hashes that whole key each time: for the status batch's UNION ALL of some fifteen selects the
hash costs more Python than SQLite spends running it. A Precompiled compiles its statement once
per dialect and hands the SQL string to the driver (Connection.exec_driver_sql: the engine's
events, the write lock's and the statement counter's, still see it), binding values through
the types' bind processors as SQLAlchemy's own execution does. Rows come back as the driver
gives them, so only statements whose columns need no result processing belong here (text)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.sql import ClauseElement


class Precompiled:
    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: dict[tuple[str, str, str], Any] = {}

    def rows(self, connection: Connection, values: Mapping[str, Any]) -> list[Any]:
        dialect = connection.dialect
        key = (dialect.name, dialect.driver, dialect.paramstyle)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self.statement.compile(dialect=dialect)
        if compiled.literal_execute_params or compiled.post_compile_params:
            return list(connection.execute(self.statement, dict(values)).all())  # SQL varies per run
        params = compiled.construct_params(dict(values), escape_names=False)
        processors = compiled._bind_processors  # what DefaultExecutionContext applies
        for name, value in params.items():
            process = processors.get(name)
            if process is not None:
                params[name] = process(value)
        if compiled.positional:
            bound: Any = dialect.execute_sequence_format([params[name] for name in compiled.positiontup])
        else:
            escaped = compiled.escaped_bind_names
            bound = {escaped.get(name, name): value for name, value in params.items()} if escaped else params
        return list(connection.exec_driver_sql(compiled.string, bound).all())
