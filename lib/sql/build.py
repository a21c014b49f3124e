"""The one way LakeLens builds SQL from code: sqlglot expressions with every name quoted and every value a literal.

Code never pastes a name or a value into SQL text; it builds ``column("review body")``, ``table(table_def)`` and
``literal(value)`` into sqlglot expressions and renders them in the engine's dialect. Whole names that must appear
in SQL text go through :func:`lib.sql.quote_identifier`.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from lib.catalog import TableDef
from lib.values import plain


def column(name: str) -> exp.Column:
    """A column as a quoted identifier (any name the catalog allows, spaces and quotes included)."""
    return exp.column(name, quoted=True)


def table(table_def: TableDef) -> exp.Table:
    """The table as ``"database"."name"``, both quoted."""
    return exp.table_(table_def.name, db=table_def.database, quoted=True)


def literal(value: Any) -> exp.Expr:
    """A Python value as an SQL literal: numpy scalars unwrapped, whole floats written as integers."""
    value = plain(value)
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return exp.convert(value)


def has_text(text: exp.Expr, *, never_null: bool = False) -> exp.Expr:
    """TRUE when a review's text is there: not NULL, not empty, not only white space. '' (Athena's reading of an
    empty TSV field) and NULL (DuckDB's) are the same missing text on both backends. A NULL text gives NULL, as good
    as FALSE in a WHERE clause; ``never_null`` makes it FALSE, for a condition that is negated or counted."""
    present = exp.RegexpLike(this=text.copy(), expression=exp.Literal.string("\\S"))
    return exp.func("coalesce", present, exp.false()) if never_null else present
