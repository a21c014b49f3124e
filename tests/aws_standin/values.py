"""Types and values: Glue types in DuckDB, DuckDB types as Athena's ColumnInfo, values printed as Athena prints them."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlglot
from sqlglot import exp

from tests.aws_standin.errors import AthenaFailure


def duck_type(glue_type: str) -> str:
    text = glue_type.strip().lower()
    if text in ("string", "char", "varchar") or re.fullmatch(r"(var)?char\(\d+\)", text):
        return "VARCHAR"
    try:
        return exp.DataType.build(text, dialect="hive").sql("duckdb")
    except (sqlglot.errors.ParseError, ValueError):
        raise AthenaFailure("HIVE_INVALID_METADATA", f"Unsupported Hive type: {glue_type}") from None


_ATHENA_TYPES = {
    "boolean": "boolean",
    "tinyint": "tinyint",
    "smallint": "smallint",
    "integer": "integer",
    "bigint": "bigint",
    "hugeint": "bigint",  # DuckDB's SUM of integers; Athena's is bigint
    "utinyint": "smallint",
    "usmallint": "integer",
    "uinteger": "bigint",
    "ubigint": "bigint",
    "float": "float",
    "double": "double",
    "varchar": "varchar",
    "date": "date",
    "timestamp": "timestamp",
    "timestamp_ms": "timestamp",
    "timestamp_s": "timestamp",
    "timestamp_ns": "timestamp",
    "timestamp with time zone": "timestamp with time zone",
    "time": "time",
    "blob": "varbinary",
    "interval": "interval day to second",
    "uuid": "uuid",
    "null": "unknown",
}


def athena_type(duck: Any) -> str:
    kind = str(getattr(duck, "id", duck)).lower()
    if kind == "decimal":
        return "decimal"
    if kind == "list" or kind == "array":
        return "array"
    if kind == "struct":
        return "row"
    if kind == "map":
        return "map"
    return _ATHENA_TYPES.get(kind, "varchar")


def decimal_digits(duck: Any) -> tuple[int, int] | None:
    """(precision, scale) of a DuckDB DECIMAL type, which Athena reports in ColumnInfo."""
    if str(getattr(duck, "id", "")).lower() != "decimal":
        return None
    children = dict(getattr(duck, "children", []))
    return int(children.get("precision", 38)), int(children.get("scale", 0))


def column_info(name: str, athena_type: str, digits: tuple[int, int] | None = None) -> dict[str, Any]:
    precision = {
        "varchar": 2147483647,
        "string": 2147483647,
        "integer": 10,
        "bigint": 19,
        "smallint": 5,
        "tinyint": 3,
        "double": 17,
        "float": 7,
        "date": 0,
        "timestamp": 3,
        "boolean": 0,
    }.get(athena_type, 0)
    return {
        "CatalogName": "hive",
        "SchemaName": "",
        "TableName": "",
        "Name": name,
        "Label": name,
        "Type": athena_type,
        "Precision": digits[0] if digits else precision,
        "Scale": digits[1] if digits else 0,
        "Nullable": "UNKNOWN",
        "CaseSensitive": athena_type in ("varchar", "string"),
    }


def java_double(value: float) -> str:
    """A double as Athena (Java's ``Double.toString``) prints it: ``4.5``, ``1.0E7``, ``1.2345E-5``, ``NaN``."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1, value) < 0 else "0.0"
    magnitude = abs(value)
    digits = Decimal(repr(value))
    if 1e-3 <= magnitude < 1e7:
        text = format(digits, "f")
        return text if "." in text else text + ".0"
    sign, numerals, exponent = digits.as_tuple()
    figures = "".join(map(str, numerals)).rstrip("0") or "0"
    power = len(numerals) + int(exponent) - 1
    mantissa = figures[0] + "." + (figures[1:] or "0")
    return ("-" if sign else "") + f"{mantissa}E{power}"


def _format_value(value: Any, nested: bool = False) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return java_double(value)
    if isinstance(value, datetime):
        text = value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}"
        if value.tzinfo is not None:
            text += " UTC"
        return text
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, bytes):
        return " ".join(f"{b:02x}" for b in value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join("null" if v is None else _format_value(v, True) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={'null' if v is None else _format_value(v, True)}" for k, v in value.items()) + "}"
    return str(value)


def formatter(duck: Any) -> Callable[[Any], str]:
    kind = str(getattr(duck, "id", duck)).lower()
    if kind == "float":  # REAL: Java prints the float's own shortest digits
        import numpy as np

        return lambda v: java_double(float(str(np.float32(v))))
    return _format_value


# -- small helpers ------------------------------------------------------------------------------------------
def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
