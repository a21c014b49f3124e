"""The AWS backend: objects in S3, tables in the Glue Data Catalog, SQL on Amazon Athena.

The lake is one S3 prefix (``LAKELENS_S3_LAKE``). Every key this backend receives is relative to that prefix and
passes :func:`lib.paths.clean_key` first, so a caller can never address an object outside the lake; keys handed
back are lake-relative again, exactly as on the local backend.

Failures from botocore never reach a page as they are: :meth:`AwsBackend._aws_errors` turns them into one
sentence per cause (no credentials, access refused, no bucket, throttled, not found, Athena syntax) and takes out
anything that looks like the credentials in use.

Athena runs the analyst's SQL as written, after the same guard the local engine uses. Results are read a page at a
time only until one row more than the limit is held, so a result of millions of rows costs two requests, and the
page can say the result was cut rather than guess.

moto, which the tests and a laptop demo use, ignores ``MaxResults`` for Glue's GetPartitions and Athena's
GetQueryResults; page sizes are therefore also enforced here rather than trusted to the service.
"""

from __future__ import annotations

import mimetypes
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit, urlunsplit

import awswrangler as wr
import boto3
import pandas as pd
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
)

from lib import sql as sqlmod
from lib.backends.base import (
    Backend,
    BackendInfo,
    DatabaseInfo,
    LakeSummary,
    ObjectInfo,
    ObjectPage,
    PartitionPage,
    QueryResult,
    QueryStats,
    unique_columns,
)
from lib.catalog import Partition, TableDef, glue_type_to_duckdb, validate_identifier
from lib.errors import (
    BackendUnavailable,
    CatalogError,
    LakeLensError,
    NotFound,
    ParameterError,
    PathError,
    QueryCancelled,
    QueryFailed,
    QueryTimeout,
    SettingsError,
    SqlError,
    TableNotFound,
)
from lib.paths import clean_key
from lib.settings import Settings
from lib.sql import params as paramsmod
from lib.sql import plan as planmod
from lib.sql.params import ParamValue

Service = Literal["s3", "glue", "athena", "sts"]

# Standard retry mode backs off on throttling and 5xx; five attempts keep a page responsive when AWS is unwell.
MAX_RETRIES = 5  # botocore's "max_attempts" counts retries after the first request
CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": MAX_RETRIES}, connect_timeout=5, read_timeout=60)

GLUE_CREATE_BATCH = 100  # BatchCreatePartition accepts at most 100 partitions per call
GLUE_DELETE_BATCH = 25  # BatchDeletePartition accepts at most 25
GLUE_MAX_RESULTS = 1000
ATHENA_MAX_RESULTS = 1000  # GetQueryResults returns at most 1,000 rows per page
POLL_FIRST_S = 0.25
POLL_MAX_S = 1.0
KNOWN_QUERIES = 1000  # LakeLens query ids remembered for cancel_query/result_location

_NOT_FOUND = {"404", "NoSuchKey", "NotFound", "EntityNotFoundException", "ResourceNotFoundException"}
_DENIED = {"403", "AccessDenied", "AccessDeniedException", "Forbidden", "UnauthorizedOperation", "AllAccessDisabled"}
_BAD_CREDENTIALS = {
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidSignatureException",
    "InvalidToken",
}
_EXPIRED = {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"}
_THROTTLED = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "SlowDown",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "ProvisionedThroughputExceededException",
}
_SERVER = {
    "500",
    "502",
    "503",
    "504",
    "InternalError",
    "InternalFailure",
    "InternalServerException",
    "ServiceUnavailable",
}
_GLUE_INPUT = {"InvalidInputException", "ResourceNumberLimitExceededException", "ConcurrentModificationException"}

_NO_CREDENTIALS = (
    "No AWS credentials were found: set LAKELENS_AWS_PROFILE (or AWS_PROFILE) to a profile in ~/.aws/config, "
    "export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where an IAM role provides them."
)

_INT_TYPES = {"tinyint", "smallint", "integer", "int", "bigint"}
_FLOAT_TYPES = {"double", "float", "real", "decimal"}

# Test seams: the query poll loop reads the clock and sleeps through these, so a timeout can be tested
# without waiting for it.
_clock = time.monotonic
_sleep = time.sleep

_WRANGLER_LOCK = threading.Lock()


class AwsBackend(Backend):
    kind = "aws"
    engine_name = "Athena"
    bills_scans = True

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        if not settings.s3_lake:
            raise SettingsError(
                "The aws backend needs LAKELENS_S3_LAKE, the lake's S3 location (e.g. s3://my-bucket/lake/)."
            )
        self.lake = settings.s3_lake
        bucket, _, base = settings.s3_lake[len("s3://") :].partition("/")
        if not bucket:
            raise SettingsError(f"LAKELENS_S3_LAKE is {settings.s3_lake!r}, which names no bucket.")
        try:
            self.base = clean_key(base, folder=True)
        except PathError as exc:
            raise SettingsError(f"LAKELENS_S3_LAKE is {settings.s3_lake!r}: {exc}") from exc
        self.bucket = bucket
        self._lock = threading.RLock()
        self._boto_session: boto3.Session | None = None
        self._clients: dict[str, Any] = {}
        self._executions: OrderedDict[str, str] = OrderedDict()  # LakeLens query id -> Athena execution id
        self._running: set[str] = set()
        self._cancel_requested: set[str] = set()

    # -- the backend ----------------------------------------------------------------------------------------
    def info(self) -> BackendInfo:
        return BackendInfo(
            kind="aws",
            lake=self.lake,
            engine="Amazon Athena",
            region=self.settings.aws_region,
            endpoint=_display_endpoint(self.settings.endpoint_url),
            workgroup=self.settings.athena_workgroup,
        )

    def check(self) -> None:
        with self._aws_errors(f"open the lake {self.lake}", missing=BackendUnavailable(self._no_bucket())):
            self._client("s3").head_bucket(Bucket=self.bucket)

    def close(self) -> None:
        """Close the HTTP connection pools; the next call opens new clients."""
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()

    # -- clients --------------------------------------------------------------------------------------------
    def _session(self) -> boto3.Session:
        with self._lock:
            if self._boto_session is None:
                with self._aws_errors("start an AWS session"):
                    self._boto_session = boto3.Session(
                        profile_name=self.settings.aws_profile, region_name=self.settings.aws_region
                    )
            return self._boto_session

    def _client(self, service: Service) -> Any:
        """One cached client per service, all with the same retries, timeouts and endpoint override."""
        with self._lock:
            client = self._clients.get(service)
            if client is None:
                with self._aws_errors(f"connect to {service.upper()}"):
                    client = self._session().client(
                        service, config=CLIENT_CONFIG, endpoint_url=self.settings.endpoint_url
                    )
                self._clients[service] = client
            return client

    def _configure_wrangler(self) -> None:
        """awswrangler makes its own clients from the session; only its global config carries the endpoint."""
        endpoint = self.settings.endpoint_url
        if endpoint:
            wr.config.s3_endpoint_url = endpoint
            wr.config.athena_endpoint_url = endpoint
            wr.config.glue_endpoint_url = endpoint
            wr.config.sts_endpoint_url = endpoint

    # -- errors ---------------------------------------------------------------------------------------------
    @contextmanager
    def _aws_errors(
        self, action: str, *, missing: LakeLensError | None = None, exists: LakeLensError | None = None
    ) -> Iterator[None]:
        """Turn botocore's failures into one sentence an analyst can act on.

        ``action`` completes "when trying to ...". ``missing`` is raised when the thing asked for does not exist
        (a key, a table), ``exists`` when it already does; both default to a generic sentence.
        """
        try:
            yield
        except ClientError as exc:
            raise self._client_error(exc, action, missing, exists) from exc
        except (NoCredentialsError, PartialCredentialsError) as exc:
            raise BackendUnavailable(_NO_CREDENTIALS) from exc
        except ProfileNotFound as exc:
            raise BackendUnavailable(
                f"The AWS profile {self.settings.aws_profile!r} is not in ~/.aws/config: correct "
                "LAKELENS_AWS_PROFILE (or AWS_PROFILE)."
            ) from exc
        except (EndpointConnectionError, ConnectTimeoutError) as exc:
            endpoint = _display_endpoint(
                self.settings.endpoint_url or str(exc.kwargs.get("endpoint_url") or self._endpoint_name())
            )
            hint = (
                "check LAKELENS_ENDPOINT_URL and that the service is running"
                if self.settings.endpoint_url
                else ("check the network connection and LAKELENS_AWS_REGION")
            )
            raise BackendUnavailable(f"Cannot reach {endpoint} when trying to {action}: {hint}.") from exc
        except ReadTimeoutError as exc:
            endpoint = _display_endpoint(
                self.settings.endpoint_url or str(exc.kwargs.get("endpoint_url") or self._endpoint_name())
            )
            raise BackendUnavailable(
                f"{endpoint} did not answer within 60 s when trying to {action}: try again in a moment."
            ) from exc
        except ParamValidationError:
            raise  # a request LakeLens built wrongly is a bug, not something the analyst can fix
        except BotoCoreError as exc:
            raise BackendUnavailable(f"AWS could not {action}: {self._scrub(str(exc))}") from exc

    def _client_error(
        self, exc: ClientError, action: str, missing: LakeLensError | None, exists: LakeLensError | None
    ) -> LakeLensError:
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
        message = self._scrub(str(error.get("Message") or ""))
        if code == "NoSuchBucket":
            return BackendUnavailable(self._no_bucket())
        if code in ("301", "PermanentRedirect"):
            return BackendUnavailable(
                f"The bucket {self.bucket} is not in {self.settings.aws_region}: set LAKELENS_AWS_REGION to the "
                "bucket's region."
            )
        if code in _DENIED:
            return BackendUnavailable(
                f"AWS refused access when trying to {action}: check the IAM policy of the credentials in use."
            )
        if code in _BAD_CREDENTIALS:
            return BackendUnavailable(
                f"AWS did not accept the credentials when trying to {action}: check the access key or "
                "LAKELENS_AWS_PROFILE."
            )
        if code in _EXPIRED:
            return BackendUnavailable("The AWS session has expired: log in again (e.g. `aws sso login`) and retry.")
        if code in _THROTTLED:
            return BackendUnavailable(
                f"AWS kept throttling requests when trying to {action}, even after {MAX_RETRIES} retries: "
                "wait a minute and try again."
            )
        if code in _SERVER:
            return BackendUnavailable(f"AWS had an internal error when trying to {action}: try again in a moment.")
        if code == "InvalidRequestException":
            return self._athena_request_error(message, action, missing)
        if code in _NOT_FOUND:
            return missing or NotFound(f"Cannot {action}: {_sentence(message or 'it does not exist')}")
        if code == "AlreadyExistsException":
            return exists or CatalogError(f"Cannot {action}: {_sentence(message or 'it already exists')}")
        if code in _GLUE_INPUT:
            return CatalogError(f"Glue refused to {action}: {_sentence(message or code)}")
        return LakeLensError(f"AWS could not {action}: {_sentence(message or code)}")

    def _athena_request_error(self, message: str, action: str, missing: LakeLensError | None) -> LakeLensError:
        """Athena answers bad SQL, unknown query ids and unknown workgroups all with InvalidRequestException."""
        failure = _athena_failure(message)
        if failure is not None:
            return failure
        lowered = message.lower()
        if "workgroup" in lowered and ("not found" in lowered or "does not exist" in lowered):
            return BackendUnavailable(
                f"The Athena workgroup {self.settings.athena_workgroup!r} does not exist: create it or set "
                "LAKELENS_ATHENA_WORKGROUP."
            )
        if missing is not None and ("not found" in lowered or "does not exist" in lowered):
            return missing
        positioned = _sql_error_at(message)
        if positioned is not None:
            return positioned
        return QueryFailed(f"Athena refused to {action}: {_sentence(message or 'no reason given')}")

    def _scrub(self, text: str) -> str:
        """One line of an AWS message, with the credentials in use blanked should a service ever echo them."""
        line = " ".join(text.split())
        if len(line) > 400:
            line = line[:397] + "..."
        for secret in self._known_secrets():
            line = line.replace(secret, "***")
        return line

    def _known_secrets(self) -> list[str]:
        session = self._boto_session
        if session is None:
            return []
        try:
            credentials = session.get_credentials()
            if credentials is None:
                return []
            frozen = credentials.get_frozen_credentials()
        except Exception:  # never let the scrubber hide the original failure
            return []
        return [value for value in (frozen.secret_key, frozen.token, frozen.access_key) if value and len(value) >= 8]

    def _endpoint_name(self) -> str:
        return self.settings.endpoint_url or f"AWS in {self.settings.aws_region}"

    def _no_bucket(self) -> str:
        return f"The bucket {self.bucket} does not exist: create it or correct LAKELENS_S3_LAKE ({self.lake})."

    # -- keys -----------------------------------------------------------------------------------------------
    def _s3_key(self, key: str, *, folder: bool = False) -> str:
        return self.base + clean_key(key, folder=folder)

    def _lake_key(self, s3_key: str) -> str:
        return s3_key[len(self.base) :] if s3_key.startswith(self.base) else s3_key

    def to_s3_location(self, key: str) -> str:
        """The ``s3://`` URI of a lake key: Glue and Athena need full locations, the rest of LakeLens keys."""
        return f"s3://{self.bucket}/{self._s3_key(key)}"

    # -- capabilities ---------------------------------------------------------------------------------------
    def location(self, key: str) -> str:
        return self.to_s3_location(clean_key(key, folder=True))

    def scan_cost_usd(self, scanned_bytes: int) -> float | None:
        from lib.sql.estimate import athena_cost_usd

        return athena_cost_usd(scanned_bytes)

    def location_key(self, location: str) -> str | None:
        root = f"s3://{self.bucket}/{self.base}"
        text = location.strip()
        if text.rstrip("/") + "/" == root:
            return ""
        if not text.startswith(root):
            return None
        return clean_key(text[len(root) :], folder=True)

    # -- objects --------------------------------------------------------------------------------------------
    def list_objects(self, prefix: str = "", *, token: str | None = None, page_size: int = 1000) -> ObjectPage:
        prefix = clean_key(prefix, folder=True)
        s3_prefix = self.base + prefix
        params: dict[str, Any] = {"Bucket": self.bucket, "Prefix": s3_prefix, "Delimiter": "/", "MaxKeys": page_size}
        if token:
            params["ContinuationToken"] = token
        with self._aws_errors(f"list {self.to_s3_location(prefix)}"):
            response = self._client("s3").list_objects_v2(**params)
        folders = [self._lake_key(item["Prefix"]) for item in response.get("CommonPrefixes", [])]
        objects = [
            ObjectInfo(
                key=self._lake_key(item["Key"]),
                size=int(item.get("Size", 0)),
                last_modified=item.get("LastModified"),
                etag=item.get("ETag"),
                storage_class=item.get("StorageClass", "STANDARD"),
            )
            for item in response.get("Contents", [])
            if item["Key"] != s3_prefix  # the "folder marker" the console creates is not an object of the folder
        ]
        next_token = response.get("NextContinuationToken") if response.get("IsTruncated") else None
        return ObjectPage(prefix, folders, objects, next_token)

    def stat(self, key: str) -> ObjectInfo:
        normal = clean_key(key)
        if not normal or normal.endswith("/"):
            raise NotFound(f"There is no object {key!r} in the lake.")
        with self._aws_errors(
            f"read the details of {self.to_s3_location(normal)}",
            missing=NotFound(f"There is no object {key!r} in the lake."),
        ):
            head = self._client("s3").head_object(Bucket=self.bucket, Key=self.base + normal)
        return ObjectInfo(
            key=normal,
            size=int(head.get("ContentLength", 0)),
            last_modified=head.get("LastModified"),
            etag=head.get("ETag"),
            storage_class=head.get("StorageClass") or "STANDARD",
            content_type=head.get("ContentType"),
            metadata=dict(head.get("Metadata") or {}),
            version_id=head.get("VersionId"),
        )

    def read(self, key: str, start: int | None = None, end: int | None = None) -> bytes:
        normal = clean_key(key)
        if not normal or normal.endswith("/"):
            raise NotFound(f"There is no object {key!r} in the lake.")
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": self.base + normal}
        first = start or 0
        if end is not None and end <= first:
            return b""
        if first or end is not None:
            params["Range"] = f"bytes={first}-" if end is None else f"bytes={first}-{end - 1}"
        with self._aws_errors(
            f"read {self.to_s3_location(normal)}", missing=NotFound(f"There is no object {key!r} in the lake.")
        ):
            try:
                response = self._client("s3").get_object(**params)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "InvalidRange":
                    return b""  # a range that starts past the end reads nothing, as a file would
                raise
            body = response["Body"]
            try:
                data: bytes = body.read()
            finally:
                body.close()
        return data

    def _write(
        self, key: str, data: bytes, *, content_type: str | None = None, metadata: dict[str, str] | None = None
    ) -> ObjectInfo:
        normal = clean_key(key)
        if not normal or normal.endswith("/"):
            raise PathError("An object needs a key that names a file, not a folder.")
        kind = content_type or mimetypes.guess_type(normal)[0] or "application/octet-stream"
        with self._aws_errors(f"write {self.to_s3_location(normal)}"):
            self._client("s3").put_object(
                Bucket=self.bucket, Key=self.base + normal, Body=data, ContentType=kind, Metadata=metadata or {}
            )
        return self.stat(normal)

    def _write_file(
        self,
        key: str,
        path: Path,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
        progress: Callable[[int], None] | None = None,
        move: bool = False,
    ) -> ObjectInfo:
        """A multipart upload (boto3's transfer manager): the file is read in parts, never whole; S3 shows the
        object only once every part is in, so readers see the old object or the new one."""
        normal = clean_key(key)
        if not normal or normal.endswith("/"):
            raise PathError("An object needs a key that names a file, not a folder.")
        kind = content_type or mimetypes.guess_type(normal)[0] or "application/octet-stream"
        done = [0]

        def callback(sent: int) -> None:
            done[0] += sent
            if progress:
                progress(done[0])

        from boto3.s3.transfer import TransferConfig

        config = TransferConfig(multipart_threshold=64 * 2**20, multipart_chunksize=64 * 2**20, max_concurrency=4)
        with self._aws_errors(f"write {self.to_s3_location(normal)}"):
            self._client("s3").upload_file(
                str(path),
                self.bucket,
                self.base + normal,
                ExtraArgs={"ContentType": kind, "Metadata": metadata or {}},
                Callback=callback,
                Config=config,
            )
        return self.stat(normal)

    def _delete(self, key: str) -> None:
        normal = clean_key(key)
        if not normal or normal.endswith("/"):
            return  # as on the local backend: deleting a folder key removes no object
        with self._aws_errors(f"delete {self.to_s3_location(normal)}"):
            self._client("s3").delete_object(Bucket=self.bucket, Key=self.base + normal)

    def summary(self, object_cap: int = 100_000) -> LakeSummary:
        """One flat listing instead of the base class's walk folder by folder: S3 has no folders to walk."""
        databases = self.list_databases()
        tables = sum(len(self.list_tables(db.name)) for db in databases)
        objects = 0
        size = 0
        capped = False
        paginator = self._client("s3").get_paginator("list_objects_v2")
        with self._aws_errors(f"count the objects in {self.lake}"):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.base):
                for item in page.get("Contents", []):
                    if item["Key"].endswith("/") and not item.get("Size"):
                        continue  # folder markers
                    objects += 1
                    size += int(item.get("Size", 0))
                    if objects >= object_cap:
                        capped = True
                        break
                if capped:
                    break
        return LakeSummary(len(databases), tables, objects, size, capped)

    # -- catalog --------------------------------------------------------------------------------------------
    def list_databases(self) -> list[DatabaseInfo]:
        out: list[DatabaseInfo] = []
        with self._aws_errors("list the Glue databases"):
            for page in self._client("glue").get_paginator("get_databases").paginate():
                for item in page.get("DatabaseList", []):
                    out.append(
                        DatabaseInfo(
                            name=item["Name"],
                            description=item.get("Description", ""),
                            location=item.get("LocationUri", ""),
                        )
                    )
        return out

    def _create_database(self, name: str, description: str = "") -> None:
        validate_identifier(name, "database")
        database_input = {"Name": name, "Description": description}
        with self._aws_errors(f"create the Glue database {name}"):
            try:
                self._client("glue").create_database(DatabaseInput=database_input)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "AlreadyExistsException":
                    raise

    def list_tables(self, database: str) -> list[TableDef]:
        tables: list[TableDef] = []
        with self._aws_errors(
            f"list the tables of {database}",
            missing=NotFound(f"Database {database!r} does not exist in the catalog."),
        ):
            for page in self._client("glue").get_paginator("get_tables").paginate(DatabaseName=database):
                tables.extend(TableDef.from_glue(item, database=database) for item in page.get("TableList", []))
        return tables

    def get_table(self, database: str, table: str) -> TableDef:
        with self._aws_errors(
            f"read the table {database}.{table}",
            missing=TableNotFound(f"Table {database}.{table} does not exist in the catalog."),
        ):
            response = self._client("glue").get_table(DatabaseName=database, Name=table)
        return TableDef.from_glue(response["Table"], database=database)

    def _find_table(self, database: str, table: str) -> TableDef | None:
        try:
            return self.get_table(database, table)
        except TableNotFound:
            return None

    def list_partitions(
        self, database: str, table: str, *, token: str | None = None, page_size: int = 100
    ) -> PartitionPage:
        """One page of partitions. The token carries Glue's token and an offset into Glue's page, so the page
        size holds even against a service that returns more than ``MaxResults`` (moto returns everything)."""
        offset, glue_token = _split_token(token)
        params: dict[str, Any] = {
            "DatabaseName": database,
            "TableName": table,
            "MaxResults": max(1, min(page_size, GLUE_MAX_RESULTS)),
        }
        if glue_token:
            params["NextToken"] = glue_token
        with self._aws_errors(
            f"list the partitions of {database}.{table}",
            missing=TableNotFound(f"Table {database}.{table} does not exist in the catalog."),
        ):
            response = self._client("glue").get_partitions(**params)
        items = response.get("Partitions", [])
        page = items[offset : offset + page_size]
        if offset + page_size < len(items):
            next_token: str | None = f"{offset + page_size}|{glue_token or ''}"
        elif response.get("NextToken"):
            next_token = f"0|{response['NextToken']}"
        else:
            next_token = None
        return PartitionPage([_partition(item) for item in page], next_token)

    def _register_table(
        self, table: TableDef, *, partitions: list[Partition] | None = None, replace: bool = False
    ) -> TableDef:
        validate_identifier(table.database, "database")
        validate_identifier(table.name, "table")
        for column in table.all_columns:
            glue_type_to_duckdb(column.type)
        if self.location_key(table.location) is None:
            raise CatalogError(
                f"Table location {table.location!r} must be inside the lake ({self.to_s3_location('')}<folder>/)."
            )
        self.create_database(table.database)
        existing = self._find_table(table.database, table.name)
        conflict = CatalogError(f"Table {table.qualified_name} already exists; replace it explicitly to overwrite it.")
        if existing and not replace:
            raise conflict
        glue = self._client("glue")
        with self._aws_errors(f"register {table.qualified_name} in Glue", exists=conflict):
            if existing:
                glue.update_table(DatabaseName=table.database, TableInput=table.to_glue_input())
            else:
                glue.create_table(DatabaseName=table.database, TableInput=table.to_glue_input())
        if partitions is None and table.partition_keys:
            partitions = self.discover_partitions(table)
        if existing and existing.partition_keys:
            self._delete_partitions(table.database, table.name)
        self._create_partitions(table, partitions or [])
        return self.get_table(table.database, table.name)

    def discover_partitions(self, table: TableDef) -> list[Partition]:
        """Hive-style ``key=value`` folders under the table's location, as MSCK REPAIR TABLE finds them."""
        base_key = self.location_key(table.location)
        if base_key is None:
            return []
        found: list[Partition] = []

        def walk(key: str, depth: int, values: tuple[str, ...]) -> None:
            if depth == len(table.partition_keys):
                found.append(Partition(values=values, location=self.to_s3_location(key)))
                return
            expected = table.partition_keys[depth].name + "="
            for folder in self._folders(key):
                name = folder[len(key) :].rstrip("/")
                if name.startswith(expected):
                    walk(folder, depth + 1, (*values, unquote(name[len(expected) :])))

        walk(base_key, 0, ())
        return found

    def _folders(self, prefix: str) -> list[str]:
        folders: list[str] = []
        token: str | None = None
        while True:
            page = self.list_objects(prefix, token=token)
            folders.extend(page.folders)
            token = page.next_token
            if not token:
                return sorted(folders)

    def _create_partitions(self, table: TableDef, partitions: list[Partition]) -> None:
        storage = table.to_glue_input()["StorageDescriptor"]
        inputs = [
            {
                "Values": list(partition.values),
                "StorageDescriptor": {**storage, "Location": partition.location},
                "Parameters": dict(partition.parameters),
            }
            for partition in partitions
        ]
        glue = self._client("glue")
        for start in range(0, len(inputs), GLUE_CREATE_BATCH):
            with self._aws_errors(f"add partitions to {table.qualified_name}"):
                response = glue.batch_create_partition(
                    DatabaseName=table.database,
                    TableName=table.name,
                    PartitionInputList=inputs[start : start + GLUE_CREATE_BATCH],
                )
            errors = [
                item
                for item in response.get("Errors", [])
                if item.get("ErrorDetail", {}).get("ErrorCode") != "AlreadyExistsException"
            ]
            if errors:
                detail = errors[0].get("ErrorDetail", {})
                raise CatalogError(
                    f"Glue refused {len(errors)} partition(s) of {table.qualified_name}, e.g. "
                    f"{errors[0].get('PartitionValues')}: {_sentence(self._scrub(str(detail.get('ErrorMessage', ''))))}"
                )

    def _delete_partitions(self, database: str, table: str) -> None:
        """Replacing a table replaces its partitions too, as on the local backend; Glue's UpdateTable keeps them."""
        glue = self._client("glue")
        values: list[list[str]] = []
        with self._aws_errors(f"list the partitions of {database}.{table}"):
            for page in glue.get_paginator("get_partitions").paginate(DatabaseName=database, TableName=table):
                values.extend(list(item["Values"]) for item in page.get("Partitions", []))
        for start in range(0, len(values), GLUE_DELETE_BATCH):
            with self._aws_errors(f"remove the old partitions of {database}.{table}"):
                glue.batch_delete_partition(
                    DatabaseName=database,
                    TableName=table,
                    PartitionsToDelete=[{"Values": v} for v in values[start : start + GLUE_DELETE_BATCH]],
                )

    def _drop_table(self, database: str, table: str) -> None:
        with self._aws_errors(
            f"drop the table {database}.{table}",
            missing=TableNotFound(f"Table {database}.{table} does not exist in the catalog."),
        ):
            self._client("glue").delete_table(DatabaseName=database, Name=table)

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
        deadline = _clock() + (timeout_s or self.settings.query_timeout_s)
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
                raise QueryFailed(f"Athena could not run it: {_sentence(self._scrub(reason) or 'no reason given')}")
            if state == "CANCELLED" or (cancel is not None and cancel.is_set()):
                if state != "CANCELLED":
                    self._stop(execution_id, execution_id)
                raise IngestCancelled(f"The Athena statement {execution_id} was cancelled.")
            if _clock() > deadline:
                self._stop(execution_id, execution_id)
                raise QueryTimeout(
                    f"The Athena statement ran past {timeout_s or self.settings.query_timeout_s} s and was stopped; "
                    "raise LAKELENS_QUERY_TIMEOUT_S for longer curates."
                )
            time.sleep(delay)
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
        with self._aws_errors("start the Athena query"), _WRANGLER_LOCK:
            self._configure_wrangler()
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
        deadline = _clock() + timeout
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
                    _athena_failure(reason)
                    or _sql_error_at(reason)
                    or QueryFailed(f"The query failed: {_sentence(reason or 'Athena gave no reason')}")
                )
            if state == "CANCELLED":
                raise QueryCancelled("The query was cancelled.")
            remaining = deadline - _clock()
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
            _sleep(min(delay, remaining))
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
                if page_rows and _is_header(page_rows[0], columns, statement_type):
                    page_rows = page_rows[1:]
                first = False
            rows.extend(page_rows)
            token = page.get("NextToken")
            if not token or len(rows) > limit:
                break
        if statement.kind == "describe" or statement_type in ("DDL", "UTILITY"):
            rows = _utility_rows(rows, len(columns), describe=statement.kind == "describe")
        total = None if token else len(rows)
        truncated = len(rows) > limit
        if not rows and statement.kind == "write" and update_count is not None:
            return pd.DataFrame({"rows": pd.array([update_count], dtype="Int64")}), 1, False
        return _frame(rows[:limit], columns), total, truncated

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
            return _write_frame(frame, path, fmt)
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
                rows = _stream_result(body, columns, tmp, fmt)
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


# -- helpers ---------------------------------------------------------------------------------------------------
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


def _stream_result(body: Any, columns: list[dict[str, Any]], target: Path, fmt: str) -> int:
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


def _write_frame(frame: pd.DataFrame, path: Path, fmt: str) -> int:
    if fmt == "parquet":
        frame.to_parquet(path, index=False)
    elif fmt == "json":
        frame.to_json(path, orient="records", lines=True, date_format="iso")
    else:
        frame.to_csv(path, index=False)
    return len(frame)


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _display_endpoint(endpoint: str | None) -> str | None:
    """The endpoint without any user:password part, so it can be shown and logged."""
    if not endpoint:
        return endpoint
    parts = urlsplit(endpoint)
    if parts.username is None and parts.password is None:
        return endpoint
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _split_token(token: str | None) -> tuple[int, str | None]:
    if not token:
        return 0, None
    head, sep, rest = token.partition("|")
    if sep and head.isdigit():
        return int(head), rest or None
    return 0, token


def _partition(item: dict[str, Any]) -> Partition:
    return Partition(
        values=tuple(item.get("Values", [])),
        location=item.get("StorageDescriptor", {}).get("Location", ""),
        parameters=dict(item.get("Parameters") or {}),
        create_time=item.get("CreationTime"),
    )


_MISSING_TABLE = (
    re.compile(r"Table\s+['\"`]?([\w\-.\"`]+?)['\"`]?\s+does not exist", re.I),
    re.compile(r"Table not found:?\s+['\"`]?([\w\-.\"`]+)", re.I),
)
_MISSING_SCHEMA = re.compile(r"(?:Schema|Database)\s+['\"`]?([\w\-.\"`]+?)['\"`]?\s+(?:does not exist|not found)", re.I)


def _athena_failure(reason: str) -> LakeLensError | None:
    """A missing table or database named in Athena's reason, as the error the local engine would raise."""
    where = re.search(r"line (\d+:\d+)", reason)
    at = f" (Athena, line {where.group(1)})" if where else ""
    for pattern in _MISSING_TABLE:
        match = pattern.search(reason)
        if match:
            parts = [part.strip("\"`'") for part in match.group(1).split(".")]
            if len(parts) == 3 and parts[0].lower() == sqlmod.DEFAULT_CATALOG:
                parts = parts[1:]
            return TableNotFound(f"Table {'.'.join(parts)} does not exist in the catalog{at}.")
    match = _MISSING_SCHEMA.search(reason)
    if match:
        name = match.group(1).strip("\"`'").split(".")[-1]
        return NotFound(f"Database {name!r} does not exist in the catalog{at}.")
    return None


def _sql_error_at(reason: str) -> SqlError | None:
    """A reason that points at a line and column of the SQL (a syntax error, an unknown column or function) is
    an error in the analyst's SQL, as the local engine reports it, with the place for the editor to show.

    Athena reports these as a FAILED query (COLUMN_NOT_FOUND, SYNTAX_ERROR...), or for some syntax errors as an
    InvalidRequestException from StartQueryExecution; both end here.
    """
    position = re.search(r"line (\d+):(\d+)", reason)
    if not position:
        return None
    return SqlError(
        f"Athena could not run the query: {_sentence(reason)}",
        line=int(position.group(1)),
        column=int(position.group(2)),
    )


def _is_header(row: list[str | None], columns: list[dict[str, Any]], statement_type: str | None) -> bool:
    """Only a SELECT's (DML's) first page starts with the column names; SHOW and DESCRIBE results do not."""
    if statement_type == "DML":
        return True
    if statement_type in ("DDL", "UTILITY"):
        return False
    names = [column.get("Label") or column.get("Name") for column in columns]
    return bool(names) and row == names


def _utility_rows(rows: list[list[str | None]], width: int, *, describe: bool) -> list[list[str | None]]:
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


def _frame(rows: list[list[str | None]], columns: list[dict[str, Any]]) -> pd.DataFrame:
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
