"""An AWS stand-in for tests and for trying the aws backend without an account: moto plus an Athena that runs SQL.

moto emulates S3, Glue and (partly) SageMaker well, but its Athena executes nothing: every query succeeds with an
empty or seeded result. This module puts a small WSGI app in front of moto's own dispatcher. Requests whose
``X-Amz-Target`` is one of the Athena query calls below are answered here; everything else (S3, Glue, SageMaker,
STS, Athena workgroups, ``/moto-api/...``) goes to moto unchanged.

``StartQueryExecution`` really runs the query, on a thread of its own so that LakeLens sees the states Athena
goes through (QUEUED, RUNNING, then SUCCEEDED, FAILED or CANCELLED):

1. the SQL is parsed as Athena SQL with sqlglot, and every table it names is looked up in moto's Glue (over
   HTTP, through boto3, exactly as a client would);
2. the table's objects are read from moto's S3: Parquet, delimited text with the table's SerDe options
   (LazySimpleSerDe's ``field.delim``, ``skip.header.line.count`` and ``\\N`` for NULL; OpenCSVSerde's
   separator, quote and escape characters), and JSON lines; a partitioned table reads the partitions Glue holds,
   each with its partition values as columns;
3. the SQL is transpiled with sqlglot (``read="athena", write="duckdb"``) and run on DuckDB;
4. the result comes back the way Athena gives it: typed ``ResultSetMetadata``, every value a string (NULL has no
   ``VarCharValue``), ``GetQueryResults`` pages of at most 1,000 rows with a header row first for a SELECT, the
   CSV (and a ``.metadata`` file) in the output location, ``DataScannedInBytes``, Athena's error messages for a
   missing table, schema or column.

The SQL is deliberately *not* translated with LakeLens's ``lib/sql.py``: the stand-in is an independent
implementation, so a parity test comparing the local backend (LakeLens's translation) with the aws backend (this
one) can catch a translation bug in LakeLens. The price is that a bug shared by sqlglot's two translations goes
unnoticed by both; README's "AWS stand-in" section lists what is and is not reproduced.

In pytest, use the ``aws_standin`` fixture (``pytest_plugins = ("tests.aws_standin",)``). From a terminal::

    python -m tests.aws_standin --port 5055

serves on 127.0.0.1:5055 until stopped (Ctrl-C); point ``LAKELENS_ENDPOINT_URL`` at it.

PYTEST_DONT_REWRITE: used as a plugin and as a script; it holds no test asserts.
"""

from __future__ import annotations

import argparse
import bz2
import contextlib
import csv
import gzip
import io
import json
import logging
import math
import re
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import duckdb
import sqlglot
from botocore.config import Config
from botocore.exceptions import ClientError
from sqlglot import exp

ACCOUNT_ID = "123456789012"  # moto's default account
DEFAULT_REGION = "us-east-1"
MAX_RESULTS = 1000  # GetQueryResults returns at most 1,000 rows per page
BODY_CACHE_BYTES = 256 * 2**20  # objects read by queries are kept up to this much, then the cache starts over
_HANDLED = {
    "StartQueryExecution",
    "GetQueryExecution",
    "BatchGetQueryExecution",
    "GetQueryResults",
    "StopQueryExecution",
    "GetWorkGroup",
}
HIVE_NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"  # the partition value Hive (and Athena) read as NULL
_LAZY_SERDE = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
_OPEN_CSV_SERDE = "org.apache.hadoop.hive.serde2.OpenCSVSerde"
_CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 2}, connect_timeout=5, read_timeout=60)

logging.getLogger("sqlglot").setLevel(logging.ERROR)  # SHOW/EXPLAIN fall back to "Command" with a warning
logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise


class AthenaFailure(Exception):
    """A query failure as Athena reports it: an error type name and a message that may name a line and column."""

    def __init__(self, code: str, message: str, *, category: int = 2, error_type: int = 1006) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.category = category  # 1 system, 2 user, 3 other
        self.error_type = error_type


class Cancelled(Exception):
    pass


# -- one query ------------------------------------------------------------------------------------------------
@dataclass
class Execution:
    id: str
    sql: str
    database: str | None
    catalog: str
    workgroup: str
    output: str  # the result file's S3 URI
    region: str
    state: str = "QUEUED"
    reason: str = ""
    failure: AthenaFailure | None = None
    statement_type: str = "DML"
    submitted: float = field(default_factory=time.time)
    started: float | None = None
    completed: float | None = None
    scanned: int = 0
    columns: list[dict[str, Any]] = field(default_factory=list)
    rows: list[list[str | None]] = field(default_factory=list)  # as GetQueryResults returns them, header included
    cancel: threading.Event = field(default_factory=threading.Event)
    connection: duckdb.DuckDBPyConnection | None = None

    def describe(self) -> dict[str, Any]:
        status: dict[str, Any] = {"State": self.state, "SubmissionDateTime": self.submitted}
        if self.completed is not None:
            status["CompletionDateTime"] = self.completed
        if self.reason:
            status["StateChangeReason"] = self.reason
        if self.failure is not None:
            status["AthenaError"] = {
                "ErrorCategory": self.failure.category,
                "ErrorType": self.failure.error_type,
                "Retryable": False,
                "ErrorMessage": self.reason,
            }
        queue_ms = int(((self.started or time.time()) - self.submitted) * 1000)
        engine_ms = int(((self.completed or time.time()) - (self.started or time.time())) * 1000)
        return {
            "QueryExecutionId": self.id,
            "Query": self.sql,
            "StatementType": self.statement_type,
            "ResultConfiguration": {"OutputLocation": self.output},
            "ResultReuseConfiguration": {"ResultReuseByAgeConfiguration": {"Enabled": False}},
            "QueryExecutionContext": {
                **({"Database": self.database} if self.database else {}),
                "Catalog": self.catalog,
            },
            "Status": status,
            "Statistics": {
                "EngineExecutionTimeInMillis": engine_ms,
                "DataScannedInBytes": self.scanned,
                "TotalExecutionTimeInMillis": queue_ms + engine_ms,
                "QueryQueueTimeInMillis": queue_ms,
                "ServicePreProcessingTimeInMillis": 0,
                "QueryPlanningTimeInMillis": 0,
                "ServiceProcessingTimeInMillis": 0,
                "ResultReuseInformation": {"ReusedPreviousResult": False},
            },
            "WorkGroup": self.workgroup,
            "EngineVersion": {"SelectedEngineVersion": "AUTO", "EffectiveEngineVersion": "Athena engine version 3"},
        }


# -- the stand-in -------------------------------------------------------------------------------------------
class StandIn:
    """moto with an Athena that executes SQL, served on 127.0.0.1.

    ``queue_s`` and ``run_s`` hold each query in QUEUED and in RUNNING for that long (a test sets ``run_s`` to
    have time to cancel a query). Both are zero by default; the query still runs on a thread of its own, so a
    client polls it (usually seeing RUNNING first) exactly as it polls Athena.
    """

    def __init__(self, port: int = 0, host: str = "127.0.0.1") -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        self.host = host
        self.port = port or _free_port()
        self.url = f"http://{host}:{self.port}"
        self.queue_s = 0.0
        self.run_s = 0.0
        self._moto = DomainDispatcherApplication(create_backend_app)
        self._executions: dict[str, Execution] = {}
        self._lock = threading.Lock()
        self._server: Any = None
        self._clients: dict[tuple[str, str], Any] = {}
        self._bodies: dict[tuple[str, str, str], bytes] = {}  # (bucket, key, ETag) -> object bytes, as a cache
        self._thread: threading.Thread | None = None

    # -- serving ----------------------------------------------------------------------------------------------
    def start(self) -> StandIn:
        from moto.moto_server.werkzeug_app import MotoRequestHandler
        from werkzeug.serving import make_server

        self._server = make_server(self.host, self.port, self, threaded=True, request_handler=MotoRequestHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="aws-standin", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def reset(self) -> None:
        """Forget every query and empty moto (S3 buckets, Glue catalog, everything)."""
        with self._lock:
            self._executions.clear()
            self._bodies.clear()
        import urllib.request

        request = urllib.request.Request(f"{self.url}/moto-api/reset", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    # -- WSGI -----------------------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        service, _, operation = target.partition(".")
        if environ.get("PATH_INFO") == "/moto-api/reset":
            with self._lock:
                self._executions.clear()
                self._bodies.clear()
        if service != "AmazonAthena" or operation not in _HANDLED:
            return self._moto(environ, start_response)  # type: ignore[no-any-return]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.loads(environ["wsgi.input"].read(length) or b"{}")
        region = _region(str(environ.get("HTTP_AUTHORIZATION", "")))
        try:
            answer = getattr(self, f"_{operation}")(body, region)
            status, payload = "200 OK", answer
        except AthenaRequestError as exc:
            status, payload = "400 Bad Request", {"__type": exc.code, "message": exc.message}
        data = json.dumps(payload, default=str).encode()
        start_response(
            status,
            [
                ("Content-Type", "application/x-amz-json-1.1"),
                ("Content-Length", str(len(data))),
                ("x-amzn-RequestId", str(uuid.uuid4())),
            ],
        )
        return [data]

    # -- Athena calls ---------------------------------------------------------------------------------------
    def _StartQueryExecution(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        sql = body.get("QueryString")
        if not isinstance(sql, str) or not sql.strip():
            raise AthenaRequestError("InvalidRequestException", "QueryString must not be empty.")
        workgroup = body.get("WorkGroup") or "primary"
        group = self._work_group(workgroup, region)
        group_config = group.get("Configuration", {})
        output = (body.get("ResultConfiguration") or {}).get("OutputLocation")
        if group_config.get("EnforceWorkGroupConfiguration") or not output:
            output = group_config.get("ResultConfiguration", {}).get("OutputLocation") or output
        if not output:
            raise AthenaRequestError(
                "InvalidRequestException",
                "No output location provided. An output location is required either through the Workgroup result "
                "configuration setting or as an API input.",
            )
        context = body.get("QueryExecutionContext") or {}
        query_id = str(uuid.uuid4())
        execution = Execution(
            id=query_id,
            sql=sql,
            database=context.get("Database"),
            catalog=context.get("Catalog") or "AwsDataCatalog",
            workgroup=workgroup,
            output=f"{output.rstrip('/')}/{query_id}.csv",
            region=region,
        )
        with self._lock:
            self._executions[query_id] = execution
        threading.Thread(target=self._run, args=(execution,), name=f"athena-{query_id[:8]}", daemon=True).start()
        return {"QueryExecutionId": query_id}

    def _GetWorkGroup(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        """moto answers an unknown workgroup with an empty WorkGroup; Athena refuses the request."""
        return {"WorkGroup": self._work_group(str(body.get("WorkGroup") or ""), region)}

    def _work_group(self, name: str, region: str) -> dict[str, Any]:
        from moto.athena.models import athena_backends

        group = athena_backends[ACCOUNT_ID][region].get_work_group(name)
        if not group:
            raise AthenaRequestError("InvalidRequestException", f"WorkGroup {name} is not found.")
        return group

    def _GetQueryExecution(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        return {"QueryExecution": self._find(body.get("QueryExecutionId")).describe()}

    def _BatchGetQueryExecution(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        found, missing = [], []
        for query_id in body.get("QueryExecutionIds", []):
            with self._lock:
                execution = self._executions.get(query_id)
            if execution is None:
                missing.append({"QueryExecutionId": query_id, "ErrorCode": "INVALID_INPUT"})
            else:
                found.append(execution.describe())
        return {"QueryExecutions": found, "UnprocessedQueryExecutionIds": missing}

    def _StopQueryExecution(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        execution = self._find(body.get("QueryExecutionId"))
        execution.cancel.set()
        connection = execution.connection
        if connection is not None:
            with contextlib.suppress(duckdb.Error):
                connection.interrupt()
        return {}

    def _GetQueryResults(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        execution = self._find(body.get("QueryExecutionId"))
        if execution.state in ("QUEUED", "RUNNING"):
            raise AthenaRequestError(
                "InvalidRequestException", f"Query has not yet finished. Current state: {execution.state}"
            )
        if execution.state != "SUCCEEDED":
            raise AthenaRequestError(
                "InvalidRequestException",
                f"Query did not finish successfully. Final query state: {execution.state}\n{execution.reason}".strip(),
            )
        size = int(body.get("MaxResults") or MAX_RESULTS)
        if not 1 <= size <= MAX_RESULTS:
            raise AthenaRequestError(
                "InvalidRequestException",
                f"1 validation error detected: Value '{size}' at 'maxResults' failed to satisfy constraint: "
                f"Member must have value less than or equal to {MAX_RESULTS}",
            )
        token = body.get("NextToken")
        start = 0
        if token:
            match = re.fullmatch(rf"{re.escape(execution.id)}:(\d+)", str(token))
            if not match:
                raise AthenaRequestError("InvalidRequestException", "The NextToken is not valid for this query.")
            start = int(match.group(1))
        page = execution.rows[start : start + size]
        answer: dict[str, Any] = {
            "UpdateCount": 0,
            "ResultSet": {
                "Rows": [{"Data": [{} if v is None else {"VarCharValue": v} for v in row]} for row in page],
                "ResultSetMetadata": {"ColumnInfo": execution.columns},
            },
        }
        if start + size < len(execution.rows):
            answer["NextToken"] = f"{execution.id}:{start + size}"
        return answer

    def _find(self, query_id: Any) -> Execution:
        with self._lock:
            execution = self._executions.get(str(query_id))
        if execution is None:
            raise AthenaRequestError("InvalidRequestException", f"QueryExecution {query_id} was not found")
        return execution

    # -- running a query ------------------------------------------------------------------------------------
    def _run(self, execution: Execution) -> None:
        try:
            if execution.cancel.wait(self.queue_s):
                raise Cancelled
            execution.started = time.time()
            execution.state = "RUNNING"
            if execution.cancel.wait(self.run_s):
                raise Cancelled
            Query(self, execution).run()
            if execution.cancel.is_set():
                raise Cancelled
            self._write_output(execution)
            execution.state = "SUCCEEDED"
        except Cancelled:
            execution.state = "CANCELLED"
            execution.reason = "Query was cancelled by user"
        except AthenaFailure as exc:
            execution.failure = exc
            execution.reason = str(exc)
            execution.state = "FAILED"
        except duckdb.InterruptException:
            execution.state = "CANCELLED"
            execution.reason = "Query was cancelled by user"
        except Exception as exc:  # anything unexpected still ends the query, as Athena's internal errors do
            execution.failure = AthenaFailure("GENERIC_INTERNAL_ERROR", f"{type(exc).__name__}: {exc}", category=1)
            execution.reason = str(execution.failure)
            execution.state = "FAILED"
        finally:
            execution.connection = None
            if execution.started is None:
                execution.started = time.time()
            execution.completed = time.time()

    def _write_output(self, execution: Execution) -> None:
        """The result file Athena leaves in the output location: CSV for a SELECT, text for SHOW/DESCRIBE."""
        if execution.statement_type == "DML":
            text = io.StringIO()
            for row in execution.rows:
                text.write(",".join("" if v is None else '"' + v.replace('"', '""') + '"' for v in row) + "\n")
        else:
            text = io.StringIO("".join(f"{row[0] or ''}\n" for row in execution.rows))
            execution.output = execution.output[: -len(".csv")] + ".txt"
        parts = urlsplit(execution.output)
        s3 = self._client("s3", execution.region)
        try:
            s3.put_object(Bucket=parts.netloc, Key=parts.path.lstrip("/"), Body=text.getvalue().encode())
            s3.put_object(
                Bucket=parts.netloc,
                Key=parts.path.lstrip("/") + ".metadata",
                Body=json.dumps({"ColumnInfo": execution.columns}).encode(),
            )
        except ClientError as exc:
            raise AthenaFailure(
                "PERMISSION_DENIED",
                f"Unable to verify/create output bucket {parts.netloc}",
                category=2,
                error_type=1004,
            ) from exc

    def _client(self, service: str, region: str) -> Any:
        """One client per service and region, shared by the query threads (boto3 clients are thread-safe)."""
        with self._lock:
            client = self._clients.get((service, region))
            if client is None:
                client = self._clients[(service, region)] = self._new_client(service, region)
            return client

    def _body(self, s3: Any, bucket: str, key: str, etag: str) -> bytes:
        """An object's bytes, read once per version: the ETag changes whenever the object does."""
        cache_key = (bucket, key, etag)
        with self._lock:
            body = self._bodies.get(cache_key)
        if body is None:
            body = bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
            with self._lock:
                if sum(len(b) for b in self._bodies.values()) > BODY_CACHE_BYTES:
                    self._bodies.clear()
                self._bodies[cache_key] = body
        return body

    def _new_client(self, service: str, region: str) -> Any:
        return boto3.session.Session().client(
            service,  # type: ignore[call-overload]
            region_name=region,
            endpoint_url=self.url,
            aws_access_key_id="standin",
            aws_secret_access_key="standin",  # moto accepts any; the caller's credentials are never used here
            config=_CLIENT_CONFIG,
        )


class AthenaRequestError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# -- the SQL ------------------------------------------------------------------------------------------------
class Query:
    """One statement: find its tables in Glue, load their objects from S3 into DuckDB, run it, format it."""

    def __init__(self, standin: StandIn, execution: Execution) -> None:
        self.standin = standin
        self.execution = execution
        self.sql = execution.sql.strip().rstrip(";").strip()
        self.glue = standin._client("glue", execution.region)
        self.s3 = standin._client("s3", execution.region)

    def run(self) -> None:
        try:
            tree = sqlglot.parse_one(self.sql, read="athena")
        except sqlglot.errors.ParseError as exc:
            error = exc.errors[0] if exc.errors else {}
            description = str(error.get("description") or exc).split(". Line")[0]
            raise AthenaFailure(
                "SYNTAX_ERROR", f"line {error.get('line', 1)}:{error.get('col', 1)}: {description}", error_type=1001
            ) from None
        if isinstance(tree, exp.Command):
            self._command(str(tree.this).upper(), str(tree.expression.this) if tree.expression else "")
        elif isinstance(tree, exp.Describe):
            self._describe(tree.this)
        elif isinstance(tree, exp.Query):
            self._select(tree)
        elif (
            isinstance(tree, exp.Create) and tree.args.get("kind") == "TABLE" and isinstance(tree.expression, exp.Query)
        ):
            self._ctas(tree)
        elif isinstance(tree, exp.Insert) and isinstance(tree.expression, exp.Query):
            self._insert(tree)
        else:
            raise AthenaFailure(
                "NOT_SUPPORTED",
                "the AWS stand-in runs SELECT, SHOW, DESCRIBE, EXPLAIN, CTAS and INSERT INTO ... SELECT only, not "
                f"{type(tree).__name__.upper()}",
            )

    # -- SELECT -------------------------------------------------------------------------------------------
    def _select(self, tree: exp.Expression, explain: bool = False) -> None:
        con = duckdb.connect(":memory:")
        con.execute("SET ieee_floating_point_ops = true")  # Trino: 1e0 / 0 is Infinity, not NULL
        self.execution.connection = con
        with tempfile.TemporaryDirectory(prefix="aws-standin-") as scratch:
            duck_sql = self._bind(con, tree, Path(scratch))
            if explain:
                duck_sql = "EXPLAIN " + duck_sql
            try:
                cursor = con.execute(duck_sql)
                described = cursor.description or []
                records = cursor.fetchall()
            except duckdb.InterruptException:
                raise
            except duckdb.Error as exc:
                raise _duckdb_failure(exc, self.sql) from None
        if explain:
            self._utility(["Query Plan"], [[line] for _, plan in records for line in str(plan).splitlines()], "DML")
            return
        names = [str(d[0]) for d in described]
        types = [_athena_type(d[1]) for d in described]
        self.execution.statement_type = "DML"
        self.execution.columns = [
            _column_info(n, t, _decimal_digits(d[1])) for n, t, d in zip(names, types, described, strict=True)
        ]
        formatters = [_formatter(d[1]) for d in described]
        self.execution.rows = [list(names)] + [
            [None if v is None else fmt(v) for v, fmt in zip(record, formatters, strict=True)] for record in records
        ]

    def _bind(self, con: duckdb.DuckDBPyConnection, tree: exp.Expression, scratch: Path) -> str:
        """Load every table the query names from Glue and S3 into ``con``; the query in DuckDB's dialect."""
        ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
        loaded: dict[tuple[str, str], dict[str, Any]] = {}
        for table in list(tree.find_all(exp.Table)):
            if not table.name or (not table.db and table.name.lower() in ctes):
                continue
            database = (table.db or self.execution.database or "default").lower()
            name = table.name.lower()
            where = _position(self.sql, table)
            if (database, name) not in loaded:
                definition = self._glue_table(database, name, table.catalog, where)
                self._load(con, definition, scratch)
                loaded[(database, name)] = definition
            table.set("catalog", None)
            table.set("db", exp.to_identifier(database, quoted=True))
            table.set("this", exp.to_identifier(name, quoted=True))
        _integer_division(tree, loaded)
        _name_outputs(tree)
        tree = tree.transform(_null_when_no_match)
        tree = tree.transform(_date_trunc_of_dates(loaded))
        return tree.sql(dialect="duckdb")

    # -- CTAS and INSERT INTO: Parquet written to S3, the table and its partitions registered in Glue -------------
    def _ctas(self, tree: exp.Create) -> None:
        target = tree.this if isinstance(tree.this, exp.Table) else tree.this.this
        database = (target.db or self.execution.database or "default").lower()
        name = target.name.lower()
        properties = {"format": "PARQUET", "external_location": "", "partitioned_by": []}
        for prop in (tree.args.get("properties") or exp.Properties(expressions=[])).expressions:
            if isinstance(prop, exp.FileFormatProperty):
                properties["format"] = prop.this.name.upper()
            elif isinstance(prop, exp.PartitionedByProperty):
                properties["partitioned_by"] = [e.name.lower() for e in prop.this.expressions]
            elif isinstance(prop, exp.Property):
                properties[prop.name.lower()] = prop.args["value"].name
        if properties["format"] != "PARQUET":
            raise AthenaFailure("NOT_SUPPORTED", "the AWS stand-in writes CTAS tables as PARQUET only")
        location = str(properties["external_location"])
        if not location:
            raise AthenaFailure("NOT_SUPPORTED", "the AWS stand-in needs external_location in a CTAS")
        location = location if location.endswith("/") else location + "/"
        try:
            self.glue.get_table(DatabaseName=database, Name=name)
            raise AthenaFailure("ALREADY_EXISTS", f"line 1:1: Table 'awsdatacatalog.{database}.{name}' already exists")
        except ClientError:
            pass
        if any(True for _ in self._objects(location)):
            raise AthenaFailure(
                "HIVE_PATH_ALREADY_EXISTS",
                f"Target directory for table '{database}.{name}' already exists: {location}. You may need to "
                "manually clean the data at location before creating the table.",
                category=2,
                error_type=1002,
            )
        keys = list(properties["partitioned_by"])
        data = self._arrow(tree.expression)
        missing = [k for k in keys if k not in data.column_names]
        if missing or data.column_names[len(data.column_names) - len(keys) :] != keys:
            raise AthenaFailure(
                "INVALID_TABLE_PROPERTY", "line 1:1: Partition columns must be the last columns in the table"
            )
        from lib.catalog import arrow_type_to_glue

        columns = [{"Name": f.name, "Type": arrow_type_to_glue(f.type)} for f in data.schema if f.name not in keys]
        partition_keys = [{"Name": k, "Type": arrow_type_to_glue(data.schema.field(k).type)} for k in keys]
        storage = {
            "Columns": columns,
            "Location": location,
            "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
            "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"},
        }
        self.glue.create_table(
            DatabaseName=database,
            TableInput={
                "Name": name,
                "TableType": "EXTERNAL_TABLE",
                "Parameters": {"classification": "parquet", "EXTERNAL": "TRUE"},
                "StorageDescriptor": storage,
                "PartitionKeys": partition_keys,
            },
        )
        written = self._write_parquet(database, name, location, storage, keys, data)
        self._utility(["rows"], [[str(written)]], "DDL")

    def _insert(self, tree: exp.Insert) -> None:
        target = tree.this if isinstance(tree.this, exp.Table) else tree.this.this
        database = (target.db or self.execution.database or "default").lower()
        name = target.name.lower()
        table = self._glue_table(database, name, target.catalog, _position(self.sql, target))
        storage = table.get("StorageDescriptor", {})
        keys = [k["Name"].lower() for k in table.get("PartitionKeys", [])]
        data = self._arrow(tree.expression)
        wanted = [c["Name"].lower() for c in storage.get("Columns", [])] + keys
        if len(data.column_names) != len(wanted):
            raise AthenaFailure(
                "SYNTAX_ERROR", f"line 1:1: Insert query has {len(data.column_names)} columns, table has {len(wanted)}"
            )
        data = data.rename_columns(wanted)
        written = self._write_parquet(database, name, str(storage.get("Location", "")), storage, keys, data)
        self._utility(["rows"], [[str(written)]], "DML")

    def _arrow(self, query: exp.Expression) -> Any:
        con = duckdb.connect(":memory:")
        self.execution.connection = con
        with tempfile.TemporaryDirectory(prefix="aws-standin-") as scratch:
            duck_sql = self._bind(con, query, Path(scratch))
            try:
                return con.execute(duck_sql).to_arrow_table()
            except duckdb.InterruptException:
                raise
            except duckdb.Error as exc:
                raise _duckdb_failure(exc, self.sql) from None

    def _write_parquet(
        self, database: str, name: str, location: str, storage: dict[str, Any], keys: list[str], data: Any
    ) -> int:
        """One Parquet object per partition (``key=value/``, NULL as Hive's default folder), as Athena writes them;
        more than 100 partitions in one statement fail as on Athena."""
        from urllib.parse import quote

        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        groups: list[tuple[list[str], Any]] = [([], data)]
        if keys:
            values = data.select(keys).group_by(keys).aggregate([]).to_pylist()
            if len(values) > 100:
                raise AthenaFailure(
                    "HIVE_TOO_MANY_OPEN_PARTITIONS",
                    f"Exceeded limit of 100 open writers for partitions/buckets ({len(values)} partitions)",
                    category=2,
                    error_type=1002,
                )
            groups = []
            for row in values:
                mask = None
                for key in keys:
                    value = row[key]
                    test = (
                        pc.is_null(data[key])
                        if value is None
                        else pc.equal(data[key], pa.scalar(value, data[key].type))
                    )
                    test = pc.fill_null(test, False)
                    mask = test if mask is None else pc.and_(mask, test)
                # Hive writes NULL and '' alike to its default partition, which reads back as NULL
                texts = [HIVE_NULL_PARTITION if row[k] is None or row[k] == "" else str(row[k]) for k in keys]
                groups.append((texts, data.filter(mask).drop_columns(keys)))
        parts = urlsplit(location)
        bucket, prefix = parts.netloc, parts.path.lstrip("/")
        run = uuid.uuid4().hex[:8]
        for texts, rows in groups:
            folder = "".join(f"{k}={quote(v, safe='')}/" for k, v in zip(keys, texts, strict=True))
            body = io.BytesIO()
            pq.write_table(rows, body, compression="snappy")
            self.s3.put_object(Bucket=bucket, Key=f"{prefix}{folder}{run}_00000.parquet", Body=body.getvalue())
            if keys:
                partition_location = f"s3://{bucket}/{prefix}{folder}"
                try:
                    self.glue.create_partition(
                        DatabaseName=database,
                        TableName=name,
                        PartitionInput={
                            "Values": texts,
                            "StorageDescriptor": {**storage, "Location": partition_location},
                        },
                    )
                except ClientError as exc:
                    if exc.response.get("Error", {}).get("Code") != "AlreadyExistsException":
                        raise
        return int(data.num_rows)

    def _objects(self, location: str) -> Iterator[str]:
        parts = urlsplit(location)
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=parts.netloc, Prefix=parts.path.lstrip("/")):
            for item in page.get("Contents", []):
                yield str(item["Key"])

    def _glue_table(self, database: str, name: str, catalog: str, where: str) -> dict[str, Any]:
        if catalog and catalog.lower() != "awsdatacatalog":
            raise AthenaFailure("CATALOG_NOT_FOUND", f"{where}: Catalog '{catalog.lower()}' does not exist")
        try:
            return dict(self.glue.get_table(DatabaseName=database, Name=name)["Table"])
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "EntityNotFoundException":
                raise
        try:
            self.glue.get_database(Name=database)
        except ClientError:
            raise AthenaFailure("SCHEMA_NOT_FOUND", f"{where}: Schema '{database}' does not exist") from None
        raise AthenaFailure("TABLE_NOT_FOUND", f"{where}: Table 'awsdatacatalog.{database}.{name}' does not exist")

    # -- reading a table ------------------------------------------------------------------------------------
    def _load(self, con: duckdb.DuckDBPyConnection, table: dict[str, Any], scratch: Path) -> None:
        storage = table.get("StorageDescriptor", {})
        columns = [(c["Name"].lower(), c.get("Type", "string")) for c in storage.get("Columns", [])]
        keys = [(c["Name"].lower(), c.get("Type", "string")) for c in table.get("PartitionKeys", [])]
        database = str(table.get("DatabaseName", self.execution.database or "default")).lower()
        name = str(table["Name"]).lower()
        sources: list[tuple[str, list[str]]] = []  # (location, partition values)
        if keys:
            paginator = self.glue.get_paginator("get_partitions")
            for page in paginator.paginate(DatabaseName=database, TableName=table["Name"]):
                for partition in page.get("Partitions", []):
                    location = partition.get("StorageDescriptor", {}).get("Location", "")
                    sources.append((location, list(partition.get("Values", []))))
        else:
            sources.append((storage.get("Location", ""), []))
        selects: list[str] = []
        for location, values in sources:
            for path, size in self._download(location, scratch):
                self.execution.scanned += size
                view = f"_src_{uuid.uuid4().hex[:12]}"
                self._read_file(con, table, storage, columns, path, view)
                parts = [_quote(c) for c, _ in columns] + [
                    f"CAST({'NULL' if v == HIVE_NULL_PARTITION else _literal(v)} AS {_duck_type(t)}) AS {_quote(k)}"
                    for (k, t), v in zip(keys, values, strict=False)
                ]
                selects.append(f"SELECT {', '.join(parts)} FROM {view}")
        if not selects:
            empty = ", ".join(f"CAST(NULL AS {_duck_type(t)}) AS {_quote(c)}" for c, t in [*columns, *keys])
            selects.append(f"SELECT {empty} WHERE false")
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {_quote(database)}")
        con.execute(f"CREATE TABLE {_quote(database)}.{_quote(name)} AS " + " UNION ALL ".join(selects))

    def _download(self, location: str, scratch: Path) -> Iterator[tuple[Path, int]]:
        """Every object under ``location`` (recursively), but not names starting with ``_`` or ``.``, as Athena."""
        parts = urlsplit(location)
        if parts.scheme not in ("s3", "s3a", "s3n") or not parts.netloc:
            raise AthenaFailure("HIVE_METASTORE_ERROR", f"Table location {location!r} is not an S3 location")
        prefix = parts.path.lstrip("/")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        paginator = self.s3.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=parts.netloc, Prefix=prefix):
                for item in sorted(page.get("Contents", []), key=lambda i: i["Key"]):
                    key = item["Key"]
                    relative = key[len(prefix) :]
                    if not relative or key.endswith("/"):
                        continue
                    if any(part.startswith(("_", ".")) for part in relative.split("/")):
                        continue
                    target = scratch / uuid.uuid4().hex / Path(key).name
                    target.parent.mkdir(parents=True)
                    body = self.standin._body(self.s3, parts.netloc, key, str(item.get("ETag", "")))
                    target.write_bytes(body)
                    yield target, len(body)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "NoSuchBucket":
                raise AthenaFailure(
                    "HIVE_CANNOT_OPEN_SPLIT", f"The specified bucket does not exist (Bucket: {parts.netloc})"
                ) from None
            raise

    def _read_file(
        self,
        con: duckdb.DuckDBPyConnection,
        table: dict[str, Any],
        storage: dict[str, Any],
        columns: list[tuple[str, str]],
        path: Path,
        view: str,
    ) -> None:
        serde = storage.get("SerdeInfo", {})
        library = str(serde.get("SerializationLibrary", ""))
        options = dict(serde.get("Parameters", {}))
        kind = library.lower()
        if "parquet" in kind or "parquet" in str(storage.get("InputFormat", "")).lower():
            import pyarrow.parquet as pq

            present = {f.name.lower(): f.name for f in pq.read_schema(path)}
            parts = [
                f"CAST({_quote(present[c])} AS {_duck_type(t)}) AS {_quote(c)}"
                if c in present
                else f"CAST(NULL AS {_duck_type(t)}) AS {_quote(c)}"
                for c, t in columns
            ]
            source = f"read_parquet({_literal(str(path))})"
            try:
                con.execute(f"CREATE TEMP VIEW {view} AS SELECT {', '.join(parts) or '1 AS _none'} FROM {source}")
            except duckdb.Error as exc:
                raise AthenaFailure("HIVE_BAD_DATA", f"Error opening Hive split {path.name}: {exc}") from None
            return
        text = _decompress(path)
        if "json" in kind:
            rows = _json_rows(text, [c for c, _ in columns], options)
        elif library == _OPEN_CSV_SERDE:
            rows = _open_csv_rows(text, len(columns), options, _header_lines(table))
        else:
            rows = _lazy_rows(text, len(columns), options, _header_lines(table))
        import pyarrow as pa

        raw = pa.table({f"c{i}": pa.array([row[i] for row in rows], pa.string()) for i in range(len(columns))})
        con.register(f"{view}_raw", raw)
        parts = [f"{_text_cast(f'c{i}', t)} AS {_quote(c)}" for i, (c, t) in enumerate(columns)]
        con.execute(f"CREATE TEMP VIEW {view} AS SELECT {', '.join(parts) or '1 AS _none'} FROM {view}_raw")

    # -- SHOW, DESCRIBE, EXPLAIN ----------------------------------------------------------------------------
    def _command(self, keyword: str, rest: str) -> None:
        words = rest.split()
        upper = [w.upper() for w in words]
        if keyword == "EXPLAIN":
            self._select(sqlglot.parse_one(rest, read="athena"), explain=True)
            return
        if keyword != "SHOW" or not words:
            raise AthenaFailure("NOT_SUPPORTED", f"the AWS stand-in does not run {keyword} statements")
        if upper[0] in ("DATABASES", "SCHEMAS"):
            names = []
            for page in self.glue.get_paginator("get_databases").paginate():
                names += [d["Name"] for d in page.get("DatabaseList", [])]
            self._utility(["database_name"], [[n] for n in sorted(names)], "UTILITY")
        elif upper[0] == "TABLES":
            database = self.execution.database or "default"
            if len(words) >= 3 and upper[1] in ("IN", "FROM"):
                database = words[2].strip('`"').lower()
            names = []
            try:
                for page in self.glue.get_paginator("get_tables").paginate(DatabaseName=database):
                    names += [t["Name"] for t in page.get("TableList", [])]
            except ClientError:
                raise AthenaFailure("SCHEMA_NOT_FOUND", f"Schema '{database}' does not exist") from None
            self._utility(["tab_name"], [[n] for n in sorted(names)], "UTILITY")
        elif upper[0] == "COLUMNS" and len(words) >= 3 and upper[1] in ("IN", "FROM"):
            table = self._named_table(words[2])
            names = [c["Name"] for c in table.get("StorageDescriptor", {}).get("Columns", [])]
            names += [c["Name"] for c in table.get("PartitionKeys", [])]
            self._utility(["field"], [[n] for n in names], "UTILITY")
        elif upper[0] == "PARTITIONS" and len(words) >= 2:
            table = self._named_table(words[1])
            keys = [c["Name"] for c in table.get("PartitionKeys", [])]
            rows = []
            paginator = self.glue.get_paginator("get_partitions")
            for page in paginator.paginate(DatabaseName=table["DatabaseName"], TableName=table["Name"]):
                for partition in page.get("Partitions", []):
                    rows.append(["/".join(f"{k}={v}" for k, v in zip(keys, partition["Values"], strict=False))])
            self._utility(["partition"], sorted(rows), "UTILITY")
        else:
            raise AthenaFailure("NOT_SUPPORTED", f"the AWS stand-in does not run SHOW {words[0]}")

    def _named_table(self, text: str) -> dict[str, Any]:
        parts = [p.strip('`"').lower() for p in text.split(".")]
        if len(parts) == 3:
            parts = parts[1:]
        database, name = parts if len(parts) == 2 else [self.execution.database or "default", parts[0]]
        return self._glue_table(database, name, "", "line 1:1")

    def _describe(self, target: exp.Expression) -> None:
        if not isinstance(target, exp.Table):
            raise AthenaFailure("NOT_SUPPORTED", "the AWS stand-in describes tables only")
        database = (target.db or self.execution.database or "default").lower()
        table = self._glue_table(database, target.name.lower(), target.catalog, _position(self.sql, target))

        def line(column: dict[str, Any]) -> list[str | None]:
            cells = [column["Name"].ljust(20), str(column.get("Type", "")).ljust(20), column.get("Comment", "")]
            return ["\t".join(cells)]

        columns = table.get("StorageDescriptor", {}).get("Columns", [])
        keys = table.get("PartitionKeys", [])
        rows = [line(c) for c in [*columns, *keys]]
        if keys:
            rows += [[""], ["# Partition Information"], ["# col_name            \tdata_type           \tcomment"]]
            rows += [[""]] + [line(k) for k in keys]
        self._utility(["col_name", "data_type", "comment"], rows, "DDL")

    def _utility(self, names: list[str], rows: list[list[str | None]], statement_type: str) -> None:
        """SHOW and DESCRIBE: no header row, one text cell per row (DESCRIBE's cells tab-separated in it)."""
        self.execution.statement_type = statement_type
        self.execution.columns = [_column_info(n, "string") for n in names]
        if statement_type == "DML":  # EXPLAIN
            self.execution.rows = [list(names), *rows]
        else:
            self.execution.rows = rows


# -- text formats -------------------------------------------------------------------------------------------
def _header_lines(table: dict[str, Any]) -> int:
    try:
        return int(table.get("Parameters", {}).get("skip.header.line.count", "0"))
    except ValueError:
        return 0


def _decompress(path: Path) -> str:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    elif path.suffix == ".bz2":
        data = bz2.decompress(data)
    return data.decode("utf-8", errors="replace")


def _lines(text: str) -> list[str]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _fit(row: list[str | None], width: int) -> list[str | None]:
    """Hive: fields past the table's columns are dropped, missing ones are NULL."""
    return (row + [None] * width)[:width]


def _lazy_rows(text: str, width: int, options: dict[str, str], skip: int) -> list[list[str | None]]:
    """LazySimpleSerDe: split on ``field.delim`` (no quoting); ``\\N`` is NULL; ``escape.delim`` escapes."""
    delimiter = options.get("field.delim") or options.get("serialization.format") or "\x01"
    escape = options.get("escape.delim")
    null = options.get("serialization.null.format", "\\N")
    out: list[list[str | None]] = []
    for line in _lines(text)[skip:]:
        if escape:
            fields, current, index = [], "", 0
            while index < len(line):
                char = line[index]
                if char == escape and index + 1 < len(line):
                    current += line[index + 1]
                    index += 2
                    continue
                if line.startswith(delimiter, index):
                    fields.append(current)
                    current = ""
                    index += len(delimiter)
                    continue
                current += char
                index += 1
            fields.append(current)
        else:
            fields = line.split(delimiter)
        out.append(_fit([None if f == null else f for f in fields], width))
    return out


def _open_csv_rows(text: str, width: int, options: dict[str, str], skip: int) -> list[list[str | None]]:
    """OpenCSVSerde: quoted fields, every value a string; an empty field is an empty string."""
    reader = csv.reader(
        io.StringIO(text),
        delimiter=options.get("separatorChar", ","),
        quotechar=options.get("quoteChar", '"'),
        escapechar=options.get("escapeChar", "\\"),
    )
    rows = list(reader)[skip:]
    return [_fit(list[str | None](row), width) for row in rows]


def _json_rows(text: str, names: list[str], options: dict[str, str]) -> list[list[str | None]]:
    """OpenX JsonSerDe: one object per line, keys matched case-insensitively, missing keys NULL."""
    ignore_bad = options.get("ignore.malformed.json", "false").lower() == "true"
    out: list[list[str | None]] = []
    for number, line in enumerate(_lines(text), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError("not an object")
        except ValueError:
            if ignore_bad:
                out.append([None] * len(names))
                continue
            raise AthenaFailure(
                "HIVE_CURSOR_ERROR", f"Row is not a valid JSON Object - JSONException: line {number}", category=2
            ) from None
        lowered = {str(k).lower(): v for k, v in record.items()}
        row: list[str | None] = []
        for name in names:
            value = lowered.get(name)
            if value is None:
                row.append(None)
            elif isinstance(value, bool):
                row.append("true" if value else "false")
            elif isinstance(value, dict | list):
                row.append(json.dumps(value))
            else:
                row.append(str(value))
        out.append(row)
    return out


def _text_cast(column: str, glue_type: str) -> str:
    """A text field as its column type: strings as they are, anything unparseable NULL, as Hive reads it."""
    duck = _duck_type(glue_type)
    quoted = _quote(column)
    if duck == "VARCHAR":
        return quoted
    if duck == "BOOLEAN":
        return f"CASE lower(trim({quoted})) WHEN 'true' THEN true WHEN 'false' THEN false END"
    return f"TRY_CAST(trim({quoted}) AS {duck})"


# -- types and values ---------------------------------------------------------------------------------------
def _duck_type(glue_type: str) -> str:
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


def _athena_type(duck: Any) -> str:
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


def _decimal_digits(duck: Any) -> tuple[int, int] | None:
    """(precision, scale) of a DuckDB DECIMAL type, which Athena reports in ColumnInfo."""
    if str(getattr(duck, "id", "")).lower() != "decimal":
        return None
    children = dict(getattr(duck, "children", []))
    return int(children.get("precision", 38)), int(children.get("scale", 0))


def _column_info(name: str, athena_type: str, digits: tuple[int, int] | None = None) -> dict[str, Any]:
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


def _formatter(duck: Any) -> Callable[[Any], str]:
    kind = str(getattr(duck, "id", duck)).lower()
    if kind == "float":  # REAL: Java prints the float's own shortest digits
        import numpy as np

        return lambda v: java_double(float(str(np.float32(v))))
    return _format_value


# -- Athena semantics DuckDB does not share ---------------------------------------------------------------------
def _integer_division(tree: exp.Expression, tables: dict[tuple[str, str], dict[str, Any]]) -> None:
    """Trino divides integers as integers (7 / 2 is 3) and fails on an integer division by zero; DuckDB gives
    3.5 and NULL. The operand types come from sqlglot's type annotation over the Glue columns; a query it cannot
    type keeps DuckDB's division."""
    from sqlglot.optimizer.annotate_types import annotate_types
    from sqlglot.optimizer.qualify import qualify

    schema: dict[str, dict[str, dict[str, str]]] = {}
    for (database, name), table in tables.items():
        columns = [*table.get("StorageDescriptor", {}).get("Columns", []), *table.get("PartitionKeys", [])]
        schema.setdefault(database, {})[name] = {
            c["Name"].lower(): _duck_type(c.get("Type", "string")) for c in columns
        }
    originals = list(tree.find_all(exp.Div))
    if not originals:
        return
    for number, division in enumerate(originals):
        division.meta["standin_division"] = number  # the copy keeps it, so each division finds its typed twin
    try:
        typed = qualify(tree.copy(), schema=schema, dialect="duckdb", expand_alias_refs=False, expand_stars=False)
        annotate_types(typed, schema=schema, dialect="duckdb")
    except Exception:
        return
    twins: dict[int, exp.Div] = {}
    for division in typed.find_all(exp.Div):
        twins.setdefault(division.meta.get("standin_division", -1), division)
    for number, original in enumerate(originals):
        copy = twins.get(number)
        if copy is None:
            continue
        left, right = copy.this.type, copy.expression.type
        if (
            left is None
            or right is None
            or not (left.is_type(*exp.DataType.INTEGER_TYPES) and right.is_type(*exp.DataType.INTEGER_TYPES))
        ):
            continue
        divisor = original.expression.copy()
        quotient = exp.IntDiv(this=original.this.copy(), expression=original.expression.copy())
        original.replace(
            exp.Case(
                ifs=[
                    exp.If(
                        this=exp.EQ(this=divisor, expression=exp.Literal.number(0)),
                        true=exp.Anonymous(this="error", expressions=[exp.Literal.string("Division by zero")]),
                    )
                ],
                default=quotient,
            )
        )


def _date_trunc_of_dates(loaded: dict[tuple[str, str], dict[str, Any]]) -> Callable[[exp.Expression], exp.Expression]:
    """Trino's date_trunc of a DATE is a DATE; DuckDB's is a TIMESTAMP. A DATE here is a column Glue types as
    date, or a CAST to DATE."""
    dates = set()
    for table in loaded.values():
        columns = [*table.get("StorageDescriptor", {}).get("Columns", []), *table.get("PartitionKeys", [])]
        dates |= {c["Name"].lower() for c in columns if str(c.get("Type", "")).lower() == "date"}

    def is_date(node: exp.Expression) -> bool:
        if isinstance(node, exp.Cast):
            return node.to.is_type("date")
        return isinstance(node, exp.Column) and node.name.lower() in dates

    def fix(node: exp.Expression) -> exp.Expression:
        trunc = isinstance(node, (exp.DateTrunc, exp.TimestampTrunc)) and not node.meta.get("standin_dated")
        if trunc and is_date(node.this):
            inner = node.copy()
            inner.meta["standin_dated"] = True
            return exp.cast(inner, exp.DataType.build("DATE"))
        return node

    return fix


def _null_when_no_match(node: exp.Expression) -> exp.Expression:
    """Trino's regexp_extract is NULL when the pattern does not match; DuckDB's is ''."""
    if isinstance(node, exp.RegexpExtract) and not node.meta.get("standin_wrapped"):
        inner = node.copy()
        inner.meta["standin_wrapped"] = True
        matched = exp.RegexpLike(this=node.this.copy(), expression=node.expression.copy())
        return exp.Case(ifs=[exp.If(this=matched, true=inner)])
    return node


def _name_outputs(tree: exp.Expression) -> None:
    """Athena names an unaliased result column that is not a plain column ``_col<position>``; DuckDB names it
    after the expression (``count_star()``)."""
    select = tree
    while isinstance(select, exp.SetOperation):
        select = select.this
    if not isinstance(select, exp.Select):
        return
    for index, projection in enumerate(list(select.expressions)):
        if isinstance(projection, exp.Alias | exp.Column | exp.Star) or projection.alias:
            continue
        projection.replace(exp.alias_(projection.copy(), f"_col{index}", quoted=True))


# -- errors -------------------------------------------------------------------------------------------------
def _position(sql: str, node: exp.Expression) -> str:
    starts = [
        part.meta["start"]
        for part in (node.args.get("catalog"), node.args.get("db"), node.args.get("this"))
        if isinstance(part, exp.Identifier) and "start" in part.meta
    ]
    if not starts:
        return "line 1:1"
    offset = min(starts)
    before = sql[:offset]
    return f"line {before.count(chr(10)) + 1}:{offset - (before.rfind(chr(10)) + 1) + 1}"


def _duckdb_failure(exc: duckdb.Error, sql: str) -> AthenaFailure:
    text = str(exc)
    missing = re.search(r'Referenced column "?([^"\s]+)"? not found', text) or re.search(
        r'column "?([^"\s]+)"? (?:not found|does not exist)', text
    )
    if missing:
        name = missing.group(1).split(".")[-1]
        where = _word_position(sql, name)
        return AthenaFailure(
            "COLUMN_NOT_FOUND",
            f"{where}: Column '{name}' cannot be resolved or requester is not authorized to access requested resources",
            error_type=1006,
        )
    function = re.search(r"(?:Scalar|Aggregate|Table) Function with name \"?(\w+)\"? does not exist", text)
    if function:
        name = function.group(1)
        return AthenaFailure("FUNCTION_NOT_FOUND", f"{_word_position(sql, name)}: Function '{name}' not registered")
    if "Division by zero" in text:
        return AthenaFailure("DIVISION_BY_ZERO", "Division by zero")
    if isinstance(exc, duckdb.ConversionException):
        return AthenaFailure("INVALID_CAST_ARGUMENT", text.splitlines()[0])
    if isinstance(exc, duckdb.BinderException | duckdb.CatalogException | duckdb.ParserException):
        return AthenaFailure("SYNTAX_ERROR", f"line 1:1: {text.splitlines()[0]}", error_type=1001)
    return AthenaFailure("GENERIC_USER_ERROR", text.splitlines()[0])


def _word_position(sql: str, word: str) -> str:
    match = re.search(rf"(?<![\w\"']){re.escape(word)}(?![\w])", sql, re.I) or re.search(re.escape(word), sql, re.I)
    offset = match.start() if match else 0
    before = sql[:offset]
    return f"line {before.count(chr(10)) + 1}:{offset - (before.rfind(chr(10)) + 1) + 1}"


# -- small helpers ------------------------------------------------------------------------------------------
def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _region(authorization: str) -> str:
    match = re.search(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/", authorization)
    return match.group(1) if match else DEFAULT_REGION


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# -- pytest ---------------------------------------------------------------------------------------------------
try:
    import pytest
except ImportError:  # pragma: no cover - the server runs without pytest too
    pytest = None  # type: ignore[assignment]

if pytest is not None:

    @pytest.fixture(scope="session")
    def aws_standin() -> Iterator[StandIn]:
        """The stand-in on a free port for the whole session, with the fake credentials of ``tests.aws_fixtures``.

        moto's state is one per process: a test that resets moto (``aws_settings`` does) empties this too, so
        build what a module needs in a module-scoped fixture of its own.
        """
        from tests.aws_fixtures import _ENV, _UNSET

        patch = pytest.MonkeyPatch()
        for name, value in _ENV.items():
            patch.setenv(name, value)
        for name in _UNSET:
            patch.delenv(name, raising=False)
        standin = StandIn().start()
        try:
            yield standin
        finally:
            standin.stop()
            patch.undo()


# -- the server -------------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.aws_standin",
        description="Serve moto (S3, Glue, SageMaker) with an Athena that executes SQL on DuckDB, on 127.0.0.1.",
    )
    parser.add_argument("--port", type=int, default=5055, help="port to listen on (default 5055)")
    parser.add_argument("--bucket", help="create this bucket at start, e.g. the bucket of LAKELENS_S3_LAKE")
    args = parser.parse_args(argv)
    try:
        standin = StandIn(port=args.port).start()
    except OSError as exc:
        parser.exit(1, f"Cannot listen on 127.0.0.1:{args.port}: {exc.strerror}. Choose another --port.\n")
    if args.bucket:
        standin._client("s3", DEFAULT_REGION).create_bucket(Bucket=args.bucket)
    print(f"AWS stand-in (moto + an Athena that runs SQL) serving at {standin.url}; Ctrl-C stops it.", flush=True)
    lake = f"s3://{args.bucket}/lake/" if args.bucket else "s3://<bucket>/lake/"
    print(
        f"  export LAKELENS_BACKEND=aws LAKELENS_S3_LAKE={lake} LAKELENS_ENDPOINT_URL={standin.url} "
        f"LAKELENS_AWS_REGION={DEFAULT_REGION} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing",
        flush=True,
    )
    import signal

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        standin.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
