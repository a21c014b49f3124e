"""The AWS stand-in answers Athena's calls the way Athena does, checked with boto3 alone (no LakeLens code).

Expected values come from the data each test writes, computed in Python, never from the stand-in itself.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.aws_fixtures import REGION, _free_port
from tests.aws_standin import StandIn, java_double

pytest_plugins = ("tests.aws_standin",)

BUCKET = "standin-test"
OUTPUT = f"s3://{BUCKET}/results/"
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
LAZY_SERDE = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def aws(aws_standin: StandIn) -> Iterator[dict[str, Any]]:
    """An empty stand-in with one bucket and the database ``db``; yields boto3 clients on it."""
    aws_standin.reset()
    clients = {name: boto3.client(name, region_name=REGION, endpoint_url=aws_standin.url) for name in ("s3", "glue")}
    clients["athena"] = boto3.client("athena", region_name=REGION, endpoint_url=aws_standin.url)
    clients["s3"].create_bucket(Bucket=BUCKET)
    clients["glue"].create_database(DatabaseInput={"Name": "db"})
    yield clients
    aws_standin.queue_s = aws_standin.run_s = 0.0


def put_parquet(aws: dict[str, Any], key: str, table: pa.Table) -> int:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    aws["s3"].put_object(Bucket=BUCKET, Key=key, Body=buffer.getvalue())
    return len(buffer.getvalue())


def create_table(
    aws: dict[str, Any],
    name: str,
    columns: list[tuple[str, str]],
    *,
    serde: str = PARQUET_SERDE,
    serde_parameters: dict[str, str] | None = None,
    parameters: dict[str, str] | None = None,
    partition_keys: list[tuple[str, str]] | None = None,
) -> None:
    aws["glue"].create_table(
        DatabaseName="db",
        TableInput={
            "Name": name,
            "Parameters": parameters or {},
            "PartitionKeys": [{"Name": n, "Type": t} for n, t in partition_keys or []],
            "StorageDescriptor": {
                "Columns": [{"Name": n, "Type": t} for n, t in columns],
                "Location": f"s3://{BUCKET}/{name}/",
                "SerdeInfo": {"SerializationLibrary": serde, "Parameters": serde_parameters or {}},
            },
        },
    )


def start(aws: dict[str, Any], sql: str) -> str:
    return str(
        aws["athena"].start_query_execution(
            QueryString=sql,
            QueryExecutionContext={"Database": "db"},
            ResultConfiguration={"OutputLocation": OUTPUT},
        )["QueryExecutionId"]
    )


def wait(aws: dict[str, Any], query_id: str) -> tuple[list[str], dict[str, Any]]:
    """Poll until the query ends; returns every state seen and the final execution."""
    states: list[str] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        execution = aws["athena"].get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        state = execution["Status"]["State"]
        if not states or states[-1] != state:
            states.append(state)
        if state not in ("QUEUED", "RUNNING"):
            return states, execution
        time.sleep(0.02)
    raise AssertionError(f"query {query_id} did not finish: {states}")


def run(aws: dict[str, Any], sql: str) -> tuple[list[dict[str, Any]], list[list[str | None]], dict[str, Any]]:
    """Run to the end and read every page: (ColumnInfo, rows as GetQueryResults gives them, execution)."""
    query_id = start(aws, sql)
    states, execution = wait(aws, query_id)
    assert states[-1] == "SUCCEEDED", execution["Status"]
    rows: list[list[str | None]] = []
    columns: list[dict[str, Any]] = []
    token = None
    while True:
        params: dict[str, Any] = {"QueryExecutionId": query_id}
        if token:
            params["NextToken"] = token
        page = aws["athena"].get_query_results(**params)
        columns = page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
        rows += [[cell.get("VarCharValue") for cell in row["Data"]] for row in page["ResultSet"]["Rows"]]
        token = page.get("NextToken")
        if not token:
            return columns, rows, execution


def failure(aws: dict[str, Any], sql: str) -> str:
    states, execution = wait(aws, start(aws, sql))
    assert states[-1] == "FAILED"
    return str(execution["Status"]["StateChangeReason"])


def test_a_select_pages_1000_rows_at_most_with_the_header_row_first(aws: dict[str, Any]) -> None:
    values = list(range(2_500))
    put_parquet(aws, "numbers/part-0.parquet", pa.table({"n": pa.array(values, pa.int64())}))
    create_table(aws, "numbers", [("n", "bigint")])
    query_id = start(aws, "SELECT n FROM numbers ORDER BY n")
    wait(aws, query_id)
    pages = []
    token = None
    while True:
        params: dict[str, Any] = {"QueryExecutionId": query_id, "MaxResults": 1000}
        if token:
            params["NextToken"] = token
        page = aws["athena"].get_query_results(**params)
        pages.append([row["Data"][0]["VarCharValue"] for row in page["ResultSet"]["Rows"]])
        token = page.get("NextToken")
        if not token:
            break
    assert [len(p) for p in pages] == [1000, 1000, 501]  # 2,500 rows and the header row
    assert pages[0][0] == "n"
    assert [int(v) for v in [*pages[0][1:], *pages[1], *pages[2]]] == values
    with pytest.raises(aws["athena"].exceptions.InvalidRequestException):
        aws["athena"].get_query_results(QueryExecutionId=query_id, MaxResults=1001)


def test_types_come_back_typed_in_the_metadata_and_as_text_with_null_as_no_value(aws: dict[str, Any]) -> None:
    put_parquet(
        aws,
        "typed/part-0.parquet",
        pa.table(
            {
                "i": pa.array([1, None], pa.int32()),
                "d": pa.array([0.1, 12345678.9], pa.float64()),
                "s": pa.array(["x", None]),
                "b": pa.array([True, False]),
                "day": pa.array([19_000, None], pa.date32()),
            }
        ),
    )
    create_table(aws, "typed", [("i", "int"), ("d", "double"), ("s", "string"), ("b", "boolean"), ("day", "date")])
    columns, rows, _ = run(
        aws, "SELECT i, d, s, b, day, CAST(i AS double) / 2 AS half, count(*) OVER () AS n FROM typed ORDER BY d"
    )
    assert [c["Type"] for c in columns] == ["integer", "double", "varchar", "boolean", "date", "double", "bigint"]
    assert rows[0] == ["i", "d", "s", "b", "day", "half", "n"]
    assert rows[1] == ["1", "0.1", "x", "true", "2022-01-08", "0.5", "2"]
    assert rows[2] == [None, "1.23456789E7", None, "false", None, None, "2"]


@pytest.mark.parametrize(
    ("value", "java"),  # what Java's Double.toString prints, which is how Athena's results print doubles
    [(4.5, "4.5"), (100.0, "100.0"), (0.001, "0.001"), (0.0001, "1.0E-4"), (1e7, "1.0E7"), (-2.5e-5, "-2.5E-5")],
)
def test_doubles_print_as_java_prints_them(value: float, java: str) -> None:
    assert java_double(value) == java


def test_delimited_text_follows_the_tables_serde(aws: dict[str, Any]) -> None:
    body = "id\tname\tscore\n1\tAda\t7\n2\t\t\n\\N\t\\N\textra\n3\n"
    aws["s3"].put_object(Bucket=BUCKET, Key="people/a.tsv", Body=body.encode())
    aws["s3"].put_object(Bucket=BUCKET, Key="people/_SUCCESS", Body=b"not data")
    create_table(
        aws,
        "people",
        [("id", "int"), ("name", "string"), ("score", "int")],
        serde=LAZY_SERDE,
        serde_parameters={"field.delim": "\t"},
        parameters={"skip.header.line.count": "1"},
    )
    _, rows, _ = run(aws, "SELECT id, name, score FROM people")
    # LazySimpleSerDe: an empty string field stays '', \N is NULL, text that is no int is NULL, short rows pad
    assert rows[1:] == [["1", "Ada", "7"], ["2", "", None], [None, None, None], ["3", None, None]]


def test_open_csv_serde_reads_quoted_fields(aws: dict[str, Any]) -> None:
    aws["s3"].put_object(Bucket=BUCKET, Key="quotes/a.csv", Body=b'"a, b","2"\n"plain",""\n')
    create_table(aws, "quotes", [("t", "string"), ("n", "string")], serde="org.apache.hadoop.hive.serde2.OpenCSVSerde")
    _, rows, _ = run(aws, "SELECT t, n FROM quotes")
    assert rows[1:] == [["a, b", "2"], ["plain", ""]]


def test_json_lines_match_keys_by_name_and_missing_keys_are_null(aws: dict[str, Any]) -> None:
    lines = [{"Name": "a", "n": 1}, {"name": "b"}]
    aws["s3"].put_object(Bucket=BUCKET, Key="events/a.json", Body="\n".join(map(json.dumps, lines)).encode())
    create_table(aws, "events", [("name", "string"), ("n", "int")], serde="org.openx.data.jsonserde.JsonSerDe")
    _, rows, _ = run(aws, "SELECT name, n FROM events ORDER BY name")
    assert rows[1:] == [["a", "1"], ["b", None]]


def test_a_partitioned_table_reads_the_partitions_glue_holds_and_counts_the_bytes(aws: dict[str, Any]) -> None:
    sizes = [
        put_parquet(aws, "sales/day=1/p.parquet", pa.table({"amount": pa.array([10, 20], pa.int64())})),
        put_parquet(aws, "sales/day=2/p.parquet", pa.table({"amount": pa.array([5], pa.int64())})),
    ]
    put_parquet(aws, "sales/day=3/p.parquet", pa.table({"amount": pa.array([1000], pa.int64())}))  # not in Glue
    create_table(aws, "sales", [("amount", "bigint")], partition_keys=[("day", "int")])
    for day in ("1", "2"):
        aws["glue"].create_partition(
            DatabaseName="db",
            TableName="sales",
            PartitionInput={"Values": [day], "StorageDescriptor": {"Location": f"s3://{BUCKET}/sales/day={day}/"}},
        )
    columns, rows, execution = run(aws, "SELECT day, sum(amount) AS total FROM sales GROUP BY day ORDER BY day")
    assert rows[1:] == [["1", "30"], ["2", "5"]]
    assert [c["Type"] for c in columns] == ["integer", "bigint"]
    assert execution["Statistics"]["DataScannedInBytes"] == sum(sizes)


def test_the_result_csv_and_metadata_are_left_in_the_output_location(aws: dict[str, Any]) -> None:
    put_parquet(aws, "notes/p.parquet", pa.table({"t": ['say "hi"', None, ""]}))
    create_table(aws, "notes", [("t", "string")])
    _, _, execution = run(aws, "SELECT t FROM notes")
    location = execution["ResultConfiguration"]["OutputLocation"]
    assert location == f"{OUTPUT}{execution['QueryExecutionId']}.csv"
    key = location[len(f"s3://{BUCKET}/") :]
    text = aws["s3"].get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()
    assert text == '"t"\n"say ""hi"""\n\n""\n'  # Athena's CSV: everything quoted, NULL an empty unquoted field
    assert aws["s3"].head_object(Bucket=BUCKET, Key=key + ".metadata")["ContentLength"] > 0


def test_states_go_queued_running_succeeded(aws: dict[str, Any], aws_standin: StandIn) -> None:
    aws_standin.queue_s = aws_standin.run_s = 0.3
    states, _ = wait(aws, start(aws, "SELECT 1"))
    assert states == ["QUEUED", "RUNNING", "SUCCEEDED"]


def test_a_stopped_query_is_cancelled_and_has_no_results(aws: dict[str, Any], aws_standin: StandIn) -> None:
    aws_standin.run_s = 10
    query_id = start(aws, "SELECT 1")
    time.sleep(0.1)
    aws["athena"].stop_query_execution(QueryExecutionId=query_id)
    started = time.monotonic()
    states, _ = wait(aws, query_id)
    assert states[-1] == "CANCELLED"
    assert time.monotonic() - started < 5
    with pytest.raises(aws["athena"].exceptions.InvalidRequestException, match="CANCELLED"):
        aws["athena"].get_query_results(QueryExecutionId=query_id)


def test_failures_say_what_athena_says(aws: dict[str, Any]) -> None:
    put_parquet(aws, "t/p.parquet", pa.table({"a": [1]}))
    create_table(aws, "t", [("a", "bigint")])
    assert failure(aws, "SELECT * FROM missing") == (
        "TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.db.missing' does not exist"
    )
    assert failure(aws, "SELECT * FROM nodb.t") == "SCHEMA_NOT_FOUND: line 1:15: Schema 'nodb' does not exist"
    assert failure(aws, "SELECT a,\n  nope FROM t").startswith(
        "COLUMN_NOT_FOUND: line 2:3: Column 'nope' cannot be resolved"
    )
    assert failure(aws, "SELEC 1").startswith("SYNTAX_ERROR: line 1:")
    with pytest.raises(aws["athena"].exceptions.InvalidRequestException, match="was not found"):
        aws["athena"].get_query_execution(QueryExecutionId="00000000-0000-0000-0000-000000000000")


def test_show_and_describe_answer_from_glue_without_a_header_row(aws: dict[str, Any]) -> None:
    create_table(aws, "b_table", [("x", "int")], partition_keys=[("day", "string")])
    create_table(aws, "a_table", [("y", "string")])
    _, tables, execution = run(aws, "SHOW TABLES IN db")
    assert tables == [["a_table"], ["b_table"]]
    assert execution["StatementType"] == "UTILITY"
    _, described, _ = run(aws, "DESCRIBE b_table")
    cells = [[cell.strip() for cell in (row[0] or "").split("\t")] for row in described]
    assert cells[0][:2] == ["x", "int"]
    assert ["# Partition Information"] in cells


def test_it_serves_from_the_command_line_until_stopped(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.aws_standin", "--port", str(port), "--bucket", BUCKET],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert f"127.0.0.1:{port}" in process.stdout.readline()
        athena = boto3.client(
            "athena",
            region_name=REGION,
            endpoint_url=f"http://127.0.0.1:{port}",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        query_id = athena.start_query_execution(
            QueryString="SELECT 6 * 7 AS answer", ResultConfiguration={"OutputLocation": OUTPUT}
        )["QueryExecutionId"]
        for _ in range(100):
            state = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]["State"]
            if state == "SUCCEEDED":
                break
            time.sleep(0.05)
        rows = athena.get_query_results(QueryExecutionId=query_id)["ResultSet"]["Rows"]
        assert rows[1]["Data"][0]["VarCharValue"] == "42"
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


def test_integers_divide_as_in_trino_and_unnamed_columns_are_numbered(aws: dict[str, Any]) -> None:
    put_parquet(aws, "votes/p.parquet", pa.table({"helpful": pa.array([7, -7], pa.int32()), "total": [2, 0]}))
    create_table(aws, "votes", [("helpful", "int"), ("total", "bigint")])
    sql = "SELECT helpful, helpful / 2, CAST(helpful AS double) / 2 AS half, count(*) OVER () FROM votes ORDER BY 1"
    _, rows, _ = run(aws, sql)
    assert rows == [["helpful", "_col1", "half", "_col3"], ["-7", "-3", "-3.5", "2"], ["7", "3", "3.5", "2"]]
    assert failure(aws, "SELECT helpful / total FROM votes") == "DIVISION_BY_ZERO: Division by zero"
    _, rows, _ = run(aws, "SELECT 1e0 / 0 AS inf")
    assert rows[1] == ["Infinity"]


def test_regexp_extract_is_null_when_the_pattern_does_not_match(aws: dict[str, Any]) -> None:
    _, rows, _ = run(
        aws, "SELECT regexp_extract('Five Stars', '(\\w+) Stars', 1) AS hit, regexp_extract('x', 'y') AS miss"
    )
    assert rows[1] == ["Five", None]


def test_the_hive_default_partition_reads_as_null(aws: dict[str, Any]) -> None:
    put_parquet(aws, "flags/active=__HIVE_DEFAULT_PARTITION__/p.parquet", pa.table({"n": pa.array([1], pa.int64())}))
    create_table(aws, "flags", [("n", "bigint")], partition_keys=[("active", "boolean")])
    location = f"s3://{BUCKET}/flags/active=__HIVE_DEFAULT_PARTITION__/"
    aws["glue"].create_partition(
        DatabaseName="db",
        TableName="flags",
        PartitionInput={"Values": ["__HIVE_DEFAULT_PARTITION__"], "StorageDescriptor": {"Location": location}},
    )
    _, rows, _ = run(aws, "SELECT n, active FROM flags")
    assert rows[1] == ["1", None]


def test_a_decimal_result_column_carries_its_precision_and_scale(aws: dict[str, Any]) -> None:
    columns, rows, _ = run(aws, "SELECT CAST(1.5 AS decimal(7, 2)) AS d")
    assert (columns[0]["Type"], columns[0]["Precision"], columns[0]["Scale"]) == ("decimal", 7, 2)
    assert rows[1] == ["1.50"]


def test_compressed_text_and_malformed_json_are_read_as_athena_reads_them(aws: dict[str, Any]) -> None:
    import gzip

    aws["s3"].put_object(Bucket=BUCKET, Key="zipped/a.csv.gz", Body=gzip.compress(b"1|x\n2|y\n"))
    create_table(
        aws, "zipped", [("n", "int"), ("t", "string")], serde=LAZY_SERDE, serde_parameters={"field.delim": "|"}
    )
    _, rows, _ = run(aws, "SELECT n, t FROM zipped ORDER BY n")
    assert rows[1:] == [["1", "x"], ["2", "y"]]
    aws["s3"].put_object(Bucket=BUCKET, Key="bad/a.json", Body=b'{"n": 1}\nnot json\n')
    create_table(
        aws,
        "bad",
        [("n", "int")],
        serde="org.openx.data.jsonserde.JsonSerDe",
        serde_parameters={"ignore.malformed.json": "true"},
    )
    _, rows, _ = run(aws, "SELECT n FROM bad")
    assert rows[1:] == [["1"], [None]]
    aws["glue"].update_table(
        DatabaseName="db",
        TableInput={
            "Name": "bad",
            "StorageDescriptor": {
                "Columns": [{"Name": "n", "Type": "int"}],
                "Location": f"s3://{BUCKET}/bad/",
                "SerdeInfo": {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe"},
            },
        },
    )
    assert failure(aws, "SELECT n FROM bad").startswith("HIVE_CURSOR_ERROR")


def test_batch_get_and_a_missing_output_location(aws: dict[str, Any]) -> None:
    query_id = start(aws, "SELECT 1")
    wait(aws, query_id)
    answer = aws["athena"].batch_get_query_execution(QueryExecutionIds=[query_id, "no-such-query"])
    assert [e["QueryExecutionId"] for e in answer["QueryExecutions"]] == [query_id]
    assert [e["QueryExecutionId"] for e in answer["UnprocessedQueryExecutionIds"]] == ["no-such-query"]
    with pytest.raises(aws["athena"].exceptions.InvalidRequestException, match="No output location"):
        aws["athena"].start_query_execution(QueryString="SELECT 1")
    with pytest.raises(aws["athena"].exceptions.InvalidRequestException, match="WorkGroup nope is not found"):
        aws["athena"].start_query_execution(
            QueryString="SELECT 1", WorkGroup="nope", ResultConfiguration={"OutputLocation": OUTPUT}
        )
