"""The aws backend's query paths against the AWS stand-in, whose Athena really runs the SQL: result paging past
1,000 rows, NULLs in downloads, polling a query that takes time, cancelling one, a timeout, and Athena's failures
as the same errors the local engine raises. Expected values are computed here from the rows each test writes.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lib.backends.aws import AwsBackend
from lib.catalog import Column, parquet_table
from lib.errors import BackendUnavailable, QueryCancelled, QueryTimeout, SqlError, TableNotFound
from tests.aws_fixtures import BUCKET, REGION, make_aws_settings
from tests.aws_standin import StandIn

pytest_plugins = ("tests.aws_standin",)

NUMBERS = 2_345


@pytest.fixture(scope="module")
def backend(aws_standin: StandIn) -> Iterator[AwsBackend]:
    """db.numbers (n = 0..2,344; label NULL for multiples of 7, '' for multiples of 5, else the number as text)."""
    aws_standin.reset()
    boto3.client("s3", region_name=REGION, endpoint_url=aws_standin.url).create_bucket(Bucket=BUCKET)
    aws = AwsBackend(make_aws_settings(aws_standin.url))
    labels = [None if n % 7 == 0 else "" if n % 5 == 0 else str(n) for n in range(NUMBERS)]
    buffer = io.BytesIO()
    pq.write_table(pa.table({"n": pa.array(range(NUMBERS), pa.int32()), "label": pa.array(labels)}), buffer)
    aws.write("curated/numbers/part-0.parquet", buffer.getvalue())
    aws.register_table(
        parquet_table(
            "db", "numbers", [Column("n", "int"), Column("label", "string")], aws.to_s3_location("curated/numbers/")
        )
    )
    yield aws
    aws.close()


@pytest.fixture
def slow(aws_standin: StandIn) -> Iterator[StandIn]:
    aws_standin.run_s = 2.0
    yield aws_standin
    aws_standin.run_s = 0.0


def test_a_result_longer_than_a_page_comes_back_whole(backend: AwsBackend) -> None:
    result = backend.run_query("SELECT n FROM db.numbers ORDER BY n", max_rows=5_000)
    assert result.frame["n"].tolist() == list(range(NUMBERS))
    assert (result.stats.rows, result.stats.total_rows, result.stats.truncated) == (NUMBERS, NUMBERS, False)
    assert result.stats.bytes_scanned == backend.stat("curated/numbers/part-0.parquet").size


def test_a_result_past_max_rows_is_cut_and_says_so(backend: AwsBackend) -> None:
    result = backend.run_query("SELECT n FROM db.numbers ORDER BY n", max_rows=1_500)
    assert result.frame["n"].tolist() == list(range(1_500))
    assert result.stats.truncated


def test_nulls_and_empty_strings_stay_apart_in_results_and_downloads(backend: AwsBackend, tmp_path: Path) -> None:
    sql = "SELECT n, label FROM db.numbers WHERE n < 15 ORDER BY n"
    expected = [None if n % 7 == 0 else "" if n % 5 == 0 else str(n) for n in range(15)]
    frame = backend.run_query(sql).frame
    assert [None if v is None or v != v else v for v in frame["label"]] == expected
    for fmt in ("parquet", "json"):
        path = tmp_path / f"out.{fmt}"
        backend.export(sql, path, fmt)  # type: ignore[arg-type]
        if fmt == "parquet":
            assert pq.read_table(path).column("label").to_pylist() == expected
        else:
            import json

            assert [json.loads(line)["label"] for line in path.read_text().splitlines()] == expected


def test_a_query_that_takes_time_is_polled_until_it_succeeds(backend: AwsBackend, slow: StandIn) -> None:
    started = time.monotonic()
    result = backend.run_query("SELECT count(*) AS n FROM db.numbers")
    assert time.monotonic() - started >= slow.run_s
    assert result.frame["n"].tolist() == [NUMBERS]


def test_cancelling_a_running_query_stops_it_in_athena(backend: AwsBackend, slow: StandIn) -> None:
    slow.run_s = 30
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            backend.run_query("SELECT count(*) FROM db.numbers", query_id="lakelens-cancel")
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.5)
    backend.cancel_query("lakelens-cancel")
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], QueryCancelled)


def test_a_query_past_the_timeout_is_stopped(backend: AwsBackend, slow: StandIn) -> None:
    slow.run_s = 30
    started = time.monotonic()
    with pytest.raises(QueryTimeout, match="LAKELENS_QUERY_TIMEOUT_S"):
        backend.run_query("SELECT count(*) FROM db.numbers", timeout_s=1)
    assert time.monotonic() - started < 5
    athena = boto3.client("athena", region_name=REGION, endpoint_url=slow.url)
    executions = [e for e in slow._executions.values() if e.sql == "SELECT count(*) FROM db.numbers"]
    states = {
        athena.get_query_execution(QueryExecutionId=e.id)["QueryExecution"]["Status"]["State"] for e in executions
    }
    assert "RUNNING" not in states and "QUEUED" not in states


def test_athenas_failures_are_the_errors_the_local_engine_raises(backend: AwsBackend) -> None:
    with pytest.raises(TableNotFound, match=r"db\.missing does not exist"):
        backend.run_query("SELECT * FROM db.missing")
    with pytest.raises(SqlError) as error:
        backend.run_query("SELECT n,\n  nope FROM db.numbers")
    assert "nope" in str(error.value)
    assert (error.value.line, error.value.column) == (2, 3)


def test_a_timestamp_with_time_zone_is_a_timestamp_as_on_the_local_engine(backend: AwsBackend) -> None:
    frame = backend.run_query("SELECT from_unixtime(1700000000) AS t, from_unixtime(NULL) AS missing").frame
    assert frame["t"].tolist() == [pd.Timestamp("2023-11-14 22:13:20", tz="UTC")]
    assert frame["missing"].isna().all()


def test_parquet_downloads_keep_decimals_and_zoned_timestamps_typed(backend: AwsBackend, tmp_path: Path) -> None:
    path = tmp_path / "typed.parquet"
    sql = "SELECT CAST(n AS decimal(7, 2)) AS d, from_unixtime(1700000000 + n) AS t FROM db.numbers WHERE n < 3"
    backend.export(sql, path, "parquet")
    table = pq.read_table(path)
    assert str(table.schema.field("t").type) == "timestamp[us, tz=UTC]"
    assert table.schema.field("d").type.scale == 2
    stamps = [pd.Timestamp(v) for v in table.column("t").to_pylist()]
    assert stamps == [pd.Timestamp(1_700_000_000 + n, unit="s", tz="UTC") for n in range(3)]


def test_an_unknown_workgroup_names_the_setting(aws_standin: StandIn, backend: AwsBackend) -> None:
    other = AwsBackend(make_aws_settings(aws_standin.url, LAKELENS_ATHENA_WORKGROUP="nope"))
    with pytest.raises(BackendUnavailable, match="LAKELENS_ATHENA_WORKGROUP"):
        other.run_query("SELECT 1")
    other.close()
