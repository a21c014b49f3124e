"""The local engine: DuckDB on a locked-down in-memory connection, a view per catalog table over its files,
Athena SQL translated to DuckDB's (lib/sql/translate.py), queries run, cancelled, explained and exported.

The connection has external access switched off except for the lake folder, extensions neither installed nor
loaded, and its configuration locked, so even SQL that slipped past the guard could not read outside the lake.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import duckdb
import pandas as pd
import pyarrow as pa

from lib import sql as sqlmod
from lib.backends.base import QueryResult, QueryStats, unique_columns
from lib.backends.local.answers import information_schema_table, show_frame
from lib.backends.local.catalog import LocalCatalog
from lib.backends.local.files import TMP_MARK
from lib.backends.local.views import column_types, view_column_map, view_sql, walk_table_files
from lib.catalog import TableDef
from lib.errors import (
    CatalogError,
    LakeLensError,
    ParameterError,
    QueryCancelled,
    QueryFailed,
    QueryTimeout,
    SqlError,
)
from lib.settings import Settings
from lib.sql import params as paramsmod
from lib.sql import plan as planmod
from lib.sql.params import ParamValue

_LISTING_TTL_S = 1.0  # a table's file list is reused this long (the queries of one page load)
_INFO_SCHEMA = "lakelens_information_schema"  # where information_schema's tables are built from the catalog


class LocalEngine(LocalCatalog):
    """DuckDB over the lake's catalog tables; SHOW, DESCRIBE and information_schema come from the catalog."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._con: duckdb.DuckDBPyConnection | None = None
        self._views: dict[str, tuple[Any, ...]] = {}  # table -> what its view was made from
        self._running: dict[str, duckdb.DuckDBPyConnection] = {}
        self._cancelled: OrderedDict[str, None] = OrderedDict()  # cancels that may arrive before the query runs

    def _connection(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._con is None:
                con = duckdb.connect(
                    ":memory:",
                    config={"autoinstall_known_extensions": False, "autoload_known_extensions": False},
                )
                root = str(self.root.resolve())
                con.execute("SET allowed_directories = $dirs", {"dirs": [root + os.sep]})
                con.execute("SET enable_external_access = false")
                con.execute("SET lock_configuration = true")
                self._con = con
            return self._con

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None
                self._views.clear()

    # -- views over the tables' files -----------------------------------------------------------------------
    def source_sql(self, table: TableDef) -> str:
        """The SELECT (DuckDB's dialect) that reads a table's files as this engine's views do: the catalog's
        columns and types, the table's SerDe, Hive partitions. For LakeLens's own statements (a curate), never for
        the analyst's SQL, which goes through the guard."""
        return view_sql(table, self.table_files(table))

    def table_files(self, table: TableDef) -> list[Path]:
        """The data files of a table: every non-hidden file under its location."""
        return [path for path, _ in self._table_files(table)]

    def _table_files(self, table: TableDef) -> list[tuple[Path, int]]:
        """(file, size) under the table's location; listed once per second at most, since a page's queries
        arrive together and the walk costs more than the query's bind on a table with many files."""
        key = self.location_key(table.location)
        if key is None:
            raise CatalogError(f"Table {table.qualified_name} has location {table.location!r}, outside the lake.")
        base = self.path_for(key, folder=True)
        now = time.monotonic()
        with self._lock:
            cached = self._listings.get(str(base))
        if cached is not None and now - cached[0] < _LISTING_TTL_S:
            return cached[1]
        files: list[tuple[Path, int]] = []
        if base.is_dir():
            walk_table_files(self.root, table, base, files)
        with self._lock:
            self._listings[str(base)] = (now, files)
        return files

    def _prepare_tables(
        self, con: duckdb.DuckDBPyConnection, statement: sqlmod.Statement
    ) -> tuple[dict[sqlmod.TableRef, str], list[TableDef], int]:
        """A DuckDB view per catalog table the statement reads (information_schema from the catalog itself);
        returns the view names, the tables and the bytes in their files."""
        views: dict[sqlmod.TableRef, str] = {}
        tables: list[TableDef] = []
        scanned = 0
        for ref in statement.tables:
            if ref.database == sqlmod.INFORMATION_SCHEMA:
                views[ref] = self._information_schema(con, ref.table)
                continue
            table = self.get_table(ref.database, ref.table)
            tables.append(table)
            scanned += self._ensure_view(con, table)
            views[ref] = f"{table.database}.{table.name}"
        return views, tables, scanned

    def _information_schema(self, con: duckdb.DuckDBPyConnection, name: str) -> str:
        """``information_schema.<name>`` built from the catalog as a DuckDB table; returns its name."""
        arrow = information_schema_table(self, name)
        quote = sqlmod.quote_identifier
        with self._lock:
            scratch = f"lakelens_info_{uuid.uuid4().hex}"
            con.register(scratch, arrow)
            try:
                con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(_INFO_SCHEMA)}")
                con.execute(
                    f"CREATE OR REPLACE TABLE {quote(_INFO_SCHEMA)}.{quote(name)} AS SELECT * FROM {quote(scratch)}"
                )
            finally:
                con.unregister(scratch)
        return f"{_INFO_SCHEMA}.{name}"

    def _ensure_view(self, con: duckdb.DuckDBPyConnection, table: TableDef) -> int:
        """Create or refresh the DuckDB view for a catalog table; returns the bytes in its files."""
        listed = self._table_files(table)
        files = [path for path, _ in listed]
        signature = (json.dumps(table.to_glue_input(), sort_keys=True), tuple(str(f) for f in files))
        schema = sqlmod.quote_identifier(table.database)
        size = sum(size for _, size in listed)
        with self._lock:
            if self._views.get(table.qualified_name) == signature:
                return size
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            con.execute(
                f"CREATE OR REPLACE VIEW {schema}.{sqlmod.quote_identifier(table.name)} AS {view_sql(table, files)}"
            )
            self._views[table.qualified_name] = signature
        return size

    # -- queries --------------------------------------------------------------------------------------------
    def run_query(
        self,
        sql: str,
        *,
        max_rows: int | None = None,
        database: str | None = None,
        query_id: str | None = None,
        timeout_s: int | None = None,
        params: Mapping[str, ParamValue] | None = None,
    ) -> QueryResult:
        limit = max_rows or self.settings.max_rows
        default_db = database or self.settings.database
        statement = sqlmod.check(sql, allow_writes=self.settings.allow_writes, default_database=default_db)
        query_id = query_id or str(uuid.uuid4())
        started = time.perf_counter()
        if statement.kind == "write":
            raise SqlError("The local engine runs queries only; ingest files on the Lake page to add tables.")
        if statement.kind in ("show", "describe"):
            paramsmod.bind(sql, params)
            frame = show_frame(self, statement, default_db)
            return self._result(frame, frame, query_id, started, 0, limit, sql)
        con = self._connection()
        views, tables, scanned = self._prepare_tables(con, statement)
        bound = paramsmod.bind(sql, params, tables)
        if paramsmod.unnamed_markers(statement.tree):
            raise ParameterError(paramsmod.UNNAMED_MESSAGE)
        duck_sql = sqlmod.to_duckdb(statement, views, view_column_map(tables), column_types(tables))
        if statement.kind == "explain":
            duck_sql = "EXPLAIN " + duck_sql
        cursor = con.cursor()
        with self._lock:
            self._running[query_id] = cursor
            cancelled_early = query_id in self._cancelled
        if cancelled_early:
            self._finish(query_id, cursor)
            raise QueryCancelled("The query was cancelled.")
        timer = threading.Timer(timeout_s or self.settings.query_timeout_s, cursor.interrupt)
        timer.start()
        try:
            reader = _athena_types(cursor.sql(duck_sql, params=bound.values or None)).to_arrow_reader(
                max(limit + 1, 2048)
            )
            kept: list[pa.RecordBatch] = []
            kept_rows = 0
            total = 0
            for batch in reader:
                total += batch.num_rows
                if kept_rows <= limit:
                    kept.append(batch.slice(0, limit + 1 - kept_rows))
                    kept_rows += min(batch.num_rows, limit + 1 - kept_rows)
            schema = reader.schema
        except duckdb.InterruptException:
            if not timer.is_alive():
                raise QueryTimeout(
                    f"The query ran longer than {timeout_s or self.settings.query_timeout_s} s and was stopped; "
                    "raise LAKELENS_QUERY_TIMEOUT_S or narrow the query."
                ) from None
            raise QueryCancelled("The query was cancelled.") from None
        except duckdb.Error as exc:
            if "No files found" in str(exc):  # another process replaced the table's files within the listing's second
                self.forget_listings()
                raise QueryFailed("The table's files changed as the query started; run it again.") from None
            raise _engine_error(exc) from None
        finally:
            timer.cancel()
            cancelled_late = self._finish(query_id, cursor)
        if cancelled_late:  # DuckDB may not see an interrupt sent just before it started executing
            raise QueryCancelled("The query was cancelled.")
        table = pa.Table.from_batches(kept, schema=schema) if kept else schema.empty_table()
        table = table.rename_columns(unique_columns(table.column_names))
        frame = table.slice(0, limit).to_pandas()
        return QueryResult(
            frame=frame,
            stats=QueryStats(
                engine=f"DuckDB {duckdb.__version__}",
                query_id=query_id,
                runtime_s=time.perf_counter() - started,
                bytes_scanned=scanned,
                bytes_estimated=True,
                rows=len(frame),
                total_rows=total,
                truncated=total > limit,
                sql_executed=duck_sql,
            ),
        )

    def explain(
        self, sql: str, *, params: Mapping[str, ParamValue] | None = None, database: str | None = None
    ) -> planmod.Plan:
        default_db = database or self.settings.database
        statement = sqlmod.check(sql, allow_writes=False, default_database=default_db)
        if statement.kind == "explain":
            statement = sqlmod.check(statement.command, allow_writes=False, default_database=default_db)
        if statement.kind != "query":
            raise SqlError("Plan works on queries (SELECT, WITH, VALUES); SHOW and DESCRIBE read only the catalog.")
        con = self._connection()
        views, tables, _ = self._prepare_tables(con, statement)
        bound = paramsmod.bind(sql, params, tables)
        duck_sql = sqlmod.to_duckdb(statement, views, view_column_map(tables), column_types(tables))
        cursor = con.cursor()
        try:
            rows = cursor.execute("EXPLAIN (FORMAT JSON) " + duck_sql, bound.values or None).fetchall()
        except duckdb.Error as exc:
            raise _engine_error(exc) from None
        finally:
            cursor.close()
        text = str(rows[0][1]) if rows and len(rows[0]) > 1 else "[]"
        return planmod.from_duckdb(text, [t.qualified_name for t in tables], f"DuckDB {duckdb.__version__}")

    def _result(
        self, frame: pd.DataFrame, full: pd.DataFrame, query_id: str, started: float, scanned: int, limit: int, sql: str
    ) -> QueryResult:
        return QueryResult(
            frame=frame.head(limit),
            stats=QueryStats(
                engine="LakeLens catalog",
                query_id=query_id,
                runtime_s=time.perf_counter() - started,
                bytes_scanned=scanned,
                rows=min(len(full), limit),
                total_rows=len(full),
                truncated=len(full) > limit,
                sql_executed=sql,
            ),
        )

    def _finish(self, query_id: str, cursor: duckdb.DuckDBPyConnection) -> bool:
        """Forget a finished query; True if a cancel was asked for it."""
        with self._lock:
            self._running.pop(query_id, None)
            cancelled = self._cancelled.pop(query_id, 0) is None
        cursor.close()
        return cancelled

    def cancel_query(self, query_id: str) -> None:
        """Interrupt a running query; a cancel that arrives before the query starts is remembered."""
        with self._lock:
            cursor = self._running.get(query_id)
            self._cancelled[query_id] = None
            while len(self._cancelled) > 1000:
                self._cancelled.popitem(last=False)
        if cursor is not None:
            cursor.interrupt()

    def export(
        self,
        sql: str,
        path: Path,
        fmt: Literal["csv", "parquet", "json"],
        database: str | None = None,
        params: Mapping[str, ParamValue] | None = None,
    ) -> int:
        """Stream a whole query result to ``path`` (csv, parquet or JSON lines) without holding it in memory."""
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        default_db = database or self.settings.database
        statement = sqlmod.check(sql, allow_writes=False, default_database=default_db)
        if statement.kind in ("show", "describe"):
            frame = show_frame(self, statement, default_db)
            reader: Any = pa.Table.from_pandas(frame, preserve_index=False).to_reader()
        else:
            con = self._connection()
            views, tables, _ = self._prepare_tables(con, statement)
            bound = paramsmod.bind(sql, params, tables)
            cursor = con.cursor()
            try:
                duck_sql = sqlmod.to_duckdb(statement, views, view_column_map(tables), column_types(tables))
                reader = _athena_types(cursor.sql(duck_sql, params=bound.values or None)).to_arrow_reader(100_000)
            except duckdb.Error as exc:
                raise _engine_error(exc) from None
        names = unique_columns(reader.schema.names)
        if names != reader.schema.names:
            renamed = pa.schema([field.with_name(name) for field, name in zip(reader.schema, names, strict=True)])
            reader = pa.RecordBatchReader.from_batches(
                renamed, (pa.RecordBatch.from_arrays(b.columns, schema=renamed) for b in reader)
            )
        rows = 0
        tmp = path.with_name(path.name + TMP_MARK)
        try:
            if fmt == "parquet":
                with pq.ParquetWriter(tmp, reader.schema) as writer:
                    for batch in reader:
                        writer.write_batch(batch)
                        rows += batch.num_rows
            elif fmt == "json":
                with tmp.open("w", encoding="utf-8") as handle:
                    for batch in reader:
                        batch.to_pandas().to_json(handle, orient="records", lines=True, date_format="iso")
                        rows += batch.num_rows
            else:
                with pacsv.CSVWriter(tmp, reader.schema) as csv_writer:
                    for batch in reader:
                        csv_writer.write_batch(batch)
                        rows += batch.num_rows
            os.replace(tmp, path)
        except duckdb.Error as exc:
            raise _engine_error(exc) from None
        except OSError as exc:
            raise LakeLensError(f"Cannot write {path}: {exc.strerror}.") from None
        finally:
            tmp.unlink(missing_ok=True)
        return rows


def _athena_types(relation: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
    """DuckDB's SUM of integers is a HUGEINT (a Decimal in pandas); Athena's is a bigint: cast those columns."""
    types = [str(t).upper() for t in relation.types]
    if "HUGEINT" not in types and "UHUGEINT" not in types:
        return relation
    parts = [
        f"CAST({sqlmod.quote_identifier(name)} AS BIGINT) AS {sqlmod.quote_identifier(name)}"
        if kind in ("HUGEINT", "UHUGEINT")
        else sqlmod.quote_identifier(name)
        for name, kind in zip(relation.columns, types, strict=True)
    ]
    return relation.project(", ".join(parts))


def _engine_error(exc: Exception) -> Exception:
    """DuckDB's message, first line, with names tidied; column and table errors say which."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    first = re.sub(
        r"^(Binder|Catalog|Parser|Conversion|Invalid Input|Permission|IO|Out of Memory|Not implemented) Error: ",
        "",
        first,
    )
    if isinstance(exc, duckdb.PermissionException):
        return QueryFailed("The query tried to read outside the lake and was refused.")
    match = re.search(r"(Scalar|Aggregate|Table) Function with name (\w+) does not exist", first)
    if match:
        return SqlError(
            f"Function {match.group(2)}() has no translation for the local engine (DuckDB); rewrite it or run on Athena."
        )
    if isinstance(exc, duckdb.ParserException):
        return SqlError(f"The local engine could not parse the translated SQL: {first}")
    if isinstance(exc, (duckdb.BinderException, duckdb.CatalogException)):
        return SqlError(first)
    return QueryFailed(f"The query failed: {first}")
