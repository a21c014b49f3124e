"""Registering files already in the lake as a table, as a Glue crawler or ``MSCK REPAIR TABLE`` would: the format
from the names (else the bytes), the schema from a sample of the first file, Hive ``key=value`` folders as
partition keys."""

from __future__ import annotations

import dataclasses

import pyarrow as pa
import pyarrow.parquet as pq

from lib.backends.base import Backend, ObjectInfo
from lib.catalog import Column, Partition, TableDef, arrow_type_to_glue, delimited_table, json_table, parquet_table
from lib.errors import IngestError
from lib.lake.ingest.commit import existing_table
from lib.lake.ingest.model import (
    COLUMN_NAME,
    OPEN_CSV_SERDE,
    SCHEMA_SAMPLE_BYTES,
    IngestFormat,
    column_names,
    first_line,
    hive_escape,
    table_name,
)
from lib.lake.ingest.parse import parse_delimited, parse_json
from lib.lake.objects import iter_keys, kind_from_bytes, kind_from_name, split_compression
from lib.lake.preview import RangedFile, decode_text, gunzip_head, parquet_facts, sniff_delimiter, starts_quoted
from lib.paths import clean_key


def register_prefix(
    backend: Backend,
    prefix: str,
    *,
    database: str,
    table: str,
    fmt: IngestFormat = "auto",
    replace: bool = False,
) -> TableDef:
    """Register the files under ``prefix`` as a table: format from the names, schema from the first file,
    Hive ``key=value`` folders as partition keys (as a Glue crawler or MSCK REPAIR TABLE would find them)."""
    prefix = clean_key(prefix, folder=True)
    if not prefix:
        raise IngestError("Give the folder to register, such as raw/reviews/; the whole lake cannot be one table.")
    database, _ = table_name(database, "database")
    table, _ = table_name(table, "table")
    objects, _capped = iter_keys(backend, prefix, 100_000)
    files = [o for o in objects if not _hidden_key(o.key[len(prefix) :])]
    if not files:
        raise IngestError(f"There are no data files under {prefix}; nothing to register.")
    kinds = {_registered_kind(backend, o.key, fmt) for o in files}
    if len(kinds) > 1:
        raise IngestError(f"{prefix} mixes file formats ({', '.join(sorted(kinds))}); a table reads one format.")
    kind = kinds.pop()
    partition_names, partition_values = _hive_layout(prefix, files)
    sample = files[0]
    columns, delimiter, quoted = _sample_schema(backend, sample, kind)
    location = backend.location(prefix)
    keys = [Column(name, "string", "partition key") for name in partition_names]
    overlap = {c.name for c in columns} & set(partition_names)
    if overlap:
        raise IngestError(f"Column(s) {', '.join(sorted(overlap))} appear both in the files and as partition folders.")
    description = f"Registered by LakeLens from {prefix} (schema from {sample.key.rsplit('/', 1)[-1]})"
    if kind == "parquet":
        definition = parquet_table(database, table, columns, location, partition_keys=keys, description=description)
    elif kind == "jsonl":
        definition = dataclasses.replace(
            json_table(database, table, columns, location, description), partition_keys=keys
        )
    else:
        definition = delimited_table(
            database, table, columns, location, delimiter=delimiter, description=description, partition_keys=keys
        )
        if quoted:
            definition = dataclasses.replace(
                definition,
                serde_library=OPEN_CSV_SERDE,
                serde_parameters={"separatorChar": delimiter, "quoteChar": '"', "escapeChar": "\\"},
            )
    partitions = [
        Partition(
            values,
            backend.location(
                prefix + "/".join(f"{k}={hive_escape(v)}" for k, v in zip(partition_names, values, strict=True)),
            ),
        )
        for values in partition_values
    ]
    exists = existing_table(backend, database, table) is not None
    if exists and not replace:
        raise IngestError(
            f"Table {database}.{table} already exists; pass --replace (on the page: tick 'Replace the existing "
            "table') to overwrite it."
        )
    if not any(db.name == database for db in backend.list_databases()):
        backend.create_database(database, "Created by LakeLens")
    return backend.register_table(definition, partitions=partitions if keys else None, replace=exists)


def _hidden_key(relative: str) -> bool:
    return any(part.startswith(("_", ".")) for part in relative.split("/"))


def _registered_kind(backend: Backend, key: str, fmt: IngestFormat) -> str:
    if fmt == "json":
        return "jsonl"
    if fmt != "auto":
        return fmt
    kind = kind_from_name(key)
    if kind in ("csv", "tsv", "jsonl", "parquet"):
        return kind
    if kind == "json":
        return "jsonl"
    head = backend.read(key, 0, 4096)
    sniffed = kind_from_bytes(head)
    if sniffed in ("parquet", "jsonl", "json"):
        return "jsonl" if sniffed == "json" else sniffed
    if sniffed == "text":
        return "csv"
    raise IngestError(f"{key} is not CSV, TSV, JSON lines or Parquet; LakeLens cannot register it.")


def _hive_layout(prefix: str, files: list[ObjectInfo]) -> tuple[list[str], list[tuple[str, ...]]]:
    from urllib.parse import unquote

    layouts: set[tuple[str, ...]] = set()
    values: dict[tuple[str, ...], None] = {}
    for obj in files:
        folders = obj.key[len(prefix) :].split("/")[:-1]
        names: list[str] = []
        found: list[str] = []
        for folder in folders:
            name, sep, value = folder.partition("=")
            if not sep:
                raise IngestError(
                    f"{obj.key} sits in the folder {folder!r}, which is not a key=value partition folder; register "
                    "the folder that holds the files instead."
                )
            names.append(name)
            found.append(unquote(value))
        layouts.add(tuple(names))
        values[tuple(found)] = None
    if len(layouts) > 1:
        raise IngestError(f"The files under {prefix} sit at different partition depths; a table needs one layout.")
    names = list(layouts.pop())
    for name in names:
        if not COLUMN_NAME.match(name):
            raise IngestError(f"Partition folder name {name!r} is not a valid Glue column name.")
    return names, sorted(values) if names else []


def _sample_schema(backend: Backend, sample: ObjectInfo, kind: str) -> tuple[list[Column], str, bool]:
    if kind == "parquet":
        try:
            facts = parquet_facts(pq.ParquetFile(RangedFile(backend, sample.key, sample.size), pre_buffer=False))
        except (pa.ArrowException, OSError) as exc:
            raise IngestError(f"{sample.key} is not a readable Parquet file ({first_line(exc)}).") from None
        return [_by_name(c.name, c.type, sample.key) for c in facts.columns], "", False
    head = backend.read(sample.key, 0, min(sample.size, SCHEMA_SAMPLE_BYTES))
    partial = sample.size > len(head)
    if split_compression(sample.key)[1] or head.startswith(b"\x1f\x8b"):
        head, partial = gunzip_head(head, SCHEMA_SAMPLE_BYTES * 4, partial)
    text, _, _ = decode_text(head, partial)
    if partial and "\n" in text:
        text = text[: text.rindex("\n") + 1]
    if kind == "jsonl":
        parsed, headers, _ = parse_json(text, sample.key, "jsonl", skip_bad_rows=True)
        return (
            [_by_name(h, arrow_type_to_glue(f.type), sample.key) for h, f in zip(headers, parsed.schema, strict=True)],
            "",
            False,
        )
    delimiter = "\t" if kind == "tsv" else sniff_delimiter(text[:65_536], "csv")
    quoted = starts_quoted(text, delimiter)
    parsed, headers, _ = parse_delimited(text, sample.key, delimiter, quoted, skip_bad_rows=True)
    names, _ = column_names(headers)
    return [Column(n, arrow_type_to_glue(f.type)) for n, f in zip(names, parsed.schema, strict=True)], delimiter, quoted


def _by_name(name: str, glue_type: str, key: str) -> Column:
    """Parquet and JSON are read by column name: only names that are Glue names already (case aside) can be used."""
    lowered = name.lower()
    if not COLUMN_NAME.match(lowered):
        raise IngestError(
            f"{key} has a column {name!r}, which is not a Glue column name, and files read by name cannot be renamed "
            "in place; ingest the file instead, which writes a copy with safe names."
        )
    return Column(lowered, glue_type)
