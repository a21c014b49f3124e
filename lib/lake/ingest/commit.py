"""Writing a plan into the lake, all or nothing: the raw file and the curated Parquet copy (Hive partition folders
when partitioned), the table definitions over them, and :func:`apply`, which writes and registers and on any
failure undoes every step. :func:`ingest_file` is the CLI's plan-then-commit of a file read whole."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from lib.backends.base import Backend, ObjectInfo
from lib.catalog import Column, Partition, TableDef, delimited_table, json_table, parquet_table
from lib.errors import IngestCancelled, IngestError, LakeLensError, NotFound
from lib.lake.ingest.model import (
    HIVE_NULL,
    MAX_OLD_OBJECTS,
    MAX_PARTITIONS,
    OPEN_CSV_SERDE,
    RAW_SUFFIX,
    SCRATCH_MARK,
    ColumnPlan,
    IngestFormat,
    IngestPlan,
    IngestResult,
    first_line,
    hive_escape,
    typed_table,
)
from lib.lake.ingest.parse import plan_ingest
from lib.lake.objects import all_partitions, iter_keys, key_of_location, kind_from_name, split_compression
from lib.paths import human_bytes, join_key


@dataclass
class _Undo:
    """What to undo if the ingest fails: objects written, objects overwritten, tables created or replaced."""

    written: list[str] = field(default_factory=list)
    backups: dict[str, bytes] = field(default_factory=dict)
    created: list[tuple[str, str]] = field(default_factory=list)
    replaced: list[tuple[TableDef, list[Partition]]] = field(default_factory=list)
    dropped: list[tuple[TableDef, list[Partition]]] = field(default_factory=list)


def _partition_value(value: Any) -> str:
    if value is None or value == "":
        return HIVE_NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def _parquet_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="snappy", row_group_size=128_000)
    return bytes(sink.getvalue().to_pybytes())


def _curated_files(
    plan: IngestPlan, typed: pa.Table, partition_by: str | None
) -> tuple[list[tuple[str, bytes, tuple[str, ...]]], list[Column]]:
    """(key, Parquet bytes, partition values) for the curated copy, and the partition key columns."""
    prefix = plan.curated_prefix
    if not partition_by:
        return [(prefix + "part-0.parquet", _parquet_bytes(typed), ())], []
    names = [c.name for c in plan.columns]
    wanted = partition_by.strip().lower()
    if wanted not in names:
        matches = [c.name for c in plan.columns if c.source == partition_by]
        if not matches:
            raise IngestError(f"There is no column {partition_by!r} to partition by; choose one of {', '.join(names)}.")
        wanted = matches[0]
    if len(names) == 1:
        raise IngestError("A table with one column cannot be partitioned by it: no columns would be left in the files.")
    column = typed.column(wanted)
    values = pc.unique(column)
    if len(values) > MAX_PARTITIONS:
        raise IngestError(
            f"Partitioning by {wanted} would create {len(values):,} folders (at most {MAX_PARTITIONS:,}); "
            "pick a column with fewer distinct values, such as a category."
        )
    key_type = next(c.type for c in plan.columns if c.name == wanted)
    rest = typed.drop_columns([wanted])
    files: list[tuple[str, bytes, tuple[str, ...]]] = []
    for value in sorted(values.to_pylist(), key=lambda v: (v is None, str(v))):
        mask = pc.is_null(column) if value is None else pc.equal(column, pa.scalar(value, column.type))
        mask = pc.fill_null(mask, False)
        text = _partition_value(value)
        folder = f"{wanted}={hive_escape(text)}/"
        files.append((prefix + folder + "part-0.parquet", _parquet_bytes(rest.filter(mask)), (text,)))
    return files, [Column(wanted, key_type, "partition key")]


def column_comment(column: ColumnPlan) -> str:
    if column.comment:
        return column.comment
    return f"file column {column.source!r}" if column.source != column.name else ""


def raw_table_def(backend: Backend, plan: IngestPlan, name: str) -> TableDef:
    columns = [Column(c.name, c.type, column_comment(c)) for c in plan.columns]
    location = backend.location(plan.raw_prefix)
    description = f"Raw zone: {plan.raw_filename} as ingested by LakeLens ({plan.rows:,} rows)"
    if plan.format == "parquet":
        table = parquet_table(plan.database, name, columns, location, description=description)
    elif plan.format == "jsonl":
        table = json_table(plan.database, name, columns, location, description=description)
    else:
        delimiter = plan.delimiter or ","
        table = delimited_table(plan.database, name, columns, location, delimiter=delimiter, description=description)
        if plan.quoted:
            table = dataclasses.replace(
                table,
                serde_library=OPEN_CSV_SERDE,
                serde_parameters={"separatorChar": delimiter, "quoteChar": '"', "escapeChar": "\\"},
            )
    return dataclasses.replace(table, parameters={**table.parameters, **_source_parameters(plan)})


def _source_parameters(plan: IngestPlan) -> dict[str, str]:
    return {"lakelens.source_file": plan.filename, "lakelens.rows": str(plan.rows)}


def existing_table(backend: Backend, database: str, name: str) -> tuple[TableDef, list[Partition]] | None:
    try:
        table = backend.get_table(database, name)
    except NotFound:
        return None
    return table, all_partitions(backend, database, name)


def commit(
    backend: Backend,
    plan: IngestPlan,
    *,
    curated: bool = False,
    partition_by: str | None = None,
    replace: bool = False,
) -> IngestResult:
    """Write the raw file (and the curated copy), register the table(s); all or nothing."""
    notes: list[str] = []
    curated = curated or bool(partition_by)
    if not plan.raw_registrable and not curated:
        curated = True
        notes.append(
            f"The table is a curated Parquet copy; the raw file is kept but not registered ({plan.raw_problem})."
        )
    typed = typed_table(plan)
    raw_key = join_key(plan.raw_prefix, plan.raw_filename)
    files: list[tuple[str, Source, dict[str, str]]] = [
        (raw_key, plan.raw_bytes, {"lakelens-source-file": plan.filename})
    ]
    if plan.encoding != "utf-8":
        files[0][2]["lakelens-source-encoding"] = plan.encoding
    targets: list[tuple[TableDef, list[Partition] | None]] = []
    if curated:
        parts, keys = _curated_files(plan, typed, partition_by)
        files += [(key, data, {}) for key, data, _ in parts]
        columns = [
            Column(c.name, c.type, column_comment(c)) for c in plan.columns if c.name not in {k.name for k in keys}
        ]
        table = parquet_table(
            plan.database,
            plan.table,
            columns,
            backend.location(plan.curated_prefix),
            partition_keys=keys,
            description=f"Curated zone: {plan.filename} as Parquet ({plan.rows:,} rows)"
            + (f", partitioned by {keys[0].name}" if keys else ""),
            parameters=_source_parameters(plan),
        )
        found_partitions = [
            Partition(values, backend.location(key.rsplit("/", 1)[0] + "/")) for key, _, values in parts if values
        ]
        targets.append((table, found_partitions if keys else None))
        if plan.raw_registrable:
            targets.append((raw_table_def(backend, plan, raw_name(plan.table)), None))
    else:
        targets.append((raw_table_def(backend, plan, plan.table), None))

    prefixes = [plan.raw_prefix] + ([plan.curated_prefix] if curated else [])
    return apply(
        backend,
        plan.database,
        f"Ingest of {plan.filename}",
        files,
        targets,
        prefixes,
        replace=replace,
        rows=plan.rows,
        notes=notes,
        stale=stale_raw(backend, plan, replace=replace, curated=curated),
    )


def stale_raw(
    backend: Backend, plan: IngestPlan, *, replace: bool, curated: bool
) -> list[tuple[TableDef, list[Partition]]]:
    """Replacing a curated table with a raw-only one: the old ``<table>_raw`` over the same files goes."""
    if not replace or curated:
        return []
    old_raw = existing_table(backend, plan.database, raw_name(plan.table))
    if old_raw and key_of_location(backend, old_raw[0].location) == plan.raw_prefix:
        return [old_raw]
    return []


Source = bytes | Path  # an object's content: bytes in memory, or a local file streamed (and, if moved, renamed)


def apply(
    backend: Backend,
    database: str,
    label: str,
    files: Sequence[tuple[str, Source, dict[str, str]]],
    targets: Sequence[tuple[TableDef, list[Partition] | None]],
    prefixes: Sequence[str],
    *,
    replace: bool,
    rows: int,
    notes: list[str],
    stale: Sequence[tuple[TableDef, list[Partition]]] = (),
    progress: Callable[[str, int], None] | None = None,
) -> IngestResult:
    """Write ``files`` and register ``targets``, all or nothing: the refusals first, then the writes, and on any
    failure (or an interrupt) every write undone. A :class:`~pathlib.Path` source is streamed (files under a
    LakeLens scratch folder are moved); ``progress`` hears (key, bytes done) as they go. ``label`` starts the
    failure's sentence ("Ingest of reviews.tsv"); ``stale`` tables are dropped once the new ones are in."""
    # Everything that can be refused is refused before the first write.
    previous = {t.name: existing_table(backend, database, t.name) for t, _ in targets}
    clashing = [name for name, old in previous.items() if old is not None]
    if clashing and not replace:
        names = " and ".join(f"{database}.{n}" for n in clashing)
        raise IngestError(
            f"Table {names} already exists; pass --replace (on the page: tick 'Replace the existing table') "
            "to overwrite it."
        )
    old_objects: list[ObjectInfo] = []
    for prefix in prefixes:
        found, capped = iter_keys(backend, prefix, MAX_OLD_OBJECTS)
        if capped:
            raise IngestError(
                f"{prefix} holds over {MAX_OLD_OBJECTS:,} objects; LakeLens will not replace that much in one step."
            )
        old_objects += found
    if old_objects and not replace:
        occupied = " and ".join(p for p in prefixes if any(o.key.startswith(p) for o in old_objects))
        raise IngestError(
            f"{occupied} already holds {len(old_objects):,} file(s) that no table of this name owns; pick another "
            "table name, or replace to clear them."
        )
    new_keys = {key for key, _, _ in files}
    undo = _Undo()
    step = "writing the raw file"
    try:
        for key, source, metadata in files:
            if key in {o.key for o in old_objects}:
                undo.backups[key] = backend.read(key)
            if isinstance(source, Path):
                tell = (lambda done, key=key: progress(key, done)) if progress else None
                scratch = any(part.startswith(SCRATCH_MARK) for part in source.parts)
                backend.write_file(
                    key, source, content_type=_content_type(key), metadata=metadata or None, progress=tell, move=scratch
                )
            else:
                backend.write(key, source, content_type=_content_type(key), metadata=metadata or None)
            undo.written.append(key)
            step = "writing the curated Parquet copy"
        step = "registering the table"
        if not any(db.name == database for db in backend.list_databases()):
            backend.create_database(database, "Created by a LakeLens ingest")
        registered = []
        for table, partitions in targets:
            old = previous[table.name]
            stored = backend.register_table(table, partitions=partitions, replace=old is not None)
            if old is None:
                undo.created.append((table.database, table.name))
            else:
                undo.replaced.append(old)
            registered.append(stored)
        step = "dropping the old raw table"
        for table, partitions in stale:
            backend.drop_table(table.database, table.name)
            undo.dropped.append((table, partitions))
        step = "removing the old files"
        for obj in old_objects:
            if obj.key not in new_keys:
                backend.delete(obj.key)
    except BaseException as exc:
        problems = _rollback(backend, undo)
        if not isinstance(exc, Exception) or isinstance(exc, IngestCancelled):  # undone, then passed on
            raise
        reason = str(exc) if isinstance(exc, LakeLensError) else f"{type(exc).__name__}: {first_line(exc)}"
        message = f"{label} failed while {step} ({reason.rstrip('.')}); everything it wrote was removed."
        if problems:
            message = (
                f"{label} failed while {step} ({reason.rstrip('.')}), and undoing it failed too "
                f"({'; '.join(problems)}); check {', '.join(prefixes)} by hand."
            )
        raise IngestError(message) from exc
    return IngestResult(registered, [key for key, _, _ in files], rows, notes)


def raw_name(table: str) -> str:
    return f"{table}{RAW_SUFFIX}"


def _content_type(key: str) -> str:
    kind = kind_from_name(key)
    return {
        "csv": "text/csv",
        "tsv": "text/tab-separated-values",
        "json": "application/json",
        "jsonl": "application/x-ndjson",
        "parquet": "application/vnd.apache.parquet",
    }.get(kind or "", "application/octet-stream")


def _rollback(backend: Backend, undo: _Undo) -> list[str]:
    problems: list[str] = []

    def attempt(what: str, action: Callable[..., object], *args: Any, **kwargs: Any) -> None:
        try:
            action(*args, **kwargs)
        except Exception as exc:  # keep undoing the rest; report every failure
            problems.append(f"{what}: {first_line(exc)}")

    for table, partitions in undo.dropped:
        attempt(f"restore {table.qualified_name}", backend.register_table, table, partitions=partitions, replace=True)
    for database, name in reversed(undo.created):
        attempt(f"drop {database}.{name}", backend.drop_table, database, name)
    for table, partitions in undo.replaced:
        attempt(f"restore {table.qualified_name}", backend.register_table, table, partitions=partitions, replace=True)
    for key in reversed(undo.written):
        if key in undo.backups:
            attempt(f"restore {key}", backend.write, key, undo.backups[key])
        else:
            attempt(f"delete {key}", backend.delete, key)
    return problems


def ingest_file(
    backend: Backend,
    path: Path,
    *,
    database: str,
    table: str,
    fmt: IngestFormat = "auto",
    encoding: str = "utf-8",
    skip_bad_rows: bool = False,
    curated: bool = False,
    partition_by: str | None = None,
    replace: bool = False,
) -> tuple[IngestPlan, IngestResult]:
    """The CLI's ingest of a file read whole: plan, commit. (A UTF-8 CSV/TSV of 64 MB or more is streamed instead,
    by :mod:`lib.lake.stream`, at any size; the upload limit bounds only what is read whole here and is not a
    small UTF-8 CSV/TSV, which is never over it in practice.)"""
    base, _ = split_compression(path.name.lower())
    streamable_text = encoding == "utf-8" and (fmt in ("csv", "tsv") or base.endswith((".csv", ".tsv", ".tab", ".txt")))
    limit = None if streamable_text else backend.settings.max_upload_bytes
    try:
        size = path.stat().st_size
        if limit is not None and size > limit:
            raise IngestError(
                f"{path.name} is {human_bytes(size)}; JSON, Parquet and text that is not UTF-8 are read whole, up to "
                f"{human_bytes(limit)}. Raise LAKELENS_MAX_UPLOAD_BYTES, or convert it to a UTF-8 CSV/TSV, which is "
                "streamed at any size."
            )
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    plan = plan_ingest(
        data,
        path.name,
        database=database,
        table=table,
        fmt=fmt,
        encoding=encoding,
        skip_bad_rows=skip_bad_rows,
        max_bytes=limit,
        max_decompressed=backend.settings.max_upload_bytes,  # read whole, so bounded (a big gzip TSV is streamed)
    )
    return plan, commit(backend, plan, curated=curated, partition_by=partition_by, replace=replace)
