"""Fixtures for the aws backend: one moto server per session, a fresh bucket per test.

moto runs in a thread on 127.0.0.1 (a free port) rather than through ``mock_aws``, because awswrangler and
boto3 then take exactly the path they take against AWS: real HTTP to an endpoint override. The session's
environment holds fake credentials with a recognisable secret (:data:`FAKE_SECRET`) so a test can assert it
never reaches an error message, and points the shared config files at nothing so a developer's own
``~/.aws`` can never be used by a test.

Use them from a test module (``pytest_plugins`` keeps ruff's F811 quiet, which importing fixtures by name
would not)::

    pytest_plugins = ("tests.aws_fixtures",)

    def test_something(aws_backend: AwsBackend, moto_server: str) -> None: ...

``moto_server`` is the server's URL; ``aws_settings`` resets moto, creates the bucket :data:`BUCKET` and returns
aws ``Settings`` for ``s3://<BUCKET>/lake/``; ``aws_backend`` is an :class:`AwsBackend` on those settings.
:func:`seed_athena_results` queues results for the next Athena queries (moto does not execute SQL).

PYTEST_DONT_REWRITE: test modules import the helpers here before pytest registers the module as a plugin, and
it holds no asserts, so pytest is told not to try rewriting it (which would only warn).
"""

from __future__ import annotations

import json
import socket
import urllib.request
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from lib.backends.aws import AwsBackend
from lib.settings import Settings, load_settings

FAKE_ACCESS_KEY = "AKIAFAKEKEYFORTESTS00"
FAKE_SECRET = "FAKESECRETdoNotLeak123"
ACCOUNT_ID = "123456789012"  # moto's default account
REGION = "us-east-1"
BUCKET = "lakelens-test"

_ENV = {
    "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY,
    "AWS_SECRET_ACCESS_KEY": FAKE_SECRET,
    "AWS_DEFAULT_REGION": REGION,
    "AWS_CONFIG_FILE": "/nonexistent/aws-config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
    "AWS_EC2_METADATA_DISABLED": "true",
}
_UNSET = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL", "AWS_REGION")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def moto_post(url: str, path: str, body: dict[str, Any] | None = None) -> None:
    """POST to moto's own API (``/moto-api/...``)."""
    data = json.dumps(body).encode() if body is not None else b""
    request = urllib.request.Request(f"{url}{path}", data=data, method="POST")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def seed_athena_results(
    url: str, results: Sequence[tuple[list[dict[str, Any]], Sequence[Sequence[str | None]]]]
) -> None:
    """Queue results for the next Athena queries, one per query, in order.

    Each result is ``(column_info, rows)``: ``column_info`` as Athena's ``ColumnInfo`` (``Name``, ``Type``...);
    ``rows`` exactly as GetQueryResults returns them, so a SELECT's first row is the header row and ``None``
    is a NULL (no ``VarCharValue``).
    """
    payload = {
        "account_id": ACCOUNT_ID,
        "region": REGION,
        "results": [
            {
                "rows": [{"Data": [{} if v is None else {"VarCharValue": v} for v in row]} for row in rows],
                "column_info": column_info,
            }
            for column_info, rows in results
        ],
    }
    moto_post(url, "/moto-api/static/athena/query-results", payload)


def column(name: str, athena_type: str) -> dict[str, Any]:
    """One ``ColumnInfo`` entry as Athena describes a result column."""
    return {
        "CatalogName": "hive",
        "SchemaName": "",
        "TableName": "",
        "Name": name,
        "Label": name,
        "Type": athena_type,
        "Precision": 0,
        "Scale": 0,
        "Nullable": "UNKNOWN",
        "CaseSensitive": athena_type == "varchar",
    }


def make_aws_settings(url: str, bucket: str = BUCKET, **env: str) -> Settings:
    return load_settings(
        {
            "LAKELENS_BACKEND": "aws",
            "LAKELENS_S3_LAKE": f"s3://{bucket}/lake/",
            "LAKELENS_ENDPOINT_URL": url,
            "LAKELENS_AWS_REGION": REGION,
            **env,
        },
        secrets_path="/nonexistent/secrets.toml",
    )


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """A moto server for the whole session, with fake credentials in the environment; yields its URL."""
    from moto.server import ThreadedMotoServer

    patch = pytest.MonkeyPatch()
    for name, value in _ENV.items():
        patch.setenv(name, value)
    for name in _UNSET:
        patch.delenv(name, raising=False)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        patch.undo()


@pytest.fixture
def aws_settings(moto_server: str) -> Settings:
    """moto emptied, the bucket created: every test starts from an empty lake and catalog."""
    import boto3

    moto_post(moto_server, "/moto-api/reset")
    boto3.client("s3", region_name=REGION, endpoint_url=moto_server).create_bucket(Bucket=BUCKET)
    return make_aws_settings(moto_server)


@pytest.fixture
def aws_backend(aws_settings: Settings) -> Iterator[AwsBackend]:
    backend = AwsBackend(aws_settings)
    yield backend
    backend.close()


def seed_objects(keys: Sequence[str], body: bytes = b"x", bucket: str = BUCKET) -> None:
    """Put objects straight into moto's in-process S3 backend (full S3 keys, not lake keys).

    About 40 times faster than PUT over HTTP, so tests can hold thousands of objects; the code under test still
    lists and reads them over HTTP. Only works with :func:`moto_server`, which runs in this process.
    """
    from moto.s3.models import s3_backends

    backend = s3_backends[ACCOUNT_ID]["aws"]
    for key in keys:
        backend.put_object(bucket, key, body)


def seed_tables(database: str, table_inputs: Sequence[dict[str, Any]]) -> None:
    """Create Glue tables (``TableInput`` shapes) straight in moto's in-process backend, for the same reason as
    :func:`seed_objects`; the database must exist."""
    from moto.glue.models import glue_backends

    backend = glue_backends[ACCOUNT_ID][REGION]
    for table_input in table_inputs:
        backend.create_table(database, table_input["Name"], table_input)


def seed_small_reviews(backend: AwsBackend) -> None:
    """demo.reviews in S3 and Glue: star ratings in two Parquet partitions (Books 5, 4, 1; Toys 3, 5)."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    from lib.catalog import Column, parquet_table

    for category, ratings in (("Books", [5, 4, 1]), ("Toys", [3, 5])):
        buffer = io.BytesIO()
        pq.write_table(pa.table({"star_rating": pa.array(ratings, pa.int32())}), buffer)
        backend.write(f"curated/reviews/product_category={category}/part-0.parquet", buffer.getvalue())
    backend.register_table(
        parquet_table(
            "demo",
            "reviews",
            [Column("star_rating", "int")],
            backend.to_s3_location("curated/reviews/"),
            partition_keys=[Column("product_category", "string")],
        )
    )
