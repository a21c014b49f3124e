"""The last Athena dialect gaps, locally: each gives what Athena (Trino) gives.

Expected values are Trino's documented answers written out by hand, or computed in Python from the fixture
frames of tests/lib/test_transpile.py (24 orders in three region partitions, 5 customers, 8 events).
"""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path

import pytest

from lib.backends.aws import AwsBackend
from lib.backends.local import LocalBackend
from tests.aws_fixtures import column, seed_athena_results
from tests.lib.test_cli import run_cli
from tests.lib.test_transpile import Data, lake  # noqa: F401  (the module's lake fixture)

pytest_plugins = ("tests.aws_fixtures",)


def test_duplicate_output_names_come_back_as_two_columns(lake: tuple[LocalBackend, Data]) -> None:  # noqa: F811
    backend, _ = lake
    frame = backend.run_query("SELECT 1 AS foo, 2 AS foo, 3 AS foo").frame
    assert list(frame.columns) == ["foo", "foo_2", "foo_3"] and frame.iloc[0].tolist() == [1, 2, 3]


@pytest.mark.parametrize("fmt", ["json", "csv", "parquet"])
def test_duplicate_output_names_export_from_the_cli(tmp_path: Path, demo_lake_dir: Path, fmt: str) -> None:
    out = tmp_path / f"dup.{fmt}"
    done = run_cli(
        "query", "--sql", "SELECT 1 AS foo, 2 AS foo", "--out", str(out), "--format", fmt, lake=demo_lake_dir
    )
    assert done.returncode == 0, done.stderr
    if fmt == "json":
        assert [json.loads(line) for line in out.read_text().splitlines()] == [{"foo": 1, "foo_2": 2}]
    elif fmt == "csv":
        assert out.read_text().splitlines() == ['"foo","foo_2"', "1,2"]
    else:
        import pyarrow.parquet as pq

        assert pq.read_table(out).to_pylist() == [{"foo": 1, "foo_2": 2}]


def test_information_schema_comes_from_the_catalog(lake: tuple[LocalBackend, Data]) -> None:  # noqa: F811
    backend, _ = lake
    tables = backend.run_query(
        "SELECT table_schema, table_name, table_type FROM information_schema.tables ORDER BY table_name"
    ).frame
    assert tables.values.tolist() == [
        ["shop", "customers", "BASE TABLE"],
        ["shop", "events", "BASE TABLE"],
        ["shop", "orders", "BASE TABLE"],
    ]
    columns = backend.run_query(
        "SELECT column_name, ordinal_position, data_type, extra_info FROM information_schema.columns "
        "WHERE table_schema = 'shop' AND table_name = 'orders' ORDER BY ordinal_position"
    ).frame
    names = ["order_id", "customer", "amount", "qty", "ordered_at", "ship_date", "note", "epoch", "region"]
    assert columns["column_name"].tolist() == names
    assert columns["ordinal_position"].tolist() == list(range(1, 10))
    assert columns["data_type"].tolist()[-1] == "string" and columns["extra_info"].tolist()[-1] == "partition key"
    assert backend.run_query("SELECT count(*) AS n FROM information_schema.columns").frame["n"][0] > 9


def test_show_create_table_is_athena_ddl(lake: tuple[LocalBackend, Data]) -> None:  # noqa: F811
    backend, _ = lake
    lines = backend.run_query("SHOW CREATE TABLE shop.orders").frame["createtab_stmt"].tolist()
    assert lines[0] == "CREATE EXTERNAL TABLE `shop`.`orders`("
    assert lines[1:9] == [
        "  `order_id` bigint,",
        "  `customer` string,",
        "  `amount` double,",
        "  `qty` int,",
        "  `ordered_at` timestamp,",
        "  `ship_date` date,",
        "  `note` string,",
        "  `epoch` bigint)",
    ]
    text = "\n".join(lines)
    assert "PARTITIONED BY ( \n  `region` string)" in text
    assert "'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'" in text
    assert "LOCATION\n  'lake://data/orders/'" in text


def test_json_casts_and_functions_follow_trino(lake: tuple[LocalBackend, Data]) -> None:  # noqa: F811
    backend, _ = lake
    row = backend.run_query(
        "SELECT CAST('{\"a\":1}' AS JSON) AS string_json, CAST(3 AS JSON) AS number_json, "
        "json_format(json_parse('{\"a\": [1, 2]}')) AS formatted, json_format(CAST('x' AS JSON)) AS quoted, "
        'json_extract_scalar(json_parse(\'{"a": {"b": "c"}}\'), \'$.a.b\') AS scalar'
    ).frame.iloc[0]
    # Trino: CAST(varchar AS JSON) is a JSON *string*; json_parse parses; json_format writes compact JSON.
    assert row["string_json"] == '"{\\"a\\":1}"'
    assert row["number_json"] == "3"
    assert row["formatted"] == '{"a":[1,2]}'
    assert row["quoted"] == '"x"'
    assert row["scalar"] == "c"


def test_nan_and_infinity(lake: tuple[LocalBackend, Data]) -> None:  # noqa: F811
    backend, _ = lake
    row = backend.run_query(
        "SELECT nan() AS n, infinity() AS i, -infinity() AS m, is_nan(nan()) AS a, is_nan(1.0) AS b, "
        "is_finite(infinity()) AS c, is_finite(2.5) AS d, is_infinite(infinity()) AS e"
    ).frame.iloc[0]
    assert math.isnan(row["n"]) and row["i"] == math.inf and row["m"] == -math.inf
    assert [bool(row[k]) for k in "abcde"] == [True, False, False, True, True]


def test_date_trunc_of_a_date_is_a_date(lake: tuple[LocalBackend, Data]) -> None:  # noqa: F811
    backend, data = lake
    frame = backend.run_query(
        "SELECT order_id, date_trunc('year', ship_date) AS y, date_trunc('month', ship_date) AS m, "
        "date_trunc('year', DATE '2024-05-17') AS literal, typeof(date_trunc('year', ship_date)) AS t, "
        "typeof(date_trunc('month', ordered_at)) AS ts FROM shop.orders ORDER BY order_id"
    ).frame
    expected = {
        int(row.order_id): (date(row.ship_date.year, 1, 1), date(row.ship_date.year, row.ship_date.month, 1))
        for row in data.orders.itertuples()
    }
    got = {int(r.order_id): (r.y, r.m) for r in frame.itertuples()}
    assert got == expected
    assert set(frame["literal"]) == {date(2024, 1, 1)}
    assert set(frame["t"]) == {"DATE"} and set(frame["ts"]) == {"TIMESTAMP"}  # a timestamp stays a timestamp


# -- aws: Athena answers these itself; LakeLens must let them through and read the answer ----------------------
def test_aws_duplicate_names_and_catalog_queries_reach_athena(aws_backend: AwsBackend, moto_server: str) -> None:
    seed_athena_results(
        moto_server,
        [
            ([column("foo", "integer"), column("foo", "integer")], [["foo", "foo"], ["1", "2"]]),
            ([column("table_name", "varchar")], [["table_name"], ["reviews"]]),
            ([column("createtab_stmt", "string")], [["CREATE EXTERNAL TABLE `demo`.`reviews`("], ["  `a` int)"]]),
        ],
    )
    frame = aws_backend.run_query("SELECT 1 AS foo, 2 AS foo").frame
    assert list(frame.columns) == ["foo", "foo_2"] and frame.iloc[0].tolist() == [1, 2]
    sql = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'demo'"
    assert aws_backend.run_query(sql, query_id="info").frame["table_name"].tolist() == ["reviews"]
    execution = aws_backend._client("athena").get_query_execution(
        QueryExecutionId=aws_backend.athena_execution_id("info")
    )["QueryExecution"]
    assert execution["Query"] == sql
    ddl = aws_backend.run_query("SHOW CREATE TABLE demo.reviews").frame
    assert ddl.iloc[:, 0].tolist()[0].startswith("CREATE EXTERNAL TABLE")
