"""Curate what is already in the lake: a raw table (say a multi-GB TSV copied into S3 or the lake folder with other
tools) becomes a curated, optionally partitioned Parquet table, without passing through a browser.

* **local**: one streaming DuckDB statement reads the raw table's files the way the local engine reads them (its
  own view SQL: the catalog's columns and types, the table's SerDe) and writes Parquet into a scratch folder in the
  lake under ``LAKELENS_INGEST_MEMORY_BYTES``; the files are then moved into ``curated/<db>/<table>/`` and the table
  registered, all or nothing (:func:`lib.lake.ingest.apply`).
* **aws**: Athena does the work, as the data-science-on-aws workshop converts the reviews TSV: a CTAS
  (``CREATE TABLE … WITH (format = 'PARQUET', partitioned_by = ARRAY[…], external_location = …) AS SELECT …``)
  registers the table in Glue itself. Athena writes at most 100 partitions per statement, so a partitioned table
  is written by the CTAS for the first 100 partition values and ``INSERT INTO`` for each next 100. It runs under a
  name and a folder of its own, and only when every statement has succeeded does the table take its name (an old
  one is then replaced); on a failure or a cancel the half-made table and its files are removed.

Both report progress (bytes read, rate, the statement and batch) and stop on a :class:`threading.Event`.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from lib.backends.base import Backend
from lib.catalog import Column, TableDef, parquet_table, validate_identifier
from lib.errors import CatalogError, IngestCancelled, IngestError, LakeLensError, NotFound
from lib.lake import ingest
from lib.lake import stream as ingest_stream
from lib.lake.objects import all_partitions, iter_keys
from lib.paths import human_bytes
from lib.sql import quote_identifier, quote_literal

ATHENA_PARTITIONS_PER_STATEMENT = 100  # "HIVE_TOO_MANY_OPEN_PARTITIONS": a CTAS or INSERT writes at most 100
ProgressFn = Callable[[float, str], None]


@dataclass(frozen=True)
class CuratePlan:
    """What a curate will do, decided before anything runs: the source, the target, the SQL and the scan."""

    source: TableDef
    database: str
    table: str
    partition_by: str | None
    columns: list[Column]  # the table's columns, the partition key last
    prefix: str  # curated/<database>/<table>/
    scan_bytes: int
    engine: str

    @property
    def qualified_name(self) -> str:
        return f"{self.database}.{self.table}"

    def describe(self) -> str:
        how = f", partitioned by {self.partition_by}" if self.partition_by else ""
        return (
            f"{self.source.qualified_name} → {self.qualified_name} (Parquet at {self.prefix}{how}); reads about "
            f"{human_bytes(self.scan_bytes)} on {self.engine}"
        )


@dataclass(frozen=True)
class CurateResult:
    table: TableDef
    rows: int | None
    seconds: float
    statements: list[str]  # the query ids (aws) or the statements run (local)
    bytes_scanned: int | None


def plan_curate(backend: Backend, source: str, target: str, *, partition_by: str | None = None) -> CuratePlan:
    """Check the names and the columns, and estimate the scan; nothing runs."""
    src_db, dot, src_name = source.partition(".")
    db, dot2, name = target.partition(".")
    if not (dot and dot2 and src_db and src_name and db and name):
        raise IngestError("Name the tables as database.table, e.g. --from-table demo.reviews_raw --table demo.reviews.")
    validate_identifier(db, "database")
    validate_identifier(name, "table")
    table = backend.get_table(src_db, src_name)
    if (db, name) == (table.database, table.name):
        raise IngestError("The curated table needs a name of its own; it must not replace the table it is made from.")
    columns = list(table.all_columns)
    key = None
    if partition_by:
        wanted = partition_by.strip().lower()
        matches = [c for c in columns if c.name.lower() == wanted]
        if not matches:
            names = ", ".join(c.name for c in columns)
            raise IngestError(f"{table.qualified_name} has no column {partition_by!r} to partition by; one of {names}.")
        if len(columns) == 1:
            raise IngestError("A table with one column cannot be partitioned by it: no columns would be left.")
        key = matches[0].name
        columns = [c for c in columns if c.name != key] + matches
    from lib.sql.estimate import estimate_scan

    scan = estimate_scan(backend, f"SELECT * FROM {quote_identifier(src_db)}.{quote_identifier(src_name)}")
    engine = backend.engine_name
    return CuratePlan(table, db, name, key, columns, f"{ingest.CURATED_ZONE}{db}/{name}/", scan.bytes, engine)


def curate(
    backend: Backend,
    plan: CuratePlan,
    *,
    replace_existing: bool = False,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
) -> CurateResult:
    report = progress or (lambda fraction, message: None)
    stop = cancel or threading.Event()
    _refuse_clash(backend, plan, replace_existing)
    if backend.lake_folder is None:  # the lake is not on this disk: its engine writes the Parquet (Athena CTAS)
        return _curate_athena(backend, plan, replace_existing, report, stop)
    return _curate_local(backend, plan, replace_existing, report, stop)


def _refuse_clash(backend: Backend, plan: CuratePlan, replace_existing: bool) -> None:
    try:
        backend.get_table(plan.database, plan.table)
    except NotFound:
        return
    if not replace_existing:
        raise IngestError(
            f"Table {plan.qualified_name} already exists; pass --replace (on the page: tick 'Replace it') to "
            "overwrite it."
        )


# -- local: one streaming DuckDB statement ----------------------------------------------------------------------
def _curate_local(
    backend: Backend, plan: CuratePlan, replace_existing: bool, report: ProgressFn, stop: threading.Event
) -> CurateResult:
    started = time.perf_counter()
    root = backend.lake_folder
    assert root is not None  # curate() sends only a lake on this disk here
    source_sql = backend.source_sql(plan.source)
    names = ", ".join(quote_identifier(c.name) for c in plan.columns)
    scratch = backend.scratch_dir(f"{ingest.SCRATCH_MARK}{uuid.uuid4().hex[:6]}-")
    try:
        out = scratch / "parquet"
        out.mkdir()
        target = out if plan.partition_by else out / "part-0.parquet"
        sql = ingest_stream.copy_sql(
            f"SELECT {names} FROM ({source_sql}) AS source", target.resolve(), plan.partition_by
        )
        rows_param = plan.source.parameters.get("lakelens.rows", "")
        how = ingest_stream.Streaming(
            read_paths=[],
            read_dirs=[root],
            write_dir=scratch,
            memory=backend.settings.ingest_memory_bytes,
            size=max(plan.scan_bytes, 1),
            rows_estimate=float(rows_param) if rows_param.isdigit() else 0.0,
            what=f"Curating {plan.source.qualified_name}",
        )
        report(0.0, f"Converting {plan.source.qualified_name} ({human_bytes(plan.scan_bytes)}) to Parquet")
        rows, _ = ingest_stream.run_streaming(
            sql,
            how,
            started=started,
            report=report,
            stop=stop,
            on_error=lambda exc: IngestError(
                f"Curating {plan.source.qualified_name} failed ({str(exc).strip().splitlines()[0]}); nothing was "
                "written."
            ),
        )
        files, partitions = ingest_stream.converted_files(backend, out, plan.prefix, plan.partition_by)
        table = _curated_def(backend, plan, rows, backend.location(plan.prefix))
        report(0.95, f"Moving {len(files):,} Parquet file(s) into {plan.prefix} and registering {plan.qualified_name}")
        if stop.is_set():
            raise IngestCancelled(f"Curating {plan.source.qualified_name} cancelled; nothing was written.")
        ingest.apply(
            backend,
            plan.database,
            f"Curating {plan.source.qualified_name}",
            files,
            [(table, partitions if plan.partition_by else None)],
            [plan.prefix],
            replace=replace_existing,
            rows=rows,
            notes=[],
        )
    finally:
        import shutil

        shutil.rmtree(scratch, ignore_errors=True)
    seconds = time.perf_counter() - started
    report(1.0, f"{rows:,} rows curated into {plan.qualified_name} in {seconds:.1f} s")
    return CurateResult(backend.get_table(plan.database, plan.table), rows, seconds, [sql], plan.scan_bytes)


def _curated_def(backend: Backend, plan: CuratePlan, rows: int | None, location: str) -> TableDef:
    keys = [replace(plan.columns[-1], comment="partition key")] if plan.partition_by else []
    columns = plan.columns[:-1] if plan.partition_by else plan.columns
    counted = f"{rows:,} rows" if rows is not None else "rows counted by Athena"
    return parquet_table(
        plan.database,
        plan.table,
        columns,
        location,
        partition_keys=keys,
        description=f"Curated zone: {plan.source.qualified_name} as Parquet ({counted})"
        + (f", partitioned by {plan.partition_by}" if plan.partition_by else ""),
        parameters={"lakelens.source": plan.source.qualified_name, **({"lakelens.rows": str(rows)} if rows else {})},
    )


# -- aws: Athena CTAS, then INSERT INTO per 100 partitions --------------------------------------------------------
def ctas_sql(plan: CuratePlan, name: str, location: str, where: str | None = None) -> str:
    """``CREATE TABLE … WITH (…) AS SELECT …`` in Athena's dialect (the partition key last, as Athena requires)."""
    properties = [
        "format = 'PARQUET'",
        "write_compression = 'SNAPPY'",
        f"external_location = {quote_literal(location)}",
    ]
    if plan.partition_by:
        properties.append(f"partitioned_by = ARRAY[{quote_literal(plan.partition_by)}]")
    return (
        f"CREATE TABLE {quote_identifier(plan.database)}.{quote_identifier(name)} WITH ({', '.join(properties)}) AS "
        + _select(plan, where)
    )


def insert_sql(plan: CuratePlan, name: str, where: str) -> str:
    return f"INSERT INTO {quote_identifier(plan.database)}.{quote_identifier(name)} " + _select(plan, where)


def _select(plan: CuratePlan, where: str | None) -> str:
    names = ", ".join(quote_identifier(c.name) for c in plan.columns)
    source = f"{quote_identifier(plan.source.database)}.{quote_identifier(plan.source.name)}"
    return f"SELECT {names} FROM {source}" + (f" WHERE {where}" if where else "")


def _value_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)) and not (isinstance(value, float) and math.isnan(value)):
        return repr(value)
    return quote_literal(str(value))


def partition_batches(plan: CuratePlan, values: list[Any]) -> list[str]:
    """WHERE conditions that split the partition values into groups of at most 100 (a NULL value is one of them)."""
    key = quote_identifier(plan.partition_by or "")
    present = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    items: list[str | None] = [_value_literal(v) for v in present] + ([None] if len(present) < len(values) else [])
    batches: list[str] = []
    for start in range(0, len(items), ATHENA_PARTITIONS_PER_STATEMENT):
        chunk = items[start : start + ATHENA_PARTITIONS_PER_STATEMENT]
        literals = [item for item in chunk if item is not None]
        parts = [f"{key} IN ({', '.join(literals)})"] if literals else []
        if None in chunk:
            parts.append(f"{key} IS NULL")
        batches.append(" OR ".join(parts))
    return batches


def _curate_athena(
    backend: Backend, plan: CuratePlan, replace_existing: bool, report: ProgressFn, stop: threading.Event
) -> CurateResult:
    started = time.perf_counter()
    run_id = uuid.uuid4().hex[:8]
    work_name = f"{plan.table}__lakelens_{run_id}"
    work_prefix = f"{plan.prefix}run-{run_id}/"
    location = backend.location(work_prefix)
    statements: list[str] = []
    scanned = 0
    try:
        batches: list[str | None] = [None]
        if plan.partition_by:
            report(0.0, f"Listing the values of {plan.partition_by} in {plan.source.qualified_name}")
            key = quote_identifier(plan.partition_by)
            source = f"{quote_identifier(plan.source.database)}.{quote_identifier(plan.source.name)}"
            found = backend.run_query(f"SELECT DISTINCT {key} AS value FROM {source}", max_rows=ingest.MAX_PARTITIONS)
            if found.stats.truncated:
                raise IngestError(
                    f"{plan.partition_by} has over {ingest.MAX_PARTITIONS:,} values; partition by a column with "
                    "fewer, such as a category."
                )
            statements.append(found.stats.query_id)
            scanned += found.stats.bytes_scanned or 0
            values = [None if v is None or v != v else v for v in found.frame["value"].tolist()]
            batches = list(partition_batches(plan, values)) or [None]
        for number, where in enumerate(batches):
            sql = (
                ctas_sql(plan, work_name, location, where) if number == 0 else insert_sql(plan, work_name, where or "")
            )
            verb = "CTAS" if number == 0 else "INSERT INTO"
            batch = f" (partitions batch {number + 1} of {len(batches)})" if len(batches) > 1 else ""

            def tell(
                state: str,
                bytes_now: int,
                query_id: str,
                verb: str = verb,
                batch: str = batch,
                fraction: float = min(0.95, (number + 0.5) / len(batches)),
                before: int = scanned,
            ) -> None:
                report(
                    fraction,
                    f"Athena {verb}{batch}: {state} · {human_bytes(before + bytes_now)} scanned · query {query_id}",
                )

            stats = backend.run_statement(sql, database=plan.database, on_poll=tell, cancel=stop)
            statements.append(stats.query_id)
            scanned += stats.bytes_scanned or 0
        report(0.96, f"Registering {plan.qualified_name}")
        made = backend.get_table(plan.database, work_name)
        partitions = all_partitions(backend, plan.database, work_name)
        final = replace(made, name=plan.table, description=_curated_def(backend, plan, None, location).description)
        final = replace(final, parameters={**made.parameters, "lakelens.source": plan.source.qualified_name})
        old_keys = _old_objects(backend, plan.prefix, work_prefix) if replace_existing else []
        backend.register_table(final, partitions=partitions or None, replace=replace_existing)
        backend.drop_table(plan.database, work_name)
        for old in old_keys:
            backend.delete(old)
    except BaseException as exc:
        _undo_athena(backend, plan.database, work_name, work_prefix)
        if isinstance(exc, IngestCancelled) or not isinstance(exc, Exception):
            raise
        if isinstance(exc, LakeLensError):
            raise IngestError(
                f"Curating {plan.source.qualified_name} failed ({str(exc).rstrip('.')}); the half-made table and "
                "its files were removed."
            ) from exc
        raise
    seconds = time.perf_counter() - started
    report(1.0, f"{plan.qualified_name} curated by Athena in {seconds:.1f} s ({human_bytes(scanned)} scanned)")
    return CurateResult(backend.get_table(plan.database, plan.table), None, seconds, statements, scanned)


def _old_objects(backend: Backend, prefix: str, keep: str) -> list[str]:
    found, capped = iter_keys(backend, prefix, ingest.MAX_OLD_OBJECTS)
    if capped:
        raise IngestError(f"{prefix} holds over {ingest.MAX_OLD_OBJECTS:,} objects; LakeLens will not replace them.")
    return [o.key for o in found if not o.key.startswith(keep)]


def _undo_athena(backend: Backend, database: str, name: str, prefix: str) -> None:
    """Remove the work table and every object under its folder (best effort: each step on its own)."""
    with contextlib.suppress(LakeLensError, CatalogError):
        backend.drop_table(database, name)
    try:
        found, _ = iter_keys(backend, prefix, ingest.MAX_OLD_OBJECTS)
        for obj in found:
            backend.delete(obj.key)
    except LakeLensError:
        pass
