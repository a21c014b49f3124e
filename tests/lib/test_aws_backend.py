"""The aws backend against moto (S3, Glue, Athena over HTTP), with botocore's Stubber where moto cannot play AWS.

moto does not run SQL: Athena results are seeded through moto's API and every query SUCCEEDS at once, so FAILED,
CANCELLED, slow queries, real result paging and AWS faults are played with a Stubber on the backend's own clients
in the response shapes the API reference documents.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

import awswrangler as wr
import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from botocore.retries.standard import ExponentialBackoff
from botocore.stub import ANY, Stubber

import lib.backends.aws as aws_module
import lib.backends.aws._athena as athena_module
from lib.backends.aws import AwsBackend
from lib.catalog import Column, Partition, parquet_table
from lib.errors import (
    BackendUnavailable,
    CatalogError,
    LakeLensError,
    NotFound,
    PathError,
    QueryCancelled,
    QueryFailed,
    QueryTimeout,
    SqlError,
    SqlRefused,
    TableNotFound,
)
from lib.settings import Settings
from tests.aws_fixtures import (
    BUCKET,
    FAKE_ACCESS_KEY,
    FAKE_SECRET,
    REGION,
    column,
    make_aws_settings,
    moto_post,
    seed_athena_results,
    seed_objects,
    seed_tables,
)

pytest_plugins = ("tests.aws_fixtures",)  # moto_server, aws_settings, aws_backend

ESCAPES = ["../x", "/etc/passwd", "a/%2e%2e/b", "a/../../b", "s3://other-bucket/x"]
SELECT = "SELECT product_category, count(*) AS n FROM demo.reviews GROUP BY 1"


def count_calls(client: Any, operation: str | None = None) -> list[str]:
    """Names of the requests ``client`` makes from now on (only ``operation``'s, if given)."""
    calls: list[str] = []

    def record(event_name: str, **_: Any) -> None:
        calls.append(event_name)

    event = f"before-call.{client.meta.service_model.service_id.hyphenize()}"
    client.meta.events.register(f"{event}.{operation}" if operation else event, record)
    return calls


def athena_executions(url: str) -> list[str]:
    client = boto3.client("athena", region_name=REGION, endpoint_url=url)
    return list(client.list_query_executions().get("QueryExecutionIds", []))


def one_clear_line(error: LakeLensError) -> str:
    message = str(error)
    assert "\n" not in message and "Traceback" not in message
    assert FAKE_SECRET not in message and FAKE_ACCESS_KEY not in message
    return message


# -- objects ------------------------------------------------------------------------------------------------
def test_listing_pages_follow_tokens_and_show_folders(aws_backend: AwsBackend) -> None:
    keys = [f"lake/big/obj-{i:05d}.json" for i in range(2_500)]
    folders = ["lake/big/a-folder/", "lake/big/b-folder/", "lake/big/zz-folder/"]
    seed_objects([*keys, *(f + "part-0.parquet" for f in folders)])
    seed_objects(["lake/big/a-folder/"], body=b"")  # the console's "folder marker"

    first = aws_backend.list_objects("big")
    assert len(first.folders) + len(first.objects) == 1_000 and first.next_token
    assert first.prefix == "big/"

    seen_objects: list[str] = []
    seen_folders: list[str] = []
    page = first
    while True:
        seen_objects += [obj.key for obj in page.objects]
        seen_folders += page.folders
        if not page.next_token:
            break
        page = aws_backend.list_objects("big/", token=page.next_token)
    assert sorted(seen_objects) == [key.removeprefix("lake/") for key in keys]  # each exactly once
    assert sorted(seen_folders) == ["big/a-folder/", "big/b-folder/", "big/zz-folder/"]
    assert all(obj.size == 1 and obj.storage_class == "STANDARD" and obj.etag for obj in first.objects)

    inside = aws_backend.list_objects("big/a-folder/")
    assert [obj.key for obj in inside.objects] == ["big/a-folder/part-0.parquet"] and not inside.folders
    root = aws_backend.list_objects("")
    assert root.folders == ["big/"] and root.objects == []


def test_escaping_keys_are_refused_before_any_call(aws_backend: AwsBackend) -> None:
    calls = count_calls(aws_backend._client("s3"))
    attempts: list[Callable[[str], object]] = [
        aws_backend.list_objects,
        aws_backend.stat,
        aws_backend.read,
        lambda key: aws_backend.write(key, b"x"),
        aws_backend.delete,
        aws_backend.to_s3_location,
    ]
    for key in ESCAPES:
        for attempt in attempts:
            with pytest.raises(PathError):
                attempt(key)
    assert calls == []


def test_write_stat_read_ranges_delete(aws_backend: AwsBackend) -> None:
    body = b"0123456789abcdef"
    written = aws_backend.write(
        "raw/notes/readme.txt", body, content_type="text/plain; charset=utf-8", metadata={"source": "upload"}
    )
    assert written.key == "raw/notes/readme.txt" and written.size == len(body)

    info = aws_backend.stat("raw/notes/readme.txt")
    assert info.content_type == "text/plain; charset=utf-8"
    assert info.metadata == {"source": "upload"}
    assert info.storage_class == "STANDARD" and info.etag and info.last_modified is not None
    assert aws_backend.stat("raw//notes/readme.txt").key == "raw/notes/readme.txt"

    assert aws_backend.read("raw/notes/readme.txt") == body
    assert aws_backend.read("raw/notes/readme.txt", 0, 4) == b"0123"
    assert aws_backend.read("raw/notes/readme.txt", 10) == b"abcdef"
    assert aws_backend.read("raw/notes/readme.txt", 4, 6) == b"45"
    assert aws_backend.read("raw/notes/readme.txt", None, 2) == b"01"
    assert aws_backend.read("raw/notes/readme.txt", 5, 5) == b""
    assert aws_backend.read("raw/notes/readme.txt", 100, 200) == b""

    guessed = aws_backend.write("raw/table.csv", b"a,b\n1,2\n")
    assert guessed.content_type == "text/csv" and guessed.metadata == {}

    # The object sits under the lake prefix in the bucket, nowhere else.
    s3 = aws_backend._client("s3")
    assert s3.head_object(Bucket=BUCKET, Key="lake/raw/notes/readme.txt")["ContentLength"] == 16

    aws_backend.delete("raw/notes/readme.txt")
    with pytest.raises(NotFound) as missing:
        aws_backend.stat("raw/notes/readme.txt")
    assert one_clear_line(missing.value) == "There is no object 'raw/notes/readme.txt' in the lake."
    with pytest.raises(NotFound, match=r"no object 'raw/gone\.txt'"):
        aws_backend.read("raw/gone.txt")
    with pytest.raises(PathError):
        aws_backend.write("raw/folder/", b"x")
    aws_backend.delete("raw/never-there.txt")  # deleting what is not there is not an error, as locally


def test_locations_round_trip(aws_backend: AwsBackend) -> None:
    location = aws_backend.to_s3_location("curated/reviews/")
    assert location == f"s3://{BUCKET}/lake/curated/reviews/"
    assert aws_backend.location_key(location) == "curated/reviews/"
    assert aws_backend.location_key(f"s3://{BUCKET}/lake/curated/reviews") == "curated/reviews/"
    assert aws_backend.location_key(f"s3://{BUCKET}/lake/") == ""
    assert aws_backend.location_key(f"s3://{BUCKET}/lakehouse/x/") is None
    assert aws_backend.location_key(f"s3://{BUCKET}/other/x/") is None
    assert aws_backend.location_key("s3://another-bucket/lake/x/") is None
    assert aws_backend.location_key("lake://curated/reviews/") is None


def test_info_and_summary(aws_backend: AwsBackend, moto_server: str) -> None:
    info = aws_backend.info()
    assert (info.kind, info.lake, info.engine) == ("aws", f"s3://{BUCKET}/lake/", "Amazon Athena")
    assert (info.region, info.endpoint, info.workgroup) == (REGION, moto_server, "primary")
    assert FAKE_SECRET not in repr(info) and FAKE_ACCESS_KEY not in repr(info)

    seed_objects([f"lake/data/f{i}.csv" for i in range(5)] + ["outside/not-counted.csv"])
    seed_objects(["lake/data/"], body=b"")  # a folder marker is not an object
    aws_backend.register_table(_reviews_table(aws_backend, partitioned=False))
    summary = aws_backend.summary()
    assert (summary.databases, summary.tables, summary.objects, summary.bytes) == (1, 1, 5, 5)
    assert summary.objects_capped is False
    capped = aws_backend.summary(object_cap=3)
    assert capped.objects == 3 and capped.objects_capped is True


def test_endpoint_credentials_are_not_shown(moto_server: str) -> None:
    backend = AwsBackend(make_aws_settings("http://user:hunter2secret@127.0.0.1:9"))
    assert "hunter2secret" not in repr(backend.info())


# -- catalog ------------------------------------------------------------------------------------------------
def _reviews_table(backend: AwsBackend, *, partitioned: bool = True, name: str = "reviews") -> Any:
    return parquet_table(
        "demo",
        name,
        [
            Column("review_id", "string", "Unique id of the review"),
            Column("star_rating", "int", "1 to 5 stars"),
            Column("helpful", "array<struct<votes:bigint,total:bigint>>"),
        ],
        backend.to_s3_location(f"curated/{name}/"),
        partition_keys=[Column("product_category", "string", "Category"), Column("year", "int")] if partitioned else [],
        description="Reviews, curated",
    )


def _partitions(backend: AwsBackend, count: int) -> list[Partition]:
    return [
        Partition(
            (f"cat{i:03d}", str(2000 + i % 20)),
            backend.to_s3_location(f"curated/reviews/product_category=cat{i:03d}/year={2000 + i % 20}/"),
        )
        for i in range(count)
    ]


def test_register_table_with_partitions_round_trips(aws_backend: AwsBackend) -> None:
    table = _reviews_table(aws_backend)
    stored = aws_backend.register_table(table, partitions=_partitions(aws_backend, 150))
    assert stored.create_time is not None

    [listed] = aws_backend.list_tables("demo")
    got = aws_backend.get_table("demo", "reviews")
    for candidate in (listed, got, stored):
        assert candidate.qualified_name == "demo.reviews"
        assert candidate.columns == table.columns
        assert candidate.partition_keys == table.partition_keys
        assert candidate.location == f"s3://{BUCKET}/lake/curated/reviews/"
        assert candidate.format == "parquet" and candidate.description == "Reviews, curated"
        assert candidate.parameters["classification"] == "parquet"
    assert aws_backend.location_key(got.location) == "curated/reviews/"
    assert [db.name for db in aws_backend.list_databases()] == ["demo"]

    first = aws_backend.list_partitions("demo", "reviews")
    assert len(first.partitions) == 100 and first.next_token
    second = aws_backend.list_partitions("demo", "reviews", token=first.next_token)
    assert len(second.partitions) == 50 and second.next_token is None
    every = first.partitions + second.partitions
    assert sorted(p.values for p in every) == sorted(p.values for p in _partitions(aws_backend, 150))
    sample = next(p for p in every if p.values == ("cat007", "2007"))
    assert sample.location == f"s3://{BUCKET}/lake/curated/reviews/product_category=cat007/year=2007/"


def test_replace_is_explicit_and_replaces_partitions(aws_backend: AwsBackend) -> None:
    table = _reviews_table(aws_backend)
    aws_backend.register_table(table, partitions=_partitions(aws_backend, 30))
    with pytest.raises(CatalogError) as conflict:
        aws_backend.register_table(table, partitions=_partitions(aws_backend, 3))
    assert str(conflict.value) == "Table demo.reviews already exists; replace it explicitly to overwrite it."

    changed = parquet_table(
        "demo", "reviews", [Column("review_id", "string")], table.location, partition_keys=table.partition_keys
    )
    aws_backend.register_table(changed, partitions=_partitions(aws_backend, 3), replace=True)
    assert [c.name for c in aws_backend.get_table("demo", "reviews").columns] == ["review_id"]
    page = aws_backend.list_partitions("demo", "reviews")
    assert len(page.partitions) == 3 and page.next_token is None

    aws_backend.drop_table("demo", "reviews")
    with pytest.raises(TableNotFound) as missing:
        aws_backend.get_table("demo", "reviews")
    assert one_clear_line(missing.value) == "Table demo.reviews does not exist in the catalog."
    with pytest.raises(TableNotFound, match=r"demo\.reviews"):
        aws_backend.drop_table("demo", "reviews")


def test_register_refuses_what_local_refuses(aws_backend: AwsBackend) -> None:
    outside = parquet_table("demo", "t", [Column("a", "int")], "s3://another-bucket/data/")
    with pytest.raises(CatalogError, match="inside the lake"):
        aws_backend.register_table(outside)
    bad_type = parquet_table("demo", "t", [Column("a", "integer128")], aws_backend.to_s3_location("t/"))
    with pytest.raises(CatalogError, match="integer128"):
        aws_backend.register_table(bad_type)
    with pytest.raises(CatalogError):
        aws_backend.create_database("Bad-Name")
    assert aws_backend.list_databases() == []


def test_partitions_are_discovered_when_not_given(aws_backend: AwsBackend) -> None:
    seed_objects(
        [
            "lake/curated/reviews/product_category=Books/year=2020/part-0.parquet",
            "lake/curated/reviews/product_category=Books/year=2021/part-0.parquet",
            "lake/curated/reviews/product_category=Home%20%26%20Garden/year=2020/part-0.parquet",
            "lake/curated/reviews/_SUCCESS",
            "lake/curated/reviews/not-a-partition/x.parquet",
        ]
    )
    aws_backend.register_table(_reviews_table(aws_backend))
    values = sorted(p.values for p in aws_backend.list_partitions("demo", "reviews").partitions)
    assert values == [("Books", "2020"), ("Books", "2021"), ("Home & Garden", "2020")]


def test_more_than_a_glue_page_of_tables_are_listed(aws_backend: AwsBackend) -> None:
    aws_backend.create_database("demo", "many tables")
    aws_backend.create_database("demo")  # already there: not an error
    seed_tables(
        "demo",
        [
            parquet_table(
                "demo", f"t{i:03d}", [Column("a", "int")], aws_backend.to_s3_location(f"t{i:03d}/")
            ).to_glue_input()
            for i in range(120)
        ],
    )
    names = [t.name for t in aws_backend.list_tables("demo")]
    assert sorted(names) == [f"t{i:03d}" for i in range(120)]
    assert aws_backend.list_databases()[0].description == "many tables"


def test_glue_pages_are_followed(aws_backend: AwsBackend) -> None:
    """Real Glue pages at 100 tables and honours MaxResults for partitions; moto does neither."""
    glue = aws_backend._client("glue")

    def glue_table(name: str) -> dict[str, Any]:
        return {"DatabaseName": "demo", **_reviews_table(aws_backend, name=name).to_glue_input()}

    def glue_partition(value: str) -> dict[str, Any]:
        location = aws_backend.to_s3_location(f"curated/reviews/product_category={value}/year=2020/")
        return {"Values": [value, "2020"], "DatabaseName": "demo", "TableName": "reviews",
                "StorageDescriptor": {"Location": location}}  # fmt: skip

    with Stubber(glue) as stub:
        stub.add_response("get_tables", {"TableList": [glue_table("a"), glue_table("b")], "NextToken": "tables-2"})
        stub.add_response(
            "get_tables", {"TableList": [glue_table("c")]}, {"DatabaseName": "demo", "NextToken": "tables-2"}
        )
        assert [t.name for t in aws_backend.list_tables("demo")] == ["a", "b", "c"]

        stub.add_response(
            "get_partitions",
            {"Partitions": [glue_partition("x"), glue_partition("y")], "NextToken": "parts-2"},
            {"DatabaseName": "demo", "TableName": "reviews", "MaxResults": 2},
        )
        stub.add_response(
            "get_partitions",
            {"Partitions": [glue_partition("z")]},
            {"DatabaseName": "demo", "TableName": "reviews", "MaxResults": 2, "NextToken": "parts-2"},
        )
        first = aws_backend.list_partitions("demo", "reviews", page_size=2)
        assert [p.values[0] for p in first.partitions] == ["x", "y"] and first.next_token
        second = aws_backend.list_partitions("demo", "reviews", token=first.next_token, page_size=2)
        assert [p.values[0] for p in second.partitions] == ["z"] and second.next_token is None
        stub.assert_no_pending_responses()


def test_missing_database_and_table_say_which(aws_backend: AwsBackend) -> None:
    with pytest.raises(NotFound) as database:
        aws_backend.list_tables("nope")
    assert one_clear_line(database.value) == "Database 'nope' does not exist in the catalog."
    aws_backend.create_database("demo")
    with pytest.raises(TableNotFound) as table:
        aws_backend.get_table("demo", "nope")
    assert one_clear_line(table.value) == "Table demo.nope does not exist in the catalog."
    with pytest.raises(TableNotFound, match=r"demo\.nope"):
        aws_backend.list_partitions("demo", "nope")


# -- queries ------------------------------------------------------------------------------------------------
def test_query_frame_types_and_stats(aws_backend: AwsBackend, moto_server: str) -> None:
    seed_athena_results(
        moto_server,
        [
            (
                [column("product_category", "varchar"), column("n", "bigint")],
                [["product_category", "n"], ["Books", "1200"], ["Toys", "35"], [None, "2"]],
            )
        ],
    )
    result = aws_backend.run_query(SELECT, query_id="lakelens-q-1")
    frame = result.frame
    assert list(frame.columns) == ["product_category", "n"]
    assert frame["product_category"].tolist()[:2] == ["Books", "Toys"] and frame["product_category"].isna()[2]
    assert frame["n"].tolist() == [1200, 35, 2] and str(frame["n"].dtype) == "Int64"
    stats = result.stats
    assert stats.engine == "Athena" and stats.query_id == "lakelens-q-1"
    assert (stats.rows, stats.total_rows, stats.truncated) == (3, 3, False)
    assert stats.sql_executed == SELECT and stats.bytes_scanned == 0 and stats.runtime_s >= 0

    # Athena got the analyst's SQL unchanged, in the workgroup, writing to the configured output location.
    execution_id = aws_backend.athena_execution_id("lakelens-q-1")
    assert execution_id != "lakelens-q-1"
    execution = aws_backend._client("athena").get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
    assert execution["Query"] == SELECT and execution["WorkGroup"] == "primary"
    assert execution["QueryExecutionContext"]["Database"] == "demo"
    location = aws_backend.result_location("lakelens-q-1")
    assert location.startswith(f"s3://{BUCKET}/lake/_lakelens/athena-results/") and location.endswith(".csv")
    assert aws_backend.result_location(execution_id) == location


def test_values_are_typed_from_the_column_info(aws_backend: AwsBackend, moto_server: str) -> None:
    names = ["i", "d", "dec", "b", "day", "ts", "s", "arr"]
    types = ["integer", "double", "decimal", "boolean", "date", "timestamp", "varchar", "array"]
    seed_athena_results(
        moto_server,
        [
            (
                [column(n, t) for n, t in zip(names, types, strict=True)],
                [
                    names,
                    ["1", "2.5", "10.25", "true", "2024-02-29", "2024-02-29 13:45:00.123", "x", "[1, 2]"],
                    [None, None, None, None, None, None, None, None],
                    ["-3", "NaN", "0.10", "false", "1999-12-31", "1999-12-31 23:59:59.000", "", "[]"],
                ],
            )
        ],
    )
    frame = aws_backend.run_query("SELECT * FROM demo.typed").frame
    assert {n: str(frame[n].dtype) for n in names} == {
        "i": "Int64",
        "d": "float64",
        "dec": "float64",
        "b": "boolean",
        "day": "object",
        "ts": str(frame["ts"].dtype),
        "s": "str",
        "arr": "str",
    }
    assert frame["i"].tolist()[0] == 1 and frame["i"].isna()[1]
    assert frame["dec"][0] == 10.25 and frame["d"].isna()[1] and frame["d"].isna()[2]
    assert bool(frame["b"][0]) is True and bool(frame["b"][2]) is False and frame["b"].isna()[1]
    assert frame["day"][0] == date(2024, 2, 29) and frame["day"][1] is None
    assert str(frame["ts"].dtype).startswith("datetime64") and frame["ts"].isna()[1]
    assert frame["ts"][0] == datetime(2024, 2, 29, 13, 45, 0, 123000)
    assert frame["s"][2] == "" and frame["s"].isna()[1]  # empty text is not NULL


def test_show_and_describe_keep_their_first_row(aws_backend: AwsBackend, moto_server: str) -> None:
    seed_athena_results(
        moto_server,
        [
            ([column("tab_name", "string")], [["reviews"], ["reviews_raw"]]),
            (
                [column("col_name", "string"), column("data_type", "string"), column("comment", "string")],
                [
                    ["review_id           \tstring              \tUnique id           "],
                    ["star_rating         \tint                 \t                    "],
                    ["product_category    \tstring              \tCategory            "],
                    [""],
                    ["# Partition Information"],
                    ["# col_name            \tdata_type           \tcomment             "],
                    [""],
                    ["product_category    \tstring              \tCategory            "],
                ],
            ),
        ],
    )
    tables = aws_backend.run_query("SHOW TABLES IN demo").frame
    assert tables["tab_name"].tolist() == ["reviews", "reviews_raw"]
    described = aws_backend.run_query("DESCRIBE demo.reviews").frame
    assert described.to_dict("list") == {
        "col_name": ["review_id", "star_rating", "product_category"],
        "data_type": ["string", "int", "string"],
        "comment": ["Unique id", "", "Category (partition key)"],
    }


def test_large_result_is_cut_at_max_rows(aws_backend: AwsBackend, moto_server: str) -> None:
    rows = [["review_id"], *([f"r{i:05d}"] for i in range(2_500))]
    seed_athena_results(moto_server, [([column("review_id", "varchar")], rows)])
    pages = count_calls(aws_backend._client("athena"), "GetQueryResults")
    result = aws_backend.run_query("SELECT review_id FROM demo.reviews", max_rows=1_000)
    assert len(result.frame) == 1_000 and result.frame["review_id"].iloc[-1] == "r00999"
    assert result.stats.truncated is True and result.stats.rows == 1_000
    # moto answers with the whole result in one page (it ignores MaxResults), so the count is exact here.
    assert result.stats.total_rows == 2_500 and len(pages) == 1


def test_result_pages_stop_one_row_past_the_limit(aws_backend: AwsBackend) -> None:
    """As Athena pages: 1,000 rows a page, the header first. Only what is needed is asked for."""
    athena = aws_backend._client("athena")
    info = {"ColumnInfo": [column("review_id", "varchar")]}

    def page(values: list[str], token: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "UpdateCount": 0,
            "ResultSet": {"Rows": [{"Data": [{"VarCharValue": v}]} for v in values], "ResultSetMetadata": info},
        }
        if token:
            body["NextToken"] = token
        return body

    with Stubber(athena) as stub:
        stub.add_response("get_query_execution", _execution("SUCCEEDED", scanned=123_456_789))
        stub.add_response(
            "get_query_results",
            page(["review_id", *(f"r{i:05d}" for i in range(999))], "page-2"),
            {"QueryExecutionId": ANY, "MaxResults": 1000},
        )
        stub.add_response(
            "get_query_results",
            page(["r00999", "r01000"], "page-3"),
            {"QueryExecutionId": ANY, "MaxResults": 2, "NextToken": "page-2"},
        )
        result = aws_backend.run_query("SELECT review_id FROM demo.reviews", max_rows=1_000)
        stub.assert_no_pending_responses()  # and no third page was requested: the Stubber would have refused it
    assert len(result.frame) == 1_000 and result.frame["review_id"].iloc[-1] == "r00999"
    stats = result.stats
    assert stats.truncated is True and stats.total_rows is None
    assert stats.bytes_scanned == 123_456_789 and stats.runtime_s == 1.5 and stats.queue_s == 0.25


def _execution(state: str, reason: str | None = None, scanned: int = 0) -> dict[str, Any]:
    status: dict[str, Any] = {"State": state}
    if reason:
        status["StateChangeReason"] = reason
    return {
        "QueryExecution": {
            "QueryExecutionId": "stubbed-execution",
            "Query": SELECT,
            "StatementType": "DML",
            "ResultConfiguration": {"OutputLocation": f"s3://{BUCKET}/lake/_lakelens/athena-results/x.csv"},
            "Status": status,
            "Statistics": {
                "EngineExecutionTimeInMillis": 1500,
                "DataScannedInBytes": scanned,
                "QueryQueueTimeInMillis": 250,
            },
            "WorkGroup": "primary",
        }
    }


def test_failed_query_on_a_missing_table_names_it(aws_backend: AwsBackend) -> None:
    reason = "line 1:15: Table 'awsdatacatalog.demo.nope' does not exist"
    with Stubber(aws_backend._client("athena")) as stub:
        stub.add_response("get_query_execution", _execution("FAILED", reason))
        with pytest.raises(TableNotFound) as missing:
            aws_backend.run_query("SELECT * FROM demo.nope")
    assert one_clear_line(missing.value) == "Table demo.nope does not exist in the catalog (Athena, line 1:15)."


def test_failed_query_keeps_athenas_reason(aws_backend: AwsBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(athena_module, "_sleep", lambda seconds: None)
    reason = "HIVE_BAD_DATA: Error parsing field value '12x' for field 2: For input string: \"12x\""
    with Stubber(aws_backend._client("athena")) as stub:
        stub.add_response("get_query_execution", _execution("RUNNING"))
        stub.add_response("get_query_execution", _execution("FAILED", reason))
        with pytest.raises(QueryFailed) as failed:
            aws_backend.run_query(SELECT)
    assert not isinstance(failed.value, (QueryCancelled, QueryTimeout))
    assert one_clear_line(failed.value) == f"The query failed: {reason}."


def test_cancelled_query(aws_backend: AwsBackend) -> None:
    with Stubber(aws_backend._client("athena")) as stub:
        stub.add_response("get_query_execution", _execution("CANCELLED"))
        with pytest.raises(QueryCancelled, match="cancelled"):
            aws_backend.run_query(SELECT)


def test_timeout_stops_the_query(aws_backend: AwsBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [0.0]

    def fake_sleep(seconds: float) -> None:
        assert 0 < seconds <= aws_module.POLL_MAX_S
        clock[0] += 10.0

    monkeypatch.setattr(athena_module, "_clock", lambda: clock[0])
    monkeypatch.setattr(athena_module, "_sleep", fake_sleep)
    with Stubber(aws_backend._client("athena")) as stub:
        stub.add_response("get_query_execution", _execution("RUNNING"))
        stub.add_response("get_query_execution", _execution("RUNNING"))
        stub.add_response("stop_query_execution", {}, {"QueryExecutionId": ANY})
        with pytest.raises(QueryTimeout) as timeout:
            aws_backend.run_query(SELECT, timeout_s=7)
        stub.assert_no_pending_responses()
    message = one_clear_line(timeout.value)
    assert "7 s" in message and "LAKELENS_QUERY_TIMEOUT_S" in message


def test_cancel_query_stops_by_lakelens_id_while_running(aws_backend: AwsBackend, moto_server: str) -> None:
    transition = {"model_name": "athena::execution", "transition": {"progression": "manual", "times": 10_000}}
    moto_post(moto_server, "/moto-api/state-manager/set-transition", transition)
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            aws_backend.run_query(SELECT, query_id="lakelens-cancel-me")
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    try:
        worker = threading.Thread(target=run)
        worker.start()
        deadline = time.monotonic() + 10
        while aws_backend.athena_execution_id("lakelens-cancel-me") == "lakelens-cancel-me":
            assert time.monotonic() < deadline, "the query never started"
            time.sleep(0.02)
        aws_backend.cancel_query("lakelens-cancel-me")
        worker.join(10)
    finally:
        moto_post(moto_server, "/moto-api/state-manager/unset-transition", {"model_name": "athena::execution"})
    assert len(outcome) == 1 and isinstance(outcome[0], QueryCancelled)
    execution_id = aws_backend.athena_execution_id("lakelens-cancel-me")
    state = aws_backend._client("athena").get_query_execution(QueryExecutionId=execution_id)
    assert state["QueryExecution"]["Status"]["State"] == "CANCELLED"


def test_cancel_before_athena_has_the_query(aws_backend: AwsBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    """The page may press Cancel while StartQueryExecution is still on its way; the cancel must not be lost."""
    real_start = wr.athena.start_query_execution

    def slow_start(**kwargs: Any) -> Any:
        aws_backend.cancel_query("lakelens-early")  # arrives before Athena has answered
        return real_start(**kwargs)

    monkeypatch.setattr(wr.athena, "start_query_execution", slow_start)
    with pytest.raises(QueryCancelled):
        aws_backend.run_query(SELECT, query_id="lakelens-early")
    execution_id = aws_backend.athena_execution_id("lakelens-early")
    state = aws_backend._client("athena").get_query_execution(QueryExecutionId=execution_id)
    assert state["QueryExecution"]["Status"]["State"] == "CANCELLED"


def test_cancel_query_accepts_any_athena_id(aws_backend: AwsBackend) -> None:
    with Stubber(aws_backend._client("athena")) as stub:
        stub.add_response("stop_query_execution", {}, {"QueryExecutionId": "athena-id-from-the-console"})
        stub.add_client_error(
            "stop_query_execution",
            service_error_code="InvalidRequestException",
            service_message="QueryExecution unknown-id was not found",
            http_status_code=400,
        )
        aws_backend.cancel_query("athena-id-from-the-console")
        with pytest.raises(NotFound) as unknown:
            aws_backend.cancel_query("unknown-id")
        stub.assert_no_pending_responses()
    assert one_clear_line(unknown.value) == "Query unknown-id is not running."


WRANGLER_ENDPOINTS = ("s3_endpoint_url", "athena_endpoint_url", "glue_endpoint_url", "sts_endpoint_url")


def test_wrangler_endpoints_are_set_for_one_call_only(
    aws_settings: Settings, moto_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """awswrangler's endpoints are process-wide: each backend points them at its own endpoint for its call and puts
    back what they held, so two backends with different endpoints in one process never see each other's."""
    before = "http://held-before.invalid"
    for name in WRANGLER_ENDPOINTS:
        monkeypatch.setattr(wr.config, name, before)
    first = AwsBackend(aws_settings)
    second = AwsBackend(make_aws_settings(moto_server + "/"))  # the same moto, named differently
    assert first.settings.endpoint_url != second.settings.endpoint_url
    during: list[set[str | None]] = []
    real_start = wr.athena.start_query_execution

    def watched_start(**kwargs: Any) -> Any:
        during.append({getattr(wr.config, name) for name in WRANGLER_ENDPOINTS})
        return real_start(**kwargs)

    monkeypatch.setattr(wr.athena, "start_query_execution", watched_start)
    try:
        for backend in (first, second, first):
            backend.run_query("SELECT 1")
            assert {name: getattr(wr.config, name) for name in WRANGLER_ENDPOINTS} == dict.fromkeys(
                WRANGLER_ENDPOINTS, before
            )
    finally:
        first.close()
        second.close()
    assert during == [{moto_server}, {moto_server + "/"}, {moto_server}]


def test_the_guard_applies_before_athena(aws_backend: AwsBackend, moto_server: str) -> None:
    for sql in ("DROP TABLE demo.reviews", "INSERT INTO demo.reviews VALUES (1)", "SELECT 1; SELECT 2"):
        with pytest.raises(SqlRefused):
            aws_backend.run_query(sql)
    with pytest.raises(SqlError):
        aws_backend.run_query("SELEC * FORM demo.reviews")
    assert athena_executions(moto_server) == []


def _refuse_start(monkeypatch: pytest.MonkeyPatch, message: str) -> None:
    """StartQueryExecution answering InvalidRequestException, as Athena does for SQL it cannot plan and for an
    unknown workgroup (moto answers neither: it accepts any SQL and returns no workgroup at all)."""

    def refuse(**_: Any) -> str:
        raise ClientError({"Error": {"Code": "InvalidRequestException", "Message": message}}, "StartQueryExecution")

    monkeypatch.setattr(wr.athena, "start_query_execution", refuse)


def test_athena_syntax_errors_keep_line_and_column(aws_backend: AwsBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    _refuse_start(monkeypatch, "line 1:8: Function 'approx_most_frequent' not registered")
    with pytest.raises(SqlError) as error:
        aws_backend.run_query("SELECT approx_most_frequent(3, product_category, 100) FROM demo.reviews")
    assert (error.value.line, error.value.column) == (1, 8)
    assert one_clear_line(error.value) == (
        "Athena could not run the query: line 1:8: Function 'approx_most_frequent' not registered."
    )


def test_missing_workgroup_names_the_setting(aws_backend: AwsBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    _refuse_start(monkeypatch, "WorkGroup primary is not found.")
    with pytest.raises(BackendUnavailable) as error:
        aws_backend.run_query(SELECT)
    assert "LAKELENS_ATHENA_WORKGROUP" in one_clear_line(error.value)


# -- faults -------------------------------------------------------------------------------------------------
@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries without botocore's sleeps (up to 1 s, then 2 s... for throttling), to keep the tests fast."""
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0.0)


def test_missing_bucket(moto_server: str, aws_settings: Settings) -> None:
    backend = AwsBackend(make_aws_settings(moto_server, bucket="no-such-bucket"))
    with pytest.raises(BackendUnavailable) as error:
        backend.check()
    assert one_clear_line(error.value) == (
        "The bucket no-such-bucket does not exist: create it or correct LAKELENS_S3_LAKE (s3://no-such-bucket/lake/)."
    )
    with pytest.raises(BackendUnavailable, match="no-such-bucket does not exist"):
        backend.list_objects("")
    AwsBackend(aws_settings).check()  # the fixture's bucket exists


def test_access_denied(aws_backend: AwsBackend) -> None:
    with Stubber(aws_backend._client("s3")) as stub:
        stub.add_client_error(
            "head_bucket", service_error_code="403", service_message="Forbidden", http_status_code=403
        )
        stub.add_client_error(
            "list_objects_v2",
            service_error_code="AccessDenied",
            service_message=f"User is not authorized; signature used {FAKE_SECRET}",  # a service must never echo it
            http_status_code=403,
        )
        with pytest.raises(BackendUnavailable) as head:
            aws_backend.check()
        with pytest.raises(BackendUnavailable) as listing:
            aws_backend.list_objects("raw/")
    assert "AWS refused access" in one_clear_line(head.value) and "IAM policy" in str(head.value)
    assert one_clear_line(listing.value) == (
        f"AWS refused access when trying to list s3://{BUCKET}/lake/raw/: check the IAM policy of the "
        "credentials in use."
    )


def test_secrets_are_scrubbed_from_echoed_messages(aws_backend: AwsBackend) -> None:
    with Stubber(aws_backend._client("glue")) as stub:
        stub.add_client_error(
            "get_databases",
            service_error_code="InvalidInputException",
            service_message=f"Bad request signed with {FAKE_ACCESS_KEY}/{FAKE_SECRET}",
            http_status_code=400,
        )
        with pytest.raises(CatalogError) as error:
            aws_backend.list_databases()
    assert "***" in one_clear_line(error.value)


def _throttle_glue(client: Any, times: int) -> list[str]:
    """Answer the first ``times`` Glue requests with ThrottlingException at the HTTP layer, below the retries.

    A Stubber answers before botocore's retry handler runs, so it cannot show retries; a ``before-send`` hook
    returns a real HTTP response that the retry handler sees, exactly as a throttled AWS response.
    """
    sent: list[str] = []

    def before_send(request: Any, **_: Any) -> AWSResponse | None:
        sent.append(request.url)
        if len(sent) > times:
            return None
        body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
        raw = _RawBody(body)
        return AWSResponse(request.url, 400, {"x-amzn-ErrorType": "ThrottlingException"}, raw)

    client.meta.events.register("before-send.glue", before_send)
    return sent


class _RawBody:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body

    def read(self, *_: Any) -> bytes:
        return self._body


@pytest.mark.usefixtures("no_backoff")
def test_throttling_is_retried_then_succeeds(aws_backend: AwsBackend) -> None:
    aws_backend.create_database("demo")
    sent = _throttle_glue(aws_backend._client("glue"), times=2)
    assert [db.name for db in aws_backend.list_databases()] == ["demo"]
    assert len(sent) == 3


@pytest.mark.usefixtures("no_backoff")
def test_throttling_that_outlasts_the_retries_says_so(aws_backend: AwsBackend) -> None:
    sent = _throttle_glue(aws_backend._client("glue"), times=99)
    with pytest.raises(BackendUnavailable) as error:
        aws_backend.list_databases()
    assert len(sent) == 1 + aws_module.MAX_RETRIES == 6
    assert one_clear_line(error.value) == (
        "AWS kept throttling requests when trying to list the Glue databases, even after 5 retries: "
        "wait a minute and try again."
    )


@pytest.mark.usefixtures("no_backoff")
def test_unreachable_endpoint_is_named(moto_server: str) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connections are refused
        backend = AwsBackend(make_aws_settings(f"http://127.0.0.1:{port}"))
        with pytest.raises(BackendUnavailable) as error:
            backend.check()
    message = one_clear_line(error.value)
    assert f"http://127.0.0.1:{port}" in message and "LAKELENS_ENDPOINT_URL" in message


def test_no_credentials(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    backend = AwsBackend(make_aws_settings(moto_server))
    with pytest.raises(BackendUnavailable) as error:
        backend.check()
    message = one_clear_line(error.value)
    assert message.startswith("No AWS credentials were found") and "AWS_PROFILE" in message


def test_unknown_profile(moto_server: str) -> None:
    backend = AwsBackend(make_aws_settings(moto_server, LAKELENS_AWS_PROFILE="analytics"))
    with pytest.raises(BackendUnavailable) as error:
        backend.check()
    assert "'analytics'" in one_clear_line(error.value)


def test_messages_never_carry_the_secret(moto_server: str, aws_backend: AwsBackend) -> None:
    """Every failure path above, once more, collected: none mentions the secret or the access key."""
    attempts: list[Callable[[], object]] = [
        lambda: AwsBackend(make_aws_settings(moto_server, bucket="no-such-bucket")).check(),
        lambda: aws_backend.stat("missing.txt"),
        lambda: aws_backend.get_table("demo", "nope"),
        lambda: aws_backend.list_tables("nope"),
        lambda: aws_backend.run_query("DROP TABLE demo.reviews"),
    ]
    for attempt in attempts:
        with pytest.raises(LakeLensError) as error:
            attempt()
        one_clear_line(error.value)
