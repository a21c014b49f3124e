"""What the SQL editor offers while typing, besides Ace's own SQL keywords: catalog databases, tables, columns
with their types, and the Athena (Trino) functions analysts use most."""

from __future__ import annotations

from typing import Any

from lib.catalog import TableDef

# Athena (Trino) functions offered by the completer besides Ace's SQL keywords.
ATHENA_FUNCTIONS = (
    "approx_distinct",
    "approx_percentile",
    "arbitrary",
    "array_agg",
    "array_join",
    "avg",
    "bool_and",
    "bool_or",
    "cardinality",
    "ceil",
    "coalesce",
    "concat",
    "contains",
    "count",
    "count_if",
    "date",
    "date_add",
    "date_diff",
    "date_format",
    "date_parse",
    "date_trunc",
    "day",
    "day_of_week",
    "element_at",
    "filter",
    "floor",
    "format_datetime",
    "from_iso8601_date",
    "from_iso8601_timestamp",
    "from_unixtime",
    "greatest",
    "histogram",
    "if",
    "json_extract",
    "json_extract_scalar",
    "least",
    "length",
    "lower",
    "lpad",
    "ltrim",
    "map_agg",
    "max",
    "max_by",
    "min",
    "min_by",
    "month",
    "now",
    "nullif",
    "parse_datetime",
    "quarter",
    "rank",
    "regexp_extract",
    "regexp_like",
    "regexp_replace",
    "replace",
    "reverse",
    "round",
    "row_number",
    "rpad",
    "rtrim",
    "sequence",
    "split",
    "split_part",
    "stddev",
    "strpos",
    "substr",
    "sum",
    "to_iso8601",
    "to_unixtime",
    "transform",
    "trim",
    "try",
    "try_cast",
    "typeof",
    "unnest",
    "upper",
    "variance",
    "week",
    "year",
)


def completions(databases: list[str], tables: list[TableDef]) -> list[dict[str, Any]]:
    """What the editor offers while typing, besides Ace's own SQL keywords."""
    items: list[dict[str, Any]] = []
    for name in databases:
        items.append({"caption": name, "value": name, "meta": "database", "score": 900})
    seen_columns: set[tuple[str, str]] = set()
    for table in tables:
        qualified = table.qualified_name
        items.append({"caption": qualified, "value": qualified, "meta": "table", "score": 1000})
        items.append({"caption": table.name, "value": table.name, "meta": f"table in {table.database}", "score": 800})
        for column in table.all_columns:
            if (column.name, column.type) in seen_columns:
                continue
            seen_columns.add((column.name, column.type))
            items.append({"caption": column.name, "value": column.name, "meta": column.type, "score": 950})
    for function in ATHENA_FUNCTIONS:
        items.append({"caption": function, "value": function, "meta": "function", "score": 500})
    return items
