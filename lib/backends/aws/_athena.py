"""SQL on Amazon Athena: start (through awswrangler, which honours the workgroup's enforced output and encryption),
poll, cancel, read results, explain and export.

Athena runs the analyst's SQL as written, after the same guard the local engine uses. Results are read a page at a
time only until one row more than the limit is held, so a result of millions of rows costs two requests, and the
page can say the result was cut rather than guess. moto ignores ``MaxResults`` for GetQueryResults; the page size
is therefore also enforced here rather than trusted to the service.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import awswrangler as wr
import pandas as pd

from lib import sql as sqlmod
from lib.backends.aws._errors import athena_failure, sentence, sql_error_at
from lib.backends.aws._glue import AwsCatalog
from lib.backends.aws._results import is_header, result_frame, stream_result, utility_rows, write_frame
from lib.backends.base import QueryResult, QueryStats
from lib.errors import LakeLensError, NotFound, ParameterError, QueryCancelled, QueryFailed, QueryTimeout, SqlError
from lib.settings import Settings
from lib.sql import params as paramsmod
from lib.sql import plan as planmod
from lib.sql.params import ParamValue

ATHENA_MAX_RESULTS = 1000  # GetQueryResults returns at most 1,000 rows per page
POLL_FIRST_S = 0.25
POLL_MAX_S = 1.0
KNOWN_QUERIES = 1000  # LakeLens query ids remembered for cancel_query/result_location


# Test seams: the query poll loop reads the clock and sleeps through these, looked up at each call, so a timeout can
# be tested without waiting for it (tests replace ``lib.backends.aws._athena._clock`` and ``_sleep``).
_clock = time.monotonic
_sleep = time.sleep


def _now() -> float:
    return _clock()


def _pause(seconds: float) -> None:
    _sleep(seconds)


class AwsQueries(AwsCatalog):
    """Athena queries and LakeLens's own statements, with the ids LakeLens gave them."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._executions: OrderedDict[str, str] = OrderedDict()  # LakeLens query id -> Athena execution id
        self._running: set[str] = set()
        self._cancel_requested: set[str] = set()

    def scan_cost_usd(self, scanned_bytes: int) -> float | None:
        from lib.sql.estimate import athena_cost_usd

        return athena_cost_usd(scanned_bytes)

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
        if statement.kind == "write":
            self._writing("sql", sql)
        timeout = timeout_s or self.settings.query_timeout_s
        bound = self._bind(sql, statement, params)
        key = query_id
        if key:
            with self._lock:
                self._running.add(key)
        try:
            execution_id = self._start(bound.athena_sql, default_db, key, bound.athena_parameters)
            key = key or execution_id
            execution = self._wait(execution_id, key, timeout)
            frame, total, truncated = self._results(execution_id, execution.get("StatementType"), statement, limit)
        finally:
            if key:
                with self._lock:
                    self._running.discard(key)
                    self._cancel_requested.discard(key)
        statistics = execution.get("Statistics", {})
        scanned = statistics.get("DataScannedInBytes")
        return QueryResult(
            frame=frame,
            stats=QueryStats(
                engine="Athena",
                query_id=key,
                runtime_s=statistics.get("EngineExecutionTimeInMillis", 0) / 1000,
                queue_s=statistics.get("QueryQueueTimeInMillis", 0) / 1000,
                bytes_scanned=int(scanned) if scanned is not None else None,
                rows=len(frame),
                total_rows=total,
                truncated=truncated,
                sql_executed=sql,
            ),
        )

    def _run_statement(
        self,
        sql: str,
        *,
        database: str | None = None,
        on_poll: Callable[[str, int, str], None] | None = None,
        cancel: threading.Event | None = None,
        timeout_s: int | None = None,
    ) -> QueryStats:
        """Run one of LakeLens's own statements (a curate's CTAS or INSERT INTO), never the analyst's SQL, which
        goes through the guard in :meth:`run_query`. ``on_poll`` hears (state, bytes scanned so far, query id) at
        every poll; ``cancel`` stops the query (StopQueryExecution) and raises :class:`IngestCancelled`."""
        from lib.errors import IngestCancelled

        default_db = database or self.settings.database
        execution_id = self._start(sql, default_db, None)
        athena = self._client("athena")
        deadline = _now() + (timeout_s or self.settings.query_timeout_s)
        delay = POLL_FIRST_S
        while True:
            with self._aws_errors("check on the Athena statement"):
                execution: dict[str, Any] = athena.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
            status = execution.get("Status", {})
            state = str(status.get("State") or "QUEUED")
            statistics = execution.get("Statistics", {})
            if on_poll:
                on_poll(state, int(statistics.get("DataScannedInBytes") or 0), execution_id)
            if state == "SUCCEEDED":
                scanned = statistics.get("DataScannedInBytes")
                return QueryStats(
                    engine="Athena",
                    query_id=execution_id,
                    runtime_s=statistics.get("EngineExecutionTimeInMillis", 0) / 1000,
                    queue_s=statistics.get("QueryQueueTimeInMillis", 0) / 1000,
                    bytes_scanned=int(scanned) if scanned is not None else None,
                    rows=0,
                    total_rows=None,
                    truncated=False,
                    sql_executed=sql,
                )
            if state == "FAILED":
                reason = status.get("StateChangeReason") or status.get("AthenaError", {}).get("ErrorMessage") or ""
                raise QueryFailed(f"Athena could not run it: {sentence(self._scrub(reason) or 'no reason given')}")
            if state == "CANCELLED" or (cancel is not None and cancel.is_set()):
                if state != "CANCELLED":
                    self._stop(execution_id, execution_id)
                raise IngestCancelled(f"The Athena statement {execution_id} was cancelled.")
            if _now() > deadline:
                self._stop(execution_id, execution_id)
                raise QueryTimeout(
                    f"The Athena statement ran past {timeout_s or self.settings.query_timeout_s} s and was stopped; "
                    "raise LAKELENS_QUERY_TIMEOUT_S for longer curates."
                )
            _pause(delay)
            delay = min(delay * 2, POLL_MAX_S)

    def _bind(self, sql: str, statement: sqlmod.Statement, params: Mapping[str, ParamValue] | None) -> paramsmod.Bound:
        """The parameters typed from the catalog columns they are compared with; ``?`` markers for Athena."""
        tables = []
        if paramsmod.occurrences(sql):
            for ref in statement.tables:
                found = self._find_table(ref.database, ref.table)
                if found is not None:
                    tables.append(found)
        if paramsmod.unnamed_markers(statement.tree):
            raise ParameterError(paramsmod.UNNAMED_MESSAGE)
        return paramsmod.bind(sql, params, tables)

    def _start(self, sql: str, database: str, key: str | None, parameters: list[str] | None = None) -> str:
        """Start the query through awswrangler, which honours the workgroup's enforced output and encryption."""
        with self._aws_errors("start the Athena query"), self._wrangler():
            started = wr.athena.start_query_execution(
                sql=sql,
                database=database,
                workgroup=self.settings.athena_workgroup,
                s3_output=self.settings.athena_output_uri,
                boto3_session=self._session(),
                # qmark: the values go to Athena as ExecutionParameters, never into the text
                params=parameters or None,
                paramstyle="qmark",
            )
        execution_id = str(started if isinstance(started, str) else started["QueryExecutionId"])
        with self._lock:
            self._executions[key or execution_id] = execution_id
            while len(self._executions) > KNOWN_QUERIES:
                self._executions.popitem(last=False)
            cancel_now = key is not None and key in self._cancel_requested
        if cancel_now:
            self._stop(execution_id, key or execution_id)
            raise QueryCancelled("The query was cancelled.")
        return execution_id

    def _wait(self, execution_id: str, key: str, timeout: int) -> dict[str, Any]:
        athena = self._client("athena")
        deadline = _now() + timeout
        delay = POLL_FIRST_S
        while True:
            with self._aws_errors("check on the Athena query"):
                execution: dict[str, Any] = athena.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
            status = execution.get("Status", {})
            state = status.get("State")
            if state == "SUCCEEDED":
                return execution
            if state == "FAILED":
                reason = status.get("StateChangeReason") or status.get("AthenaError", {}).get("ErrorMessage") or ""
                reason = self._scrub(reason)
                raise (
                    athena_failure(reason)
                    or sql_error_at(reason)
                    or QueryFailed(f"The query failed: {sentence(reason or 'Athena gave no reason')}")
                )
            if state == "CANCELLED":
                raise QueryCancelled("The query was cancelled.")
            remaining = deadline - _now()
            if remaining <= 0:
                note = ""
                try:
                    self._stop(execution_id, key)
                except LakeLensError as exc:
                    note = f" LakeLens could not stop it in Athena, which may still be running it: {exc}"
                raise QueryTimeout(
                    f"The query ran longer than {timeout} s and was stopped; raise LAKELENS_QUERY_TIMEOUT_S or "
                    f"narrow the query.{note}"
                )
            _pause(min(delay, remaining))
            delay = min(delay * 1.5, POLL_MAX_S)

    def _results(
        self, execution_id: str, statement_type: str | None, statement: sqlmod.Statement, limit: int
    ) -> tuple[pd.DataFrame, int | None, bool]:
        """Read pages until ``limit + 1`` data rows are held or the result ends; never more."""
        athena = self._client("athena")
        rows: list[list[str | None]] = []
        columns: list[dict[str, Any]] = []
        update_count: int | None = None
        token: str | None = None
        first = True
        while True:
            header_pending = first and statement_type != "DDL" and statement_type != "UTILITY"
            wanted = limit + 1 - len(rows) + (1 if header_pending else 0)
            params: dict[str, Any] = {
                "QueryExecutionId": execution_id,
                "MaxResults": max(1, min(ATHENA_MAX_RESULTS, wanted)),
            }
            if token:
                params["NextToken"] = token
            with self._aws_errors("read the Athena results"):
                page = athena.get_query_results(**params)
            result_set = page.get("ResultSet", {})
            page_rows = [
                [cell.get("VarCharValue") for cell in row.get("Data", [])] for row in result_set.get("Rows", [])
            ]
            if first:
                columns = result_set.get("ResultSetMetadata", {}).get("ColumnInfo", [])
                update_count = page.get("UpdateCount")
                if page_rows and is_header(page_rows[0], columns, statement_type):
                    page_rows = page_rows[1:]
                first = False
            rows.extend(page_rows)
            token = page.get("NextToken")
            if not token or len(rows) > limit:
                break
        if statement.kind == "describe" or statement_type in ("DDL", "UTILITY"):
            rows = utility_rows(rows, len(columns), describe=statement.kind == "describe")
        total = None if token else len(rows)
        truncated = len(rows) > limit
        if not rows and statement.kind == "write" and update_count is not None:
            return pd.DataFrame({"rows": pd.array([update_count], dtype="Int64")}), 1, False
        return result_frame(rows[:limit], columns), total, truncated

    def _stop(self, execution_id: str, shown: str) -> None:
        with self._aws_errors(f"stop the query {shown}", missing=NotFound(f"Query {shown} is not running.")):
            self._client("athena").stop_query_execution(QueryExecutionId=execution_id)

    def cancel_query(self, query_id: str) -> None:
        """Stop a query by the id LakeLens gave it or by its Athena execution id.

        A cancel that arrives before Athena has given the query an id is remembered and applied as soon as it does.
        """
        with self._lock:
            execution_id = self._executions.get(query_id)
            if execution_id is None and query_id in self._running:
                self._cancel_requested.add(query_id)
                return
        self._stop(execution_id or query_id, query_id)

    def export(
        self,
        sql: str,
        path: Path,
        fmt: Literal["csv", "parquet", "json"],
        database: str | None = None,
        params: Mapping[str, ParamValue] | None = None,
    ) -> int:
        """Run the query and stream Athena's own result object (CSV in S3) to ``path``, converting on the way.

        The result never passes through a DataFrame: CSV is copied chunk by chunk, Parquet and JSON lines are
        written batch by batch from a streaming CSV reader typed by Athena's column metadata.
        """
        default_db = database or self.settings.database
        statement = sqlmod.check(sql, allow_writes=False, default_database=default_db)
        if statement.kind not in ("query", "explain"):
            frame = self.run_query(sql, max_rows=100_000, database=default_db, params=params).frame
            return write_frame(frame, path, fmt)
        bound = self._bind(sql, statement, params)
        execution_id = self._start(bound.athena_sql, default_db, None, bound.athena_parameters)
        execution = self._wait(execution_id, execution_id, self.settings.query_timeout_s)
        location = execution.get("ResultConfiguration", {}).get("OutputLocation")
        if not location:
            raise NotFound("Athena kept no result file for this query, so it cannot be downloaded whole.")
        parts = urlsplit(str(location))
        with self._aws_errors("read the Athena result metadata"):
            columns = (
                self._client("athena")
                .get_query_results(QueryExecutionId=execution_id, MaxResults=1)
                .get("ResultSet", {})
                .get("ResultSetMetadata", {})
                .get("ColumnInfo", [])
            )
        tmp = path.with_name(path.name + ".lakelens-tmp")
        try:
            with self._aws_errors(f"download the result {location}"):
                body = self._client("s3").get_object(Bucket=parts.netloc, Key=parts.path.lstrip("/"))["Body"]
                rows = stream_result(body, columns, tmp, fmt)
            tmp.replace(path)
        except OSError as exc:
            raise LakeLensError(f"Cannot write {path}: {exc.strerror}.") from None
        finally:
            tmp.unlink(missing_ok=True)
        return rows

    def explain(
        self, sql: str, *, params: Mapping[str, ParamValue] | None = None, database: str | None = None
    ) -> planmod.Plan:
        """Athena's ``EXPLAIN (FORMAT JSON)`` of the query (Athena reads no data for it and bills nothing)."""
        default_db = database or self.settings.database
        statement = sqlmod.check(sql, allow_writes=False, default_database=default_db)
        if statement.kind != "query":
            raise SqlError("Plan works on queries (SELECT, WITH, VALUES); SHOW and DESCRIBE read only the catalog.")
        body = sql.strip().rstrip(";").rstrip()
        result = self.run_query("EXPLAIN (FORMAT JSON)\n" + body, database=default_db, params=params, max_rows=10_000)
        text = "\n".join(str(v) for v in result.frame.iloc[:, 0].tolist()) if len(result.frame.columns) else ""
        return planmod.from_trino(text, [ref.qualified for ref in statement.tables])

    def athena_execution_id(self, query_id: str) -> str:
        """Athena's execution id for a LakeLens query id (or the id itself if it is Athena's already)."""
        with self._lock:
            return self._executions.get(query_id, query_id)

    def result_location(self, query_id: str) -> str:
        """The S3 URI of the query's whole result, which Athena keeps for downloads past ``max_rows``."""
        execution_id = self.athena_execution_id(query_id)
        with self._aws_errors(
            f"look up the query {query_id}", missing=NotFound(f"Athena does not know the query {query_id}.")
        ):
            execution = self._client("athena").get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
        location = execution.get("ResultConfiguration", {}).get("OutputLocation")
        if not location:
            raise NotFound(f"Athena kept no result file for the query {query_id}.")
        return str(location)
