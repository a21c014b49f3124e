"""Athena's results as LakeLens data: GetQueryResults pages (every value text) typed into frames from the column
metadata, SHOW and DESCRIBE rows split into columns, and Athena's CSV result streamed to CSV, Parquet or JSON lines."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from lib.backends.base import unique_columns

_INT_TYPES = {"tinyint", "smallint", "integer", "int", "bigint"}
_FLOAT_TYPES = {"double", "float", "real", "decimal"}

# Athena's result types as Arrow types of the same width, so a Parquet download (and a table written from one,
# like a balanced table) has the column types the local engine gives it: an integer column stays int32.
_ARROW_TYPES = {
    "tinyint": "int8",
    "smallint": "int16",
    "integer": "int32",
    "int": "int32",
    "bigint": "int64",
    "double": "float64",
    "float": "float32",
    "real": "float32",
    "boolean": "bool",
    "date": "date32",
    "timestamp": "timestamp[us]",
}


def _arrow_type(column: dict[str, Any]) -> Any:
    import pyarrow as pa

    kind = _type_kind(str(column.get("Type", "")))
    if kind == "decimal" and column.get("Precision"):
        return pa.decimal128(int(column["Precision"]), int(column.get("Scale") or 0))
    return pa.type_for_alias(_ARROW_TYPES.get(kind, "string"))


def stream_result(body: Any, columns: list[dict[str, Any]], target: Path, fmt: str) -> int:
    """Copy or convert Athena's CSV result from a streaming body to ``target``; returns the data rows."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    names = unique_columns([str(c["Name"]) for c in columns])
    types = {name: _arrow_type(c) for name, c in zip(names, columns, strict=True)}
    # Athena writes NULL as an empty unquoted field and an empty string as "": keep the two apart.
    options = pacsv.ConvertOptions(column_types=types, strings_can_be_null=True, quoted_strings_can_be_null=False)
    # Athena's header row is skipped and the names given, so a repeated output name (foo, foo) reads as foo, foo_2.
    read = pacsv.ReadOptions(column_names=names, skip_rows=1) if names else None
    rows = 0
    if fmt == "csv":
        with target.open("wb") as handle:
            for chunk in body.iter_chunks(chunk_size=1 << 20):
                handle.write(chunk)
        with pacsv.open_csv(str(target), read_options=read, convert_options=options) as reader:
            for batch in reader:
                rows += batch.num_rows
        return rows
    zoned = {
        name
        for name, c in zip(names, columns, strict=True)
        if _type_kind(str(c.get("Type", ""))) == "timestamp with time zone"
    }
    with pacsv.open_csv(body, read_options=read, convert_options=options) as reader:
        schema = _zoned_schema(reader.schema, zoned)
        if fmt == "parquet":
            with pq.ParquetWriter(str(target), schema) as writer:
                for batch in reader:
                    writer.write_batch(_zoned_batch(batch, schema, zoned))
                    rows += batch.num_rows
        else:
            with target.open("w", encoding="utf-8") as handle:
                for batch in reader:
                    frame = _zoned_batch(batch, schema, zoned).to_pandas()
                    frame.to_json(handle, orient="records", lines=True, date_format="iso")
                    rows += batch.num_rows
    return rows


def _zoned_schema(schema: Any, zoned: set[str]) -> Any:
    """The download's schema with Athena's ``timestamp with time zone`` text columns as UTC timestamps."""
    import pyarrow as pa

    fields = [pa.field(f.name, pa.timestamp("us", tz="UTC")) if f.name in zoned else f for f in schema]
    return pa.schema(fields)


def _zoned_batch(batch: Any, schema: Any, zoned: set[str]) -> Any:
    """pyarrow's CSV reader cannot parse Athena's ``2023-11-14 22:13:20.000 UTC``; these columns are converted
    value by value (they are rare: from_unixtime, from_iso8601_timestamp, AT TIME ZONE)."""
    import pyarrow as pa

    if not zoned:
        return batch
    arrays = []
    for field, array in zip(batch.schema, batch.columns, strict=True):
        if field.name in zoned:
            stamps = [None if v is None else _zoned(str(v)).to_pydatetime() for v in array.to_pylist()]
            array = pa.array(stamps, pa.timestamp("us", tz="UTC"))
        arrays.append(array)
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def write_frame(frame: pd.DataFrame, path: Path, fmt: str) -> int:
    if fmt == "parquet":
        frame.to_parquet(path, index=False)
    elif fmt == "json":
        frame.to_json(path, orient="records", lines=True, date_format="iso")
    else:
        frame.to_csv(path, index=False)
    return len(frame)


def is_header(row: list[str | None], columns: list[dict[str, Any]], statement_type: str | None) -> bool:
    """Only a SELECT's (DML's) first page starts with the column names; SHOW and DESCRIBE results do not."""
    if statement_type == "DML":
        return True
    if statement_type in ("DDL", "UTILITY"):
        return False
    names = [column.get("Label") or column.get("Name") for column in columns]
    return bool(names) and row == names


def utility_rows(rows: list[list[str | None]], width: int, *, describe: bool) -> list[list[str | None]]:
    """SHOW/DESCRIBE rows come as one tab-separated text per row; split them into the columns Athena declares.

    For DESCRIBE, drop the blank and ``#`` lines and mark the partition keys the way the local backend does.
    """
    out: list[list[str | None]] = []
    partition_section = False
    for row in rows:
        if len(row) == 1 and row[0] is not None and "\t" in row[0] and width > 1:
            cells: list[str | None] = [cell.strip() for cell in row[0].split("\t")]
            row = (cells + [""] * width)[:width]
        if describe:
            text = (row[0] or "").strip() if row else ""
            if text.startswith("#"):
                partition_section = partition_section or "partition" in text.lower()
                continue
            if not any((cell or "").strip() for cell in row):
                continue
            if partition_section:
                for earlier in out:
                    if earlier[0] == text:
                        comment = (earlier[2] or "") if len(earlier) > 2 else ""
                        if len(earlier) > 2:
                            earlier[2] = (comment + " (partition key)").strip()
                        break
                continue
        out.append(row)
    return out


def result_frame(rows: list[list[str | None]], columns: list[dict[str, Any]]) -> pd.DataFrame:
    width = max([len(columns), *(len(row) for row in rows)]) if (rows or columns) else 0
    names = [
        (columns[i].get("Label") or columns[i].get("Name") or f"_col{i}") if i < len(columns) else f"_col{i}"
        for i in range(width)
    ]
    types = [str(columns[i].get("Type", "varchar")) if i < len(columns) else "varchar" for i in range(width)]
    data = {i: _convert([row[i] if i < len(row) else None for row in rows], types[i]) for i in range(width)}
    frame = pd.DataFrame(data)
    frame.columns = pd.Index(unique_columns(names))
    return frame


def _convert(values: list[str | None], athena_type: str) -> Any:
    """Athena hands every value over as text; type it from ResultSetMetadata. Unparseable values stay text."""
    kind = _type_kind(athena_type)
    try:
        if kind in _INT_TYPES:
            return pd.array([None if v is None else int(v) for v in values], dtype="Int64")
        if kind in _FLOAT_TYPES:
            return pd.Series([float("nan") if v is None else float(v) for v in values], dtype="float64")
        if kind == "boolean":
            flags = [None if v is None else v.strip().lower() == "true" for v in values]
            return pd.Series(flags, dtype="boolean" if None in flags else "bool")
        if kind == "date":
            return pd.Series([None if v is None else date.fromisoformat(v) for v in values], dtype="object")
        if kind == "timestamp":
            return pd.to_datetime(pd.Series(values, dtype="object"), format="ISO8601")
        if kind == "timestamp with time zone":
            return pd.Series([None if v is None else _zoned(v) for v in values], dtype="datetime64[us, UTC]")
    except (ValueError, TypeError, OverflowError, KeyError):
        pass
    return pd.Series(values, dtype="str")


def _type_kind(athena_type: str) -> str:
    """``decimal(10,2)`` -> ``decimal``, ``timestamp(3) with time zone`` -> ``timestamp with time zone``."""
    return " ".join(re.sub(r"\([^)]*\)", "", athena_type.lower()).split())


def _zoned(text: str) -> pd.Timestamp:
    """Athena's ``timestamp with time zone`` text (``2023-11-14 22:13:20.000 UTC``, a zone name or an offset
    after the last space) as a UTC timestamp, as the local engine gives it."""
    from zoneinfo import ZoneInfo

    stamp, _, zone = text.strip().rpartition(" ")
    moment = pd.Timestamp(stamp)
    if zone.startswith(("+", "-")):
        return pd.Timestamp(f"{stamp}{zone}").tz_convert("UTC")
    return pd.Timestamp(moment).tz_localize(ZoneInfo(zone)).tz_convert("UTC")
