"""Balancing on the engine, written as a Parquet table on either backend.

By sentiment (the course's way: each sentiment class downsampled to the smallest class) or by category × sentiment
(every cell downsampled to the smallest cell); the rows are ordered by a hash, so the same data gives the same table.
"""

from __future__ import annotations

import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd
from sqlglot import exp

from lib.backends.base import Backend
from lib.catalog import Column, TableDef, arrow_type_to_glue, parquet_table, validate_identifier
from lib.errors import CatalogError, LakeLensError
from lib.lake.objects import objects_under
from lib.sentiment.columns import DEFINITIONS, normalize_name
from lib.sentiment.spec import (
    MAX_GROUPS,
    Runner,
    Spec,
    category_expr,
    order_key,
    render,
    sentiment_expr,
    text_present,
    where_conditions,
    with_where,
)
from lib.sql.build import column as column_ref
from lib.sql.build import table as table_ref

BalanceBy = Literal["sentiment", "category_sentiment"]


def output_names(table: TableDef) -> list[tuple[str, str]]:
    """(source column, column name in the balanced table): Glue-style names, unique, ``sentiment`` kept free."""
    used = {"sentiment"}
    pairs = []
    for column in table.all_columns:
        base = normalize_name(column.name) or "column"
        if base[0].isdigit():
            base = "c_" + base
        name = base
        number = 2
        while name in used:
            name = f"{base}_{number}"
            number += 1
        used.add(name)
        pairs.append((column.name, name))
    return pairs


BALANCE_BY: dict[BalanceBy, str] = {
    "sentiment": "By sentiment (the course): each sentiment class downsampled to the smallest class; the categories "
    "keep their natural mix",
    "category_sentiment": "By category × sentiment: every category × sentiment cell downsampled to the smallest cell, "
    "so each category and each sentiment weighs the same",
}


def _groups(spec: Spec, by: BalanceBy) -> list[exp.Expr]:
    """What balancing equalises: the sentiment alone, or each category × sentiment cell."""
    if by == "sentiment":
        return [sentiment_expr(spec)]
    category = category_expr(spec)
    if category is None:
        raise LakeLensError("Balancing by category × sentiment needs a category column; pick one under Columns.")
    return [category, sentiment_expr(spec)]


def _balance_conditions(spec: Spec, by: BalanceBy) -> list[exp.Expr]:
    """The rows balancing keeps: the filters, a sentiment, a text (when mapped) and, by cell, a category."""
    conditions = [*where_conditions(spec), exp.Not(this=exp.Is(this=sentiment_expr(spec), expression=exp.Null()))]
    if by == "category_sentiment":
        category = category_expr(spec)
        if category is None:
            raise LakeLensError("Balancing by category × sentiment needs a category column; pick one under Columns.")
        conditions.append(exp.Not(this=exp.Is(this=category, expression=exp.Null())))
    has_text = text_present(spec, never_null=True)
    if has_text is not None and not spec.filters.complete:  # a review without text teaches a classifier nothing
        conditions.append(has_text)
    return conditions


def balance_cells_sql(spec: Spec, by: BalanceBy = "sentiment") -> str:
    """Reviews per group (sentiment, or category × sentiment) among the rows balancing keeps; the smallest is the
    size every group is cut to."""
    groups = _groups(spec, by)
    names = ["sentiment"] if by == "sentiment" else ["category", "sentiment"]
    select = [exp.alias_(g, n, quoted=False) for g, n in zip(groups, names, strict=True)]
    query = exp.select(*select, exp.alias_(exp.Count(this=exp.Star()), "reviews")).from_(table_ref(spec.table))
    query = with_where(query, _balance_conditions(spec, by))
    positions = [exp.Literal.number(i + 1) for i in range(len(groups))]
    return render(query.group_by(*positions).order_by(*[exp.Ordered(this=p.copy()) for p in positions]))


def balanced_sql(spec: Spec, cell_size: int, by: BalanceBy = "sentiment") -> str:
    """Each group's first ``cell_size`` rows in a hash order (deterministic, no rand())."""
    if cell_size < 1:
        raise LakeLensError("There is nothing to balance: no review has a sentiment under these filters.")
    columns: list[exp.Expr] = [
        exp.alias_(column_ref(source), target, quoted=False) for source, target in output_names(spec.table)
    ]
    rank = exp.Window(
        this=exp.RowNumber(),
        partition_by=_groups(spec, by),
        order=exp.Order(expressions=[exp.Ordered(this=order_key(spec))]),
    )
    inner = exp.select(*columns, exp.alias_(sentiment_expr(spec), "sentiment"), exp.alias_(rank, "cell_rank")).from_(
        table_ref(spec.table)
    )
    inner = with_where(inner, _balance_conditions(spec, by))
    outer_columns = [exp.column(target) for _, target in output_names(spec.table)] + [exp.column("sentiment")]
    query = (
        exp.select(*outer_columns)
        .from_(inner.subquery("ranked"))
        .where(exp.LTE(this=exp.column("cell_rank"), expression=exp.Literal.number(cell_size)))
    )
    return render(query)


@dataclass(frozen=True)
class BalancedTable:
    table: TableDef
    rows: int
    key: str
    cell_size: int


def write_balanced(
    backend: Backend,
    spec: Spec,
    database: str,
    name: str,
    *,
    replace_existing: bool = False,
    by: BalanceBy = "sentiment",
    run: Runner | None = None,
) -> BalancedTable:
    """Write the balanced rows as one Parquet file in the curated zone and register it as ``database.name``.

    Two queries on the engine: the group sizes among the rows balancing keeps (so the table is exactly balanced
    even when some reviews have no text), then the rows themselves (``row_number()`` over each sentiment class,
    or each category × sentiment cell, ordered by a hash), streamed to a temporary file by ``backend.export``.
    Only then is the object written and the table registered, so a failure leaves no half-made table behind.
    ``run`` answers the first (small) query; the page passes its cached runner.
    """
    validate_identifier(database, "database")
    validate_identifier(name, "table")
    if name == spec.table.name and database == spec.table.database:
        raise CatalogError("The balanced table needs a name of its own; it must not replace the table it comes from.")
    folder = f"curated/{database}/{name}/"  # the curated zone's layout, as the Lake page's ingest writes it
    try:
        old: TableDef | None = backend.get_table(database, name)
    except LakeLensError:
        old = None
    if old is not None and not replace_existing:
        raise CatalogError(f"Table {database}.{name} already exists; choose another name or tick 'Replace it'.")
    if old is not None and backend.location_key(old.location) != folder:
        raise CatalogError(f"Table {database}.{name} lives at {old.location}, not {folder}; choose another name.")
    stale, subfolders = objects_under(backend, folder)
    if subfolders or (stale and old is None):
        raise CatalogError(f"The lake folder {folder} already holds other files; choose another table name.")
    import pyarrow.parquet as pq

    runner = run or (lambda sql: backend.run_query(sql, max_rows=MAX_GROUPS).frame)
    cells = runner(balance_cells_sql(spec, by))
    cell_size = int(pd.to_numeric(cells["reviews"]).min()) if len(cells) else 0
    sql = balanced_sql(spec, cell_size, by)
    key = f"{folder}part-{uuid.uuid4().hex[:8]}.parquet"
    with tempfile.TemporaryDirectory(prefix="lakelens-balance-") as scratch:
        path = Path(scratch) / "balanced.parquet"
        rows = backend.export(sql, path, "parquet")
        schema = pq.read_schema(path)
        data = path.read_bytes()
    backend.write(key, data, content_type="application/vnd.apache.parquet")
    columns = [Column(f.name, arrow_type_to_glue(f.type)) for f in schema]
    comments = {
        "sentiment": f"Sentiment ({DEFINITIONS[spec.definition]})",
    }
    columns = [Column(c.name, c.type, comments.get(c.name, "")) for c in columns]
    table = parquet_table(
        database,
        name,
        columns,
        backend.location(folder),
        description=(
            f"{spec.table.qualified_name} balanced by {'sentiment' if by == 'sentiment' else 'category × sentiment'}: "
            f"{rows:,} reviews, {cell_size:,} per {'sentiment class' if by == 'sentiment' else 'cell'}"
            + (" (the course's preparation)" if spec.filters.complete else "")
        ),
        parameters={
            "lakelens.source": spec.table.qualified_name,
            "lakelens.balanced_by": by,
            "lakelens.balanced_cell_size": str(cell_size),
            "lakelens.sentiment_definition": spec.definition,
            "lakelens.text_column": _target_name(spec.table, spec.mapping.text),
            "lakelens.category_column": _target_name(spec.table, spec.mapping.category),
            "lakelens.label_column": "sentiment",
        },
    )
    stored = backend.register_table(table, replace=old is not None)
    for old_key in stale:
        if old_key != key:
            backend.delete(old_key)
    return BalancedTable(stored, rows, key, cell_size)


def _target_name(table: TableDef, source: str | None) -> str:
    if source is None:
        return ""
    return dict(output_names(table)).get(source, "")
