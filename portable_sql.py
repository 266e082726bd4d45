"""SQLite spellings that PostgreSQL renders its own way (SPEC 28: one code path, two databases).

Services and serializers write their SQL once, in the dialect the embedded default runs. Where
PostgreSQL has the same thing under another name, these compile hooks render it there, so no
query has to ask which database it runs on. Imported by models.py, before any statement is built.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy import Boolean
from sqlalchemy import ColumnElement
from sqlalchemy import String
from sqlalchemy import bindparam
from sqlalchemy.dialects.sqlite import dml as sqlite_dml
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import functions
from sqlalchemy.sql.visitors import InternalTraversal


@compiles(sqlite_dml.OnConflictDoNothing, "postgresql")
@compiles(sqlite_dml.OnConflictDoUpdate, "postgresql")
def _on_conflict(clause: Any, compiler: Any, **kw: Any) -> str:
    """`INSERT ... ON CONFLICT` built with SQLite's insert(): PostgreSQL spells the clause the same
    way, and its compiler reads one more attribute (a named constraint, which SQLite cannot name)."""
    if not hasattr(clause, "constraint_target"):
        clause.constraint_target = None
    return getattr(compiler, f"visit_{clause.__visit_name__}")(clause, **kw)


@compiles(functions.max, "postgresql")
def _max(element: Any, compiler: Any, **kw: Any) -> str:
    """SQLite's max() is also the scalar max(a, b) (PostgreSQL: GREATEST) and takes truth values
    (PostgreSQL: bool_or)."""
    arguments = list(element.clauses)
    if len(arguments) > 1:
        return f"GREATEST({compiler.process(element.clauses, **kw)})"
    if isinstance(arguments[0].type, Boolean):
        return f"bool_or({compiler.process(element.clauses, **kw)})"
    return compiler.visit_function(element, **kw)


class json_each(functions.GenericFunction):  # noqa: N801 - named as the SQL function
    """SQLite's table of a JSON array's members (column `value`), one bound string for a list
    of any length. `func.json_each(...)` is this class."""

    type = String()
    inherit_cache = True


@compiles(json_each, "postgresql")
def _json_each(element: Any, compiler: Any, **kw: Any) -> str:
    # Members as text under the same column name; a caller comparing numbers casts `value`.
    return f"json_array_elements_text(CAST({compiler.process(element.clause_expr, **kw)} AS JSON))"


class as_text(functions.FunctionElement):  # noqa: N801 - reads as a SQL function
    """A value in a UNION ALL whose members put different types in one column. SQLite keeps each
    value's own type, so nothing is written there; PostgreSQL wants one type per column, so the
    value is cast to text, truth values as 1 and 0 as SQLite stores them."""

    type = String()
    inherit_cache = True

    def __init__(self, value: Any) -> None:
        super().__init__(value)


@compiles(as_text)
def _as_text(element: Any, compiler: Any, **kw: Any) -> str:
    return compiler.process(list(element.clauses)[0], **kw)


@compiles(as_text, "postgresql")
def _as_text_postgres(element: Any, compiler: Any, **kw: Any) -> str:
    value = list(element.clauses)[0]
    rendered = compiler.process(value, **kw)
    if isinstance(value.type, Boolean):
        return f"CAST(CAST({rendered} AS INTEGER) AS TEXT)"
    return f"CAST({rendered} AS TEXT)"


class among(ColumnElement[bool]):  # noqa: N801 - reads as an SQL operator
    """`column IN (values)` with the values bound as one JSON array string (strings only).

    An expanding IN of hundreds of values is rendered again at every execution, and psycopg then
    rewrites that long text placeholder by placeholder (it caches no statement that long); one
    string makes the same short statement whatever the length. SQLite reads the members as a
    table (json_each). PostgreSQL gets them as one array, `= ANY(ARRAY(...))`, evaluated once and
    searched on the column's index: joined as a table instead, the planner of a table without
    statistics yet (just filled) may scan the whole table once per member."""

    type = Boolean()
    inherit_cache = True
    _is_implicitly_boolean = True  # a condition as it stands: SQLite gets no `= 1` after it
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("listed", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: ColumnElement[Any], values: Iterable[str]) -> None:
        self.column = column
        self.listed = bindparam(None, orjson.dumps(list(values)).decode(), type_=String, unique=True)


@compiles(among)
def _among(element: among, compiler: Any, **kw: Any) -> str:
    column, listed = compiler.process(element.column, **kw), compiler.process(element.listed, **kw)
    return f"{column} IN (SELECT value FROM json_each({listed}))"


@compiles(among, "postgresql")
def _among_postgres(element: among, compiler: Any, **kw: Any) -> str:
    column, listed = compiler.process(element.column, **kw), compiler.process(element.listed, **kw)
    return f"{column} = ANY(ARRAY(SELECT json_array_elements_text(CAST({listed} AS JSON))))"


class group_concat(functions.GenericFunction):  # noqa: N801 - named as the SQL function
    """SQLite's string aggregate, `func.group_concat(column, literal_column("','"))` (PostgreSQL:
    string_agg). Not SQLAlchemy's aggregate_strings: its separator is a post-compile literal, so
    the statement is rendered again at every execution."""

    type = String()
    inherit_cache = True


@compiles(group_concat, "postgresql")
def _group_concat(element: Any, compiler: Any, **kw: Any) -> str:
    return f"string_agg({compiler.process(element.clauses, **kw)})"
