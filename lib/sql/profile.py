"""Column profiles computed on the engine: of a query's whole result, or of a catalog table (Glue's statistics).

DuckDB's ``SUMMARIZE`` is the model: one aggregate pass gives every column's nulls, distinct count (approximate,
``approx_distinct`` as Glue and the DuckDB UI do), min/max/mean, and string lengths or true/false counts. A second
pass, built from the first one's numbers, gives each column's top values and the ten-bucket histogram of each
numeric column; a table profile asks for top values only of columns with few distinct values (categories, flags),
where they mean something.

Both passes are Athena SQL built with sqlglot over the table or over the analyst's query (as a CTE whose columns
are renamed ``c0, c1...`` so repeated or odd output names cannot clash), run through the backend and its guard,
so they cost what a query costs and never return more than a handful of rows per column.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

import pandas as pd
import sqlglot
from sqlglot import exp

from lib.catalog import TableDef
from lib.errors import SqlError
from lib.sql import build
from lib.values import plain

Kind = Literal["number", "text", "date", "boolean", "other"]
Runner = Callable[[str], pd.DataFrame]

TOP_VALUES = 5
BUCKETS = 10
TOP_FOR_TABLES_MAX_DISTINCT = 1_000  # a table column with more distinct values gets no top values


@dataclass
class ColumnProfile:
    name: str
    type: str
    kind: Kind
    rows: int = 0
    nulls: int = 0
    distinct: int | None = None
    minimum: Any = None
    maximum: Any = None
    mean: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    avg_length: float | None = None
    trues: int | None = None
    falses: int | None = None
    top: list[tuple[str | None, int]] = field(default_factory=list)
    histogram: list[tuple[float, float, int]] = field(default_factory=list)

    @property
    def null_share(self) -> float:
        return self.nulls / self.rows if self.rows else 0.0

    def glue(self) -> dict[str, Any]:
        """The column's ``ColumnStatistics`` entry as Glue's GetColumnStatisticsForTable returns it."""
        distinct = int(self.distinct or 0)
        if self.kind == "boolean":
            data: dict[str, Any] = {
                "Type": "BOOLEAN",
                "BooleanColumnStatisticsData": {
                    "NumberOfTrues": self.trues or 0,
                    "NumberOfFalses": self.falses or 0,
                    "NumberOfNulls": self.nulls,
                },
            }
        elif self.kind == "number" and self.type.lower().split("(")[0] in ("double", "float", "real", "decimal"):
            data = {
                "Type": "DOUBLE",
                "DoubleColumnStatisticsData": {
                    "MinimumValue": self.minimum,
                    "MaximumValue": self.maximum,
                    "NumberOfNulls": self.nulls,
                    "NumberOfDistinctValues": distinct,
                },
            }
        elif self.kind == "number":
            data = {
                "Type": "LONG",
                "LongColumnStatisticsData": {
                    "MinimumValue": self.minimum,
                    "MaximumValue": self.maximum,
                    "NumberOfNulls": self.nulls,
                    "NumberOfDistinctValues": distinct,
                },
            }
        elif self.kind == "date":
            data = {
                "Type": "DATE",
                "DateColumnStatisticsData": {
                    "MinimumValue": str(self.minimum) if self.minimum is not None else None,
                    "MaximumValue": str(self.maximum) if self.maximum is not None else None,
                    "NumberOfNulls": self.nulls,
                    "NumberOfDistinctValues": distinct,
                },
            }
        else:
            data = {
                "Type": "STRING",
                "StringColumnStatisticsData": {
                    "MaximumLength": self.max_length or 0,
                    "AverageLength": self.avg_length or 0.0,
                    "NumberOfNulls": self.nulls,
                    "NumberOfDistinctValues": distinct,
                },
            }
        return {"ColumnName": self.name, "ColumnType": self.type, "StatisticsData": data}


@dataclass
class Profile:
    source: str
    rows: int
    columns: list[ColumnProfile]
    computed_at: datetime
    sql: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """What ``python -m lib profile`` prints and what is stored with the table."""
        return {
            "table": self.source,
            "rows": self.rows,
            "computed_at": self.computed_at.isoformat(),
            "ColumnStatisticsList": [c.glue() for c in self.columns],
            "columns": [_jsonable(asdict(c)) for c in self.columns],
            "sql": self.sql,
        }

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Profile:
        columns = []
        for item in body.get("columns", []):
            item = dict(item)
            item["top"] = [tuple(t) for t in item.get("top", [])]
            item["histogram"] = [tuple(h) for h in item.get("histogram", [])]
            columns.append(ColumnProfile(**item))
        return cls(
            source=str(body.get("table", "")),
            rows=int(body.get("rows", 0)),
            columns=columns,
            computed_at=datetime.fromisoformat(str(body["computed_at"])),
            sql=list(body.get("sql", [])),
        )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (datetime, date, pd.Timestamp)):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):
        return _jsonable(value.item())
    return value


def kind_of_glue_type(type_name: str) -> Kind:
    text = type_name.strip().lower()
    if text.startswith(("int", "bigint", "smallint", "tinyint", "double", "float", "real", "decimal")):
        return "number"
    if text.startswith(("string", "varchar", "char")):
        return "text"
    if text.startswith(("date", "timestamp")):
        return "date"
    if text == "boolean":
        return "boolean"
    return "other"


def kind_of_series(series: pd.Series) -> tuple[Kind, str]:
    """A result column's kind and a type name from what the engine returned (its dtype, or for object columns
    the type of its values: dates arrive as ``datetime.date`` objects)."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean", "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "number", "bigint"
    if pd.api.types.is_float_dtype(dtype):
        return "number", "double"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "date", "timestamp"
    values = series.dropna()
    sample = values.iloc[0] if len(values) else None
    if isinstance(sample, bool):
        return "boolean", "boolean"
    if isinstance(sample, datetime):
        return "date", "timestamp"
    if isinstance(sample, date):
        return "date", "date"
    if isinstance(sample, (int, float)) or type(sample).__name__ == "Decimal":
        return "number", "decimal" if type(sample).__name__ == "Decimal" else "double"
    if sample is None or isinstance(sample, str) or pd.api.types.is_string_dtype(dtype):
        return "text", "varchar"
    return "other", type(sample).__name__


# -- SQL ------------------------------------------------------------------------------------------------------
def _alias(expression: exp.Expr, name: str) -> exp.Expr:
    return exp.alias_(expression, exp.to_identifier(name, quoted=True))


def _fn(name: str, *args: exp.Expr) -> exp.Expr:
    return exp.func(name, *args, dialect="athena")


def _stats_select(columns: list[tuple[str, Kind]]) -> list[exp.Expr]:
    selects: list[exp.Expr] = [_alias(exp.Count(this=exp.Star()), "rows")]
    for index, (name, kind) in enumerate(columns):
        column = build.column(name)
        selects.append(_alias(exp.Count(this=column.copy()), f"nn{index}"))
        if kind != "boolean":
            selects.append(_alias(_fn("approx_distinct", column.copy()), f"d{index}"))
        if kind in ("number", "date"):
            selects.append(_alias(exp.Min(this=column.copy()), f"min{index}"))
            selects.append(_alias(exp.Max(this=column.copy()), f"max{index}"))
        if kind == "number":
            as_double = exp.cast(column.copy(), exp.DataType.build("DOUBLE"))
            selects.append(_alias(exp.Avg(this=as_double), f"mean{index}"))
        if kind == "text":
            length = exp.Length(this=column.copy())
            selects.append(_alias(exp.Min(this=length.copy()), f"minlen{index}"))
            selects.append(_alias(exp.Max(this=length.copy()), f"maxlen{index}"))
            selects.append(
                _alias(exp.Avg(this=exp.cast(length.copy(), exp.DataType.build("DOUBLE"))), f"avglen{index}")
            )
        if kind == "boolean":
            selects.append(_alias(_fn("count_if", column.copy()), f"t{index}"))
            selects.append(_alias(_fn("count_if", exp.Not(this=column.copy())), f"f{index}"))
    return selects


def _result_cte(query: exp.Expr, count: int) -> exp.CTE:
    alias = exp.TableAlias(
        this=exp.to_identifier("q", quoted=True),
        columns=[exp.to_identifier(f"c{i}", quoted=True) for i in range(count)],
    )
    return exp.CTE(this=query, alias=alias)


def _with(query: exp.Select, cte: exp.CTE | None) -> exp.Select:
    """The one WITH of the whole statement (a UNION's branches cannot each carry one)."""
    if cte is not None:
        query.set("with_", exp.With(expressions=[cte.copy()]))
    return query


def _from(select: exp.Select, table: exp.Table | None, cte: exp.CTE | None) -> exp.Select:
    if cte is not None:
        return select.from_(exp.to_table('"q"'))
    assert table is not None
    return select.from_(table.copy())


def _second_pass(
    profiles: list[ColumnProfile], refs: list[str], table: exp.Table | None, cte: exp.CTE | None, *, for_table: bool
) -> exp.Expression | None:
    """One UNION ALL query: top values (ranked per column) and numeric histograms, as (col, part, value, lo, n)."""
    branches: list[exp.Select] = []
    for index, (profile, name) in enumerate(zip(profiles, refs, strict=True)):
        column = build.column(name)
        if profile.kind in ("text", "boolean", "date") or (profile.kind == "number" and (profile.distinct or 0) <= 20):
            distinct, filled = profile.distinct or 0, profile.rows - profile.nulls
            if for_table and (distinct > TOP_FOR_TABLES_MAX_DISTINCT or distinct > filled / 2):
                continue  # ids and free text: top values would be noise
            value = exp.cast(column.copy(), exp.DataType.build("VARCHAR"))
            branch = exp.select(
                _alias(exp.Literal.number(index), "col"),
                _alias(exp.Literal.string("top"), "part"),
                _alias(value, "value"),
                _alias(exp.Literal.number(0), "bucket"),
                _alias(exp.Count(this=exp.Star()), "n"),
            ).group_by(exp.Literal.number(3))
            branches.append(_from(branch, table, cte))
        if profile.kind == "number" and profile.minimum is not None and profile.maximum is not None:
            low, high = float(profile.minimum), float(profile.maximum)
            if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
                continue
            width = (high - low) / BUCKETS
            raw = exp.Floor(
                this=exp.Div(
                    this=exp.Paren(
                        this=exp.Sub(
                            this=exp.cast(column.copy(), exp.DataType.build("DOUBLE")),
                            expression=exp.Literal.number(repr(low)),
                        )
                    ),
                    expression=exp.Literal.number(repr(width)),
                )
            )
            bucket = exp.cast(exp.Least(this=raw, expressions=[exp.Literal.number(BUCKETS - 1)]), "BIGINT")
            branch = exp.select(
                _alias(exp.Literal.number(index), "col"),
                _alias(exp.Literal.string("histogram"), "part"),
                _alias(exp.cast(exp.Null(), exp.DataType.build("VARCHAR")), "value"),
                _alias(bucket, "bucket"),
                _alias(exp.Count(this=exp.Star()), "n"),
            ).group_by(exp.Literal.number(4))
            branch = _from(branch, table, cte).where(exp.Not(this=exp.Is(this=column.copy(), expression=exp.Null())))
            branches.append(branch)
    if not branches:
        return None
    union: exp.Expression = branches[0]
    for branch in branches[1:]:
        union = exp.union(union, branch, distinct=False)
    ranked = exp.select(
        "col",
        "part",
        "value",
        "bucket",
        "n",
        _alias(
            exp.Window(
                this=exp.RowNumber(),
                partition_by=[exp.column("col"), exp.column("part")],
                order=exp.Order(
                    expressions=[exp.Ordered(this=exp.column("n"), desc=True), exp.Ordered(this=exp.column("value"))]
                ),
            ),
            "rn",
        ),
    ).from_(exp.Subquery(this=union, alias=exp.TableAlias(this=exp.to_identifier("u"))))
    final = (
        exp.select("col", "part", "value", "bucket", "n")
        .from_(exp.Subquery(this=ranked, alias=exp.TableAlias(this=exp.to_identifier("r"))))
        .where(
            exp.or_(
                exp.EQ(this=exp.column("part"), expression=exp.Literal.string("histogram")),
                exp.LTE(this=exp.column("rn"), expression=exp.Literal.number(TOP_VALUES)),
            )
        )
        .order_by("col", "part", "n DESC", "value", "bucket")  # ties in the same order on every engine
    )
    return _with(final, cte)


def _fill(profiles: list[ColumnProfile], row: pd.Series) -> int:
    total = _int(row["rows"])
    for index, profile in enumerate(profiles):
        profile.rows = total
        profile.nulls = total - _int(row[f"nn{index}"])
        if f"d{index}" in row and not _missing(row[f"d{index}"]):
            # approx_distinct can overshoot by a few percent; never more values than non-null rows
            profile.distinct = min(_int(row[f"d{index}"]), total - profile.nulls)
        for attribute, prefix in (("minimum", "min"), ("maximum", "max")):
            if f"{prefix}{index}" in row and not _missing(row[f"{prefix}{index}"]):
                setattr(profile, attribute, plain(row[f"{prefix}{index}"]))
        if f"mean{index}" in row and not _missing(row[f"mean{index}"]):
            profile.mean = float(row[f"mean{index}"])
        if f"maxlen{index}" in row and not _missing(row[f"maxlen{index}"]):
            profile.min_length = _int(row[f"minlen{index}"])
            profile.max_length = _int(row[f"maxlen{index}"])
            profile.avg_length = float(row[f"avglen{index}"])
        if f"t{index}" in row:
            profile.trues = _int(row[f"t{index}"])
            profile.falses = _int(row[f"f{index}"])
            profile.distinct = int(profile.trues > 0) + int(profile.falses > 0)
    return total


def _int(value: Any) -> int:
    return int(value)


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _fill_second(profiles: list[ColumnProfile], frame: pd.DataFrame) -> None:
    for row in frame.itertuples(index=False):
        profile = profiles[_int(row.col)]
        if row.part == "top":
            profile.top.append((None if _missing(row.value) else str(row.value), _int(row.n)))
        else:
            low, high = float(profile.minimum), float(profile.maximum)
            width = (high - low) / BUCKETS
            bucket = _int(row.bucket)
            profile.histogram.append((low + bucket * width, low + (bucket + 1) * width, _int(row.n)))
    for profile in profiles:
        profile.histogram.sort()
        if profile.histogram:
            filled = {round(lo, 12): n for lo, _, n in profile.histogram}
            low, high = float(profile.minimum), float(profile.maximum)
            width = (high - low) / BUCKETS
            profile.histogram = [
                (low + b * width, low + (b + 1) * width, filled.get(round(low + b * width, 12), 0))
                for b in range(BUCKETS)
            ]


def profile_result(sql: str, frame: pd.DataFrame, run: Runner) -> Profile:
    """Profile the whole result of ``sql`` (one query statement) on the engine; ``frame`` gives column types."""
    try:
        query = sqlglot.parse_one(sql, read="athena")
    except sqlglot.errors.ParseError as exc:
        raise SqlError(f"The query cannot be profiled: {exc}") from None
    if not isinstance(query, exp.Query):
        raise SqlError("Only a query's result (SELECT, WITH, VALUES) can be profiled.")
    names = [str(c) for c in frame.columns]
    if not names:
        raise SqlError("The result has no columns to profile.")
    profiles: list[ColumnProfile] = []
    refs: list[str] = []
    for index, name in enumerate(names):
        kind, type_name = kind_of_series(frame.iloc[:, index])
        profiles.append(ColumnProfile(name, type_name, kind))
        refs.append(f"c{index}")
    cte = _result_cte(query, len(names))
    first = _with(
        _from(exp.select(*_stats_select([(r, p.kind) for r, p in zip(refs, profiles, strict=True)])), None, cte), cte
    )
    first_sql = first.sql(dialect="athena")
    stats = run(first_sql)
    total = _fill(profiles, stats.iloc[0])
    statements = [first_sql]
    second = _second_pass(profiles, refs, None, cte, for_table=False) if total else None
    if second is not None:
        second_sql = second.sql(dialect="athena")
        _fill_second(profiles, run(second_sql))
        statements.append(second_sql)
    return Profile("result", total, profiles, datetime.now(UTC), statements)


def profile_table(table: TableDef, run: Runner) -> Profile:
    """Glue-style statistics of every column of ``table`` from one aggregate query, then top values of the
    columns with few distinct values."""
    columns = [(c.name, kind_of_glue_type(c.type)) for c in table.all_columns]
    source = exp.table_(exp.to_identifier(table.name, quoted=True), db=exp.to_identifier(table.database, quoted=True))
    first = exp.select(*_stats_select(columns)).from_(source)
    first_sql = first.sql(dialect="athena")
    profiles = [ColumnProfile(c.name, c.type, kind) for c, (_, kind) in zip(table.all_columns, columns, strict=True)]
    total = _fill(profiles, run(first_sql).iloc[0])
    statements = [first_sql]
    second = (
        _second_pass(profiles, [c.name for c in table.all_columns], source, None, for_table=True) if total else None
    )
    if second is not None:
        second_sql = second.sql(dialect="athena")
        _fill_second(profiles, run(second_sql))
        statements.append(second_sql)
    return Profile(table.qualified_name, total, profiles, datetime.now(UTC), statements)


def first_pass_sql(table: TableDef) -> str:
    """The aggregate query of a table profile, for its scan estimate before it runs."""
    columns = [(c.name, kind_of_glue_type(c.type)) for c in table.all_columns]
    source = exp.table_(exp.to_identifier(table.name, quoted=True), db=exp.to_identifier(table.database, quoted=True))
    return exp.select(*_stats_select(columns)).from_(source).sql(dialect="athena")


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def filter_sql(table: TableDef, column: str, value: str | None) -> str:
    """``SELECT * FROM t WHERE col = <value>`` (or IS NULL) for a clicked top value, built with sqlglot."""
    # identifiers quoted only where they need it: this SQL is shown to the analyst
    source = exp.table_(exp.to_identifier(table.name), db=exp.to_identifier(table.database))
    match = next((c for c in table.all_columns if c.name == column), None)
    if match is None:
        raise SqlError(f"{table.qualified_name} has no column {column!r}.")
    target = exp.column(exp.to_identifier(column))
    condition: exp.Expression
    if value is None:
        condition = exp.Is(this=target, expression=exp.Null())
    else:
        kind = kind_of_glue_type(match.type)
        if kind == "number" and _is_number(value):
            literal: exp.Expression = exp.Literal.number(value)
        elif kind == "boolean":
            literal = exp.Boolean(this=value.lower() == "true")
        elif kind == "date" and match.type.lower() == "date":
            literal = exp.cast(exp.Literal.string(value), exp.DataType.build("DATE"))
        else:
            literal = exp.Literal.string(value)
        condition = exp.EQ(this=target, expression=literal)
    return exp.select("*").from_(source).where(condition).limit(100).sql(dialect="athena", pretty=True)
