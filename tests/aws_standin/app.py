"""The server: a WSGI app in front of moto's dispatcher that answers Athena's query calls itself."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import boto3
import duckdb
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.aws_standin.errors import AthenaFailure, AthenaRequestError, Cancelled
from tests.aws_standin.query import Execution, Query

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
_CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 2}, connect_timeout=5, read_timeout=60)

logging.getLogger("sqlglot").setLevel(logging.ERROR)  # SHOW/EXPLAIN fall back to "Command" with a warning
logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise


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
        s3 = self.client("s3", execution.region)
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

    def client(self, service: str, region: str) -> Any:
        """One client per service and region, shared by the query threads (boto3 clients are thread-safe)."""
        with self._lock:
            client = self._clients.get((service, region))
            if client is None:
                client = self._clients[(service, region)] = self._new_client(service, region)
            return client

    def cached_body(self, s3: Any, bucket: str, key: str, etag: str) -> bytes:
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


def _region(authorization: str) -> str:
    match = re.search(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/", authorization)
    return match.group(1) if match else DEFAULT_REGION


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
