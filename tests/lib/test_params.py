"""Named parameters and scripts on both backends.

Expected values locally come from pyarrow reading the demo lake's Parquet files directly (never through
LakeLens); on aws, moto does not execute SQL, so the test checks what Athena was sent (the SQL with ``?`` and the
ExecutionParameters) and queues the result moto hands back.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from lib import sql as sqlmod
from lib.backends.aws import AwsBackend
from lib.backends.local import LocalBackend
from lib.errors import ParameterError
from lib.sql import params as paramsmod
from lib.sql import script
from tests.aws_fixtures import column, seed_athena_results, seed_small_reviews
from tests.lib.test_cli import run_cli

pytest_plugins = ("tests.aws_fixtures",)


def curated(root: Path) -> object:
    return ds.dataset(root / "curated" / "reviews", format="parquet", partitioning="hive").to_table().to_pandas()


def test_parameters_are_found_and_typed_from_the_catalog(demo_backend: LocalBackend) -> None:
    sql = (
        "-- :cat values from SELECT DISTINCT product_category FROM demo.reviews ORDER BY 1\n"
        "SELECT * FROM demo.reviews\n"
        "WHERE product_category = :cat AND star_rating >= :stars AND review_date > :since AND ':not_me' <> ''\n"
        "-- :in_a_comment is not a parameter\n"
        "LIMIT :n"
    )
    found = paramsmod.find(sql, [demo_backend.get_table("demo", "reviews")])
    assert [(p.name, p.kind) for p in found] == [
        ("cat", "text"),
        ("stars", "number"),
        ("since", "date"),
        ("n", "number"),
    ]
    assert found[0].values_sql == "SELECT DISTINCT product_category FROM demo.reviews ORDER BY 1"
    assert all(p.values_sql is None for p in found[1:])


def test_local_values_are_bound_and_filter_as_written(demo_backend: LocalBackend, demo_lake_dir: Path) -> None:
    frame = curated(demo_lake_dir)
    expected = int(((frame["product_category"] == "Books") & (frame["star_rating"] >= 4)).sum())  # type: ignore[index]
    sql = "SELECT count(*) AS n FROM demo.reviews WHERE product_category = :cat AND star_rating >= :stars"
    result = demo_backend.run_query(sql, params={"cat": "Books", "stars": "4"})
    assert result.frame["n"][0] == expected > 0
    assert "$cat" in result.stats.sql_executed and "Books" not in result.stats.sql_executed  # bound, not pasted


def test_a_quote_in_a_value_is_a_string_that_matches_nothing(demo_backend: LocalBackend) -> None:
    sql = "SELECT count(*) AS n FROM demo.reviews WHERE product_category = :cat"
    assert demo_backend.run_query(sql, params={"cat": "x' OR '1'='1"}).frame["n"][0] == 0


def test_dates_and_limits(demo_backend: LocalBackend, demo_lake_dir: Path) -> None:
    frame = curated(demo_lake_dir)
    since = date(2015, 1, 1)
    expected = int((frame["review_date"] > since).sum())  # type: ignore[index,operator]
    got = demo_backend.run_query(
        "SELECT count(*) AS n FROM demo.reviews WHERE review_date > :since", params={"since": "2015-01-01"}
    )
    assert got.frame["n"][0] == expected
    limited = demo_backend.run_query("SELECT review_id FROM demo.reviews LIMIT :n", params={"n": "3"})
    assert len(limited.frame) == 3


@pytest.mark.parametrize(
    "given, message",
    [
        ({}, "uses :cat but no value was given"),
        ({"cat": "Books", "other": "1"}, "Unknown parameter :other"),
    ],
)
def test_missing_and_unknown_parameters_are_one_sentence(
    demo_backend: LocalBackend, given: dict[str, str], message: str
) -> None:
    with pytest.raises(ParameterError, match=message):
        demo_backend.run_query("SELECT * FROM demo.reviews WHERE product_category = :cat", params=given)


@pytest.mark.parametrize(
    "sql, value, message",
    [
        ("SELECT 1 FROM demo.reviews WHERE star_rating = :r", "four", ":r must be a number"),
        ("SELECT 1 FROM demo.reviews WHERE star_rating = :r", "nan", ":r must be a number"),
        ("SELECT 1 FROM demo.reviews WHERE review_date = :r", "31/01/2020", ":r must be a date"),
        ("SELECT 1 FROM demo.reviews WHERE product_category = :r", "x" * 2000, "up to 1,024 characters"),
    ],
)
def test_values_of_the_wrong_type_are_refused(demo_backend: LocalBackend, sql: str, value: str, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        demo_backend.run_query(sql, params={"r": value})


def test_a_bare_question_mark_says_what_to_write(demo_backend: LocalBackend) -> None:
    with pytest.raises(ParameterError, match="write :name instead"):
        demo_backend.run_query("SELECT * FROM demo.reviews WHERE star_rating = ?")


# -- aws ------------------------------------------------------------------------------------------------------
def test_aws_sends_execution_parameters_not_text(aws_backend: AwsBackend, moto_server: str) -> None:
    seed_small_reviews(aws_backend)
    seed_athena_results(moto_server, [([column("n", "bigint")], [["n"], ["0"]])])
    sql = "SELECT count(*) AS n FROM demo.reviews WHERE product_category = :cat AND star_rating >= :stars -- :cat"
    result = aws_backend.run_query(sql, params={"cat": "x' OR '1'='1", "stars": "4"}, query_id="p-1")
    assert result.frame["n"].tolist() == [0]
    execution = aws_backend._client("athena").get_query_execution(
        QueryExecutionId=aws_backend.athena_execution_id("p-1")
    )["QueryExecution"]
    assert execution["Query"] == (
        "SELECT count(*) AS n FROM demo.reviews WHERE product_category = ? AND star_rating >= ? -- :cat"
    )
    # The string is one quoted literal with its quotes doubled; the rating is a number (typed from Glue's int).
    assert execution["ExecutionParameters"] == ["'x'' OR ''1''=''1'", "4"]


def test_aws_dates_and_wrong_types(aws_backend: AwsBackend) -> None:
    seed_small_reviews(aws_backend)
    sql = "SELECT * FROM demo.reviews WHERE star_rating = :r AND d > CAST(:d AS DATE)"
    bound = aws_backend._bind(sql, sqlmod.check(sql), {"r": 5, "d": "2024-02-29"})
    assert bound.athena_parameters == ["5", "DATE '2024-02-29'"]
    with pytest.raises(ParameterError, match=":r must be a number"):
        aws_backend.run_query("SELECT * FROM demo.reviews WHERE star_rating = :r", params={"r": "1; DROP TABLE x"})


# -- scripts and PREPARE/EXECUTE --------------------------------------------------------------------------------
def test_a_script_runs_each_statement_and_stops_at_the_first_failure(demo_backend: LocalBackend) -> None:
    sql = (
        "SELECT 1 AS a; -- first\n"
        "SELECT ';' AS semicolon_in_a_string, :x AS x;\n"
        "DROP TABLE demo.reviews;\n"
        "SELECT 3 AS never"
    )
    outcomes = script.run(sql, lambda text, bound: demo_backend.run_query(text, params=bound), {"x": "hi"})
    assert len(outcomes) == 3
    assert outcomes[0].result is not None and outcomes[0].result.frame["a"].tolist() == [1]
    second = outcomes[1].result
    assert second is not None and second.frame.iloc[0].tolist() == [";", "hi"]
    assert outcomes[2].result is None and "read-only" in outcomes[2].error
    assert "reviews" in demo_backend.run_query("SHOW TABLES IN demo").frame["tab_name"].tolist()


def test_prepare_and_execute_bind_like_parameters(demo_backend: LocalBackend, demo_lake_dir: Path) -> None:
    frame = curated(demo_lake_dir)
    expected = int(((frame["product_category"] == "Books") & (frame["star_rating"] >= 4)).sum())  # type: ignore[index]
    sql = (
        "PREPARE by_cat FROM SELECT count(*) AS n FROM demo.reviews WHERE product_category = ? AND star_rating >= ?;\n"
        "EXECUTE by_cat USING 'Books', 4;\n"
        "EXECUTE by_cat USING 'x'' OR ''1''=''1', 1"
    )
    outcomes = script.run(sql, lambda text, bound: demo_backend.run_query(text, params=bound))
    assert outcomes[0].note.startswith("Prepared by_cat")
    assert [o.result.frame["n"][0] for o in outcomes[1:] if o.result is not None] == [expected, 0]


@pytest.mark.parametrize(
    "sql, message",
    [
        ("EXECUTE nope USING 1", "no PREPARE nope"),
        ("PREPARE s FROM SELECT ?; EXECUTE s USING 1, 2", "gives 2 value"),
        ("PREPARE s FROM SELECT ?; EXECUTE s USING (SELECT 1)", "literal values only"),
        ("PREPARE s FROM SELECT ?; EXECUTE s USING review_body", "literal values only"),
    ],
)
def test_execute_mistakes_are_one_sentence(demo_backend: LocalBackend, sql: str, message: str) -> None:
    outcomes = script.run(sql, lambda text, bound: demo_backend.run_query(text, params=bound))
    assert message in outcomes[-1].error and outcomes[-1].result is None


def test_aws_execute_sends_the_values_as_execution_parameters(aws_backend: AwsBackend, moto_server: str) -> None:
    seed_small_reviews(aws_backend)
    seed_athena_results(moto_server, [([column("n", "bigint")], [["n"], ["2"]])])
    sql = "PREPARE s FROM SELECT count(*) AS n FROM demo.reviews WHERE product_category = ?; EXECUTE s USING 'Books'"
    outcomes = script.run(sql, lambda text, bound: aws_backend.run_query(text, params=bound, query_id="e-1"))
    assert outcomes[1].result is not None and outcomes[1].result.frame["n"].tolist() == [2]
    execution = aws_backend._client("athena").get_query_execution(
        QueryExecutionId=aws_backend.athena_execution_id("e-1")
    )["QueryExecution"]
    assert execution["Query"].endswith("product_category = ?") and execution["ExecutionParameters"] == ["'Books'"]


# -- CLI ------------------------------------------------------------------------------------------------------
def test_cli_param(demo_lake_dir: Path) -> None:
    frame = curated(demo_lake_dir)
    expected = int((frame["product_category"] == "Books").sum())  # type: ignore[index]
    sql = "SELECT count(*) AS n FROM demo.reviews WHERE product_category = :cat"
    done = run_cli("query", "--sql", sql, "--param", "cat=Books", lake=demo_lake_dir)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["n", str(expected)]


@pytest.mark.parametrize(
    "extra, message",
    [
        ([], "uses :cat but no value was given"),
        (["--param", "cat=Books", "--param", "dog=Rex"], "Unknown parameter :dog"),
        (["--param", "cat"], "is not NAME=VALUE"),
    ],
)
def test_cli_missing_or_unknown_parameter_is_one_line(demo_lake_dir: Path, extra: list[str], message: str) -> None:
    sql = "SELECT count(*) AS n FROM demo.reviews WHERE product_category = :cat"
    done = run_cli("query", "--sql", sql, *extra, lake=demo_lake_dir)
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0 and message in done.stderr and "Traceback" not in done.stderr


def test_cli_runs_a_script_and_stops_at_a_failure(demo_lake_dir: Path) -> None:
    done = run_cli(
        "query", "--sql", "SELECT 1 AS a; SELECT 'x' AS b; DROP TABLE demo.reviews; SELECT 3", lake=demo_lake_dir
    )
    assert done.returncode == 1
    assert done.stdout.split() == ["a", "1", "b", "x"]
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: statement 3:") and "read-only" in last and "Traceback" not in done.stderr
