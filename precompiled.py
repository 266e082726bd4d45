"""A built statement run as its compiled SQL, for the widest statements of the hot paths and the
small writes of the favourite and reaction paths.

SQLAlchemy looks every execution up in its compiled cache by the statement's cache key, and
hashes that whole key each time: for the status batch's UNION ALL of some fifteen selects the
hash costs more Python than SQLite spends running it. A Precompiled compiles its statement once
per dialect and hands the SQL string to the driver (Connection.exec_driver_sql: the engine's
events, the write lock's and the statement counter's, still see it), binding values through
the types' bind processors as SQLAlchemy's own execution does. Rows come back as the driver
gives them, so only statements whose columns need no result processing belong here (text, ids,
counts). With RETURNING the result's metadata is built from the cursor at every execution (part
I of bench/README.md found one such statement slower alone); the favourite's and reaction's
writes run this way all the same, the request as a whole measured faster (part M)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection
from sqlalchemy import CursorResult
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement


class Precompiled:
    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: dict[tuple[str, str, str], Any] = {}

    def _compiled_for(self, dialect: Dialect) -> Any:
        key = (dialect.name, dialect.driver, dialect.paramstyle)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self.statement.compile(dialect=dialect)
        return compiled

    def bound(self, dialect: Dialect, values: Mapping[str, Any]) -> tuple[str, Any] | None:
        """(the SQL in the dialect's paramstyle, the values bound as its driver takes them), for
        a connection of that driver outside SQLAlchemy (readcache's probe); None when the SQL
        varies per run (expanding or literal-execute parameters)."""
        compiled = self._compiled_for(dialect)
        if compiled.literal_execute_params or compiled.post_compile_params:
            return None
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
        return compiled.string, bound

    def execute(self, connection: Connection, values: Mapping[str, Any]) -> CursorResult:
        """Run the statement on `connection` (its rowcount for a write)."""
        found = self.bound(connection.dialect, values)
        if found is None:
            return connection.execute(self.statement, dict(values))  # SQL varies per run
        return connection.exec_driver_sql(*found)

    def rows(self, connection: Connection, values: Mapping[str, Any]) -> list[Any]:
        return list(self.execute(connection, values).all())
