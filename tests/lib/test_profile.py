"""Result and table profiles, plans and Format, on both backends.

Locally every expected number is computed with pandas from the demo lake's Parquet files read by pyarrow; on aws
moto runs no SQL, so the test queues the engine's answers and checks what was asked and what was made of it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.dataset as ds
import pytest

from lib.backends.aws import AwsBackend
from lib.backends.local import LocalBackend
from lib.errors import SqlError
from lib.sql import profile, script
from tests.aws_fixtures import column, seed_athena_results, seed_small_reviews
from tests.lib.test_cli import run_cli

pytest_plugins = ("tests.aws_fixtures",)


def curated(root: Path) -> pd.DataFrame:
    frame: pd.DataFrame = (
        ds.dataset(root / "curated" / "reviews", format="parquet", partitioning="hive").to_table().to_pandas()
    )
    return frame


def close(approx: int | None, exact: int) -> bool:
    """approx_distinct is HyperLogLog: a few percent either way (and never above the non-null rows)."""
    return approx is not None and abs(approx - exact) <= max(2, 0.05 * exact)


def test_table_profile_matches_pandas(fresh_backend: LocalBackend) -> None:
    frame = curated(fresh_backend.root)
    table = fresh_backend.get_table("demo", "reviews")
    asked: list[str] = []

    def run(sql: str) -> pd.DataFrame:
        asked.append(sql)
        return fresh_backend.run_query(sql, max_rows=10_000).frame

    result = profile.profile_table(table, run)
    by_name = {c.name: c for c in result.columns}
    assert result.rows == len(frame)
    assert [c.name for c in result.columns] == [c.name for c in table.all_columns]
    # The statistics come from one aggregate query; the second one only ranks top values and buckets.
    assert asked[0].startswith("SELECT COUNT(*)") and "GROUP BY" not in asked[0] and len(asked) == 2

    stars = by_name["star_rating"]
    assert (stars.minimum, stars.maximum) == (frame.star_rating.min(), frame.star_rating.max())
    assert math.isclose(stars.mean or 0, frame.star_rating.mean(), rel_tol=1e-9)
    assert stars.nulls == int(frame.star_rating.isna().sum())
    assert close(stars.distinct, frame.star_rating.nunique())

    body = by_name["review_body"]
    texts = frame.review_body.dropna()
    assert body.nulls == int(frame.review_body.isna().sum()) > 0
    assert body.max_length == texts.str.len().max()
    assert math.isclose(body.avg_length or 0, texts.str.len().mean(), rel_tol=1e-9)
    assert body.top == []  # nearly every text is different: no top values

    verified = by_name["verified_purchase"]
    assert (verified.trues, verified.falses) == (
        int(frame.verified_purchase.sum()),
        int((~frame.verified_purchase).sum()),
    )

    category = by_name["product_category"]
    counts = frame.product_category.value_counts()
    assert len(category.top) == profile.TOP_VALUES
    assert category.top[0][1] == counts.iloc[0]
    assert all(counts[value] == n for value, n in category.top)

    dates = by_name["review_date"]
    assert (dates.minimum, dates.maximum) == (frame.review_date.min(), frame.review_date.max())

    glue = result.to_json()["ColumnStatisticsList"]
    assert glue[[c.name for c in table.all_columns].index("verified_purchase")]["StatisticsData"] == {
        "Type": "BOOLEAN",
        "BooleanColumnStatisticsData": {
            "NumberOfTrues": verified.trues,
            "NumberOfFalses": verified.falses,
            "NumberOfNulls": 0,
        },
    }
    # Stored with the table, with its time; the table list is not confused by the file beside it.
    fresh_backend.save_column_statistics("demo", "reviews", result.to_json())
    stored = profile.Profile.from_json(fresh_backend.column_statistics("demo", "reviews") or {})
    assert stored.computed_at == result.computed_at and stored.columns[3].maximum == stars.maximum
    assert {t.name for t in fresh_backend.list_tables("demo")} == {"reviews", "reviews_raw"}


def test_result_profile_is_of_the_whole_result_not_the_rows_shown(demo_backend: LocalBackend) -> None:
    frame = curated(demo_backend.root)
    sql = (
        "SELECT review_words, product_category, review_words AS review_words FROM demo.reviews WHERE star_rating >= :s"
    )
    shown = demo_backend.run_query(sql, max_rows=10, params={"s": "3"})
    assert shown.stats.truncated  # only 10 rows on screen
    result = profile.profile_result(
        sql, shown.frame, lambda text: demo_backend.run_query(text, max_rows=10_000, params={"s": "3"}).frame
    )
    kept = frame[frame.star_rating >= 3]
    words = kept.review_words.dropna()
    assert result.rows == len(kept)
    first = result.columns[0]
    assert (first.nulls, first.minimum, first.maximum) == (
        int(kept.review_words.isna().sum()),
        words.min(),
        words.max(),
    )
    width = (words.max() - words.min()) / profile.BUCKETS
    buckets = np.minimum(np.floor((words - words.min()) / width), profile.BUCKETS - 1).astype(int)
    assert [n for _, _, n in first.histogram] == [int((buckets == b).sum()) for b in range(profile.BUCKETS)]
    assert [c.name for c in result.columns] == ["review_words", "product_category", "review_words_2"]
    assert result.columns[1].top[0][1] == kept.product_category.value_counts().iloc[0]


def test_profile_refuses_what_is_not_a_query() -> None:
    with pytest.raises(SqlError, match="Only a query"):
        profile.profile_result("SHOW TABLES", pd.DataFrame({"tab_name": ["x"]}), lambda sql: pd.DataFrame())


def test_a_top_value_opens_a_filter_built_as_a_literal(demo_backend: LocalBackend) -> None:
    table = demo_backend.get_table("demo", "reviews")
    sql = profile.filter_sql(table, "product_category", "Books' OR '1'='1")
    assert "'Books'' OR ''1''=''1'" in sql
    assert demo_backend.run_query(sql).frame.empty
    assert "IS NULL" in profile.filter_sql(table, "review_body", None)


def test_cli_profile_prints_json_and_saves(fresh_backend: LocalBackend) -> None:
    done = run_cli("profile", "--table", "demo.reviews", "--save", lake=fresh_backend.root)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert printed["rows"] == len(curated(fresh_backend.root))
    assert [c["ColumnName"] for c in printed["ColumnStatisticsList"]][-1] == "product_category"
    assert fresh_backend.column_statistics("demo", "reviews") is not None
    missing = run_cli("profile", "--table", "demo.nope", lake=fresh_backend.root)
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1 and "demo.nope" in missing.stderr


def test_aws_table_profile_from_athena_answers(aws_backend: AwsBackend, moto_server: str) -> None:
    seed_small_reviews(aws_backend)  # star_rating int, product_category partition key
    table = aws_backend.get_table("demo", "reviews")
    first = [
        column("rows", "bigint"),
        column("nn0", "bigint"),
        column("d0", "bigint"),
        column("min0", "integer"),
        column("max0", "integer"),
        column("mean0", "double"),
        column("nn1", "bigint"),
        column("d1", "bigint"),
        column("minlen1", "bigint"),
        column("maxlen1", "bigint"),
        column("avglen1", "double"),
    ]
    header = [c["Name"] for c in first]
    second = [column(n, t) for n, t in (("col", "integer"), ("part", "varchar"), ("value", "varchar"))]
    second += [column("bucket", "bigint"), column("n", "bigint")]
    seed_athena_results(
        moto_server,
        [
            (first, [header, ["5", "5", "4", "1", "5", "3.6", "5", "2", "4", "5", "4.4"]]),
            (
                second,
                [
                    ["col", "part", "value", "bucket", "n"],
                    ["1", "top", "Books", "0", "3"],
                    ["1", "top", "Toys", "0", "2"],
                ],
            ),
        ],
    )
    result = profile.profile_table(table, lambda sql: aws_backend.run_query(sql, max_rows=10_000).frame)
    stars, category = result.columns
    assert (stars.minimum, stars.maximum, stars.mean, stars.distinct) == (1, 5, 3.6, 4)
    assert category.top == [("Books", 3), ("Toys", 2)] and category.max_length == 5
    aws_backend.save_column_statistics("demo", "reviews", result.to_json())
    assert aws_backend.column_statistics("demo", "reviews")["rows"] == 5  # type: ignore[index]
    executions = aws_backend._client("athena").list_query_executions()["QueryExecutionIds"]
    queries = [
        aws_backend._client("athena").get_query_execution(QueryExecutionId=e)["QueryExecution"]["Query"]
        for e in executions
    ]
    assert any(q.startswith('SELECT COUNT(*) AS "rows", COUNT("star_rating")') for q in queries)


# -- plans --------------------------------------------------------------------------------------------------------
def test_local_plan_shows_the_partitions_and_filters_read(demo_backend: LocalBackend) -> None:
    files = len(list((demo_backend.root / "curated" / "reviews").glob("product_category=*/*.parquet")))
    plan = demo_backend.explain(
        "SELECT count(*) AS n FROM demo.reviews WHERE product_category = :cat AND star_rating >= 4",
        params={"cat": "Books"},
    )
    assert plan.tables == ["demo.reviews"]
    scan = plan.scans()[0]
    details = dict(scan.details)
    assert details["Scanning Files"] == f"1/{files}"
    assert "Books" in details["File Filters"] and "star_rating >= 4" in details["Filters"]
    assert "READ_PARQUET" in plan.text()


def test_aws_plan_is_athenas_explain_as_a_tree(aws_backend: AwsBackend, moto_server: str) -> None:
    seed_small_reviews(aws_backend)
    athena_plan = {
        "id": "9",
        "name": "Output",
        "descriptor": {"columnNames": "[n]"},
        "details": [],
        "estimates": [],
        "children": [
            {
                "id": "4",
                "name": "TableScan",
                "descriptor": {"table": "awsdatacatalog:demo:reviews"},
                "details": ["product_category := product_category:varchar:PARTITION_KEY", ":: [[Books]]"],
                "estimates": [{"outputRowCount": 3.0}],
                "children": [],
            }
        ],
    }
    lines = json.dumps(athena_plan, indent=2).splitlines()
    seed_athena_results(
        moto_server, [([column("Query Plan", "varchar")], [["Query Plan"], *[[line] for line in lines]])]
    )
    plan = aws_backend.explain(
        "SELECT count(*) AS n FROM demo.reviews WHERE product_category = :cat AND star_rating >= :s",
        params={"cat": "Books", "s": "4"},
    )
    scan = plan.scans()[0]
    assert scan.name == "TableScan" and dict(scan.details)["table"] == "awsdatacatalog:demo:reviews"
    assert ":: [[Books]]" in dict(scan.details)["details"]
    execution_ids = aws_backend._client("athena").list_query_executions()["QueryExecutionIds"]
    sent = aws_backend._client("athena").get_query_execution(QueryExecutionId=execution_ids[-1])["QueryExecution"]
    assert sent["Query"].startswith("EXPLAIN (FORMAT JSON)") and sent["ExecutionParameters"] == ["'Books'", "4"]


# -- format ---------------------------------------------------------------------------------------------------------
def test_format_rewrites_readably_and_keeps_comments_and_parameters() -> None:
    sql = (
        "-- :cat values from SELECT DISTINCT product_category FROM demo.reviews\n"
        "select product_category, count(*) n from demo.reviews where product_category = :cat -- the chosen one\n"
        "group by 1; show tables"
    )
    formatted = script.format_sql(sql)
    assert formatted.splitlines()[:4] == [
        "/* :cat values from SELECT DISTINCT product_category FROM demo.reviews */",
        "SELECT",
        "  product_category,",
        "  COUNT(*) AS n",
    ]
    assert "product_category = :cat /* the chosen one */" in formatted
    assert formatted.rstrip().endswith("show tables;")
    assert script.format_sql(formatted) == formatted  # formatting twice changes nothing
    with pytest.raises(SqlError, match="line 1"):
        script.format_sql("SELECT (1")


def test_aws_result_profile_wraps_the_query_and_binds_its_parameters(aws_backend: AwsBackend, moto_server: str) -> None:
    seed_small_reviews(aws_backend)
    frame = pd.DataFrame({"star_rating": pd.array([5, 4], dtype="Int64")})
    first = [column(n, t) for n, t in (("rows", "bigint"), ("nn0", "bigint"), ("d0", "bigint"), ("min0", "integer"))]
    first += [column("max0", "integer"), column("mean0", "double")]
    second = [column(n, t) for n, t in (("col", "integer"), ("part", "varchar"), ("value", "varchar"))]
    second += [column("bucket", "bigint"), column("n", "bigint")]
    seed_athena_results(
        moto_server,
        [
            (first, [[c["Name"] for c in first], ["3", "3", "3", "1", "5", "3.3333"]]),
            (second, [[c["Name"] for c in second], ["0", "top", "5", "0", "1"], ["0", "histogram", None, "9", "1"]]),
        ],
    )
    sql = "SELECT star_rating FROM demo.reviews WHERE product_category = :cat"
    result = profile.profile_result(
        sql, frame, lambda text: aws_backend.run_query(text, max_rows=10_000, params={"cat": "Books"}).frame
    )
    (stars,) = result.columns
    assert (result.rows, stars.minimum, stars.maximum, stars.distinct) == (3, 1, 5, 3)
    assert stars.histogram[-1][2] == 1 and sum(n for _, _, n in stars.histogram) == 1
    athena = aws_backend._client("athena")
    sent = [
        athena.get_query_execution(QueryExecutionId=e)["QueryExecution"]
        for e in athena.list_query_executions()["QueryExecutionIds"]
    ]
    profiled = [q for q in sent if q["Query"].startswith('WITH "q"("c0") AS (SELECT star_rating')]
    assert len(profiled) == 2 and all(q["ExecutionParameters"] == ["'Books'"] for q in profiled)
