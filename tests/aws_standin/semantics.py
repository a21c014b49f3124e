"""Athena (Trino) semantics DuckDB does not share, applied to the parsed query before it runs on DuckDB."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlglot import exp

from tests.aws_standin.values import duck_type


def integer_division(tree: exp.Expression, tables: dict[tuple[str, str], dict[str, Any]]) -> None:
    """Trino divides integers as integers (7 / 2 is 3) and fails on an integer division by zero; DuckDB gives
    3.5 and NULL. The operand types come from sqlglot's type annotation over the Glue columns; a query it cannot
    type keeps DuckDB's division."""
    from sqlglot.optimizer.annotate_types import annotate_types
    from sqlglot.optimizer.qualify import qualify

    schema: dict[str, dict[str, dict[str, str]]] = {}
    for (database, name), table in tables.items():
        columns = [*table.get("StorageDescriptor", {}).get("Columns", []), *table.get("PartitionKeys", [])]
        schema.setdefault(database, {})[name] = {c["Name"].lower(): duck_type(c.get("Type", "string")) for c in columns}
    originals = list(tree.find_all(exp.Div))
    if not originals:
        return
    for number, division in enumerate(originals):
        division.meta["standin_division"] = number  # the copy keeps it, so each division finds its typed twin
    try:
        typed = qualify(tree.copy(), schema=schema, dialect="duckdb", expand_alias_refs=False, expand_stars=False)
        annotate_types(typed, schema=schema, dialect="duckdb")
    except Exception:
        return
    twins: dict[int, exp.Div] = {}
    for division in typed.find_all(exp.Div):
        twins.setdefault(division.meta.get("standin_division", -1), division)
    for number, original in enumerate(originals):
        copy = twins.get(number)
        if copy is None:
            continue
        left, right = copy.this.type, copy.expression.type
        if (
            left is None
            or right is None
            or not (left.is_type(*exp.DataType.INTEGER_TYPES) and right.is_type(*exp.DataType.INTEGER_TYPES))
        ):
            continue
        divisor = original.expression.copy()
        quotient = exp.IntDiv(this=original.this.copy(), expression=original.expression.copy())
        original.replace(
            exp.Case(
                ifs=[
                    exp.If(
                        this=exp.EQ(this=divisor, expression=exp.Literal.number(0)),
                        true=exp.Anonymous(this="error", expressions=[exp.Literal.string("Division by zero")]),
                    )
                ],
                default=quotient,
            )
        )


def date_trunc_of_dates(loaded: dict[tuple[str, str], dict[str, Any]]) -> Callable[[exp.Expression], exp.Expression]:
    """Trino's date_trunc of a DATE is a DATE; DuckDB's is a TIMESTAMP. A DATE here is a column Glue types as
    date, or a CAST to DATE."""
    dates = set()
    for table in loaded.values():
        columns = [*table.get("StorageDescriptor", {}).get("Columns", []), *table.get("PartitionKeys", [])]
        dates |= {c["Name"].lower() for c in columns if str(c.get("Type", "")).lower() == "date"}

    def is_date(node: exp.Expression) -> bool:
        if isinstance(node, exp.Cast):
            return node.to.is_type("date")
        return isinstance(node, exp.Column) and node.name.lower() in dates

    def fix(node: exp.Expression) -> exp.Expression:
        trunc = isinstance(node, (exp.DateTrunc, exp.TimestampTrunc)) and not node.meta.get("standin_dated")
        if trunc and is_date(node.this):
            inner = node.copy()
            inner.meta["standin_dated"] = True
            return exp.cast(inner, exp.DataType.build("DATE"))
        return node

    return fix


def null_when_no_match(node: exp.Expression) -> exp.Expression:
    """Trino's regexp_extract is NULL when the pattern does not match; DuckDB's is ''."""
    if isinstance(node, exp.RegexpExtract) and not node.meta.get("standin_wrapped"):
        inner = node.copy()
        inner.meta["standin_wrapped"] = True
        matched = exp.RegexpLike(this=node.this.copy(), expression=node.expression.copy())
        return exp.Case(ifs=[exp.If(this=matched, true=inner)])
    return node


def name_outputs(tree: exp.Expression) -> None:
    """Athena names an unaliased result column that is not a plain column ``_col<position>``; DuckDB names it
    after the expression (``count_star()``)."""
    select = tree
    while isinstance(select, exp.SetOperation):
        select = select.this
    if not isinstance(select, exp.Select):
        return
    for index, projection in enumerate(list(select.expressions)):
        if isinstance(projection, exp.Alias | exp.Column | exp.Star) or projection.alias:
            continue
        projection.replace(exp.alias_(projection.copy(), f"_col{index}", quoted=True))
