"""Whole-result downloads on the aws backend: Athena's result object streamed to a file, typed for Parquet."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from lib.backends.aws import AwsBackend
from lib.errors import SqlRefused
from tests.aws_fixtures import column, seed_athena_results

pytest_plugins = ("tests.aws_fixtures",)

COLUMNS = [column("product_category", "varchar"), column("n", "bigint")]
ROWS = [["product_category", "n"], ["Books", "12"], ["Music", "3"], ["Toys", None]]


def test_csv_download_is_athenas_result(aws_backend: AwsBackend, moto_server: str, tmp_path: Path) -> None:
    seed_athena_results(moto_server, [(COLUMNS, ROWS)])
    out = tmp_path / "result.csv"
    rows = aws_backend.export("SELECT product_category, count(*) AS n FROM demo.reviews GROUP BY 1", out, "csv")
    assert rows == 3
    lines = out.read_text().splitlines()
    assert lines[0].replace('"', "") == "product_category,n"
    assert "Books" in lines[1] and "12" in lines[1]


def test_parquet_and_json_downloads_are_typed(aws_backend: AwsBackend, moto_server: str, tmp_path: Path) -> None:
    seed_athena_results(moto_server, [(COLUMNS, ROWS), (COLUMNS, ROWS)])
    parquet = tmp_path / "result.parquet"
    assert aws_backend.export("SELECT 1", parquet, "parquet") == 3
    table = pq.read_table(parquet)
    assert str(table.schema.field("n").type) == "int64"
    assert table.column("n").to_pylist() == [12, 3, None]
    jsonl = tmp_path / "result.json"
    assert aws_backend.export("SELECT 1", jsonl, "json") == 3
    first = json.loads(jsonl.read_text().splitlines()[0])
    assert first == {"product_category": "Books", "n": 12}


def test_download_goes_through_the_guard(aws_backend: AwsBackend, tmp_path: Path) -> None:
    with pytest.raises(SqlRefused):
        aws_backend.export("DROP TABLE demo.reviews", tmp_path / "x.csv", "csv")
    assert not (tmp_path / "x.csv").exists()


def test_parquet_download_keeps_each_integer_and_float_width(
    aws_backend: AwsBackend, moto_server: str, tmp_path: Path
) -> None:
    """An int column must stay int32 as it is on the local backend (a balanced table is written from this file)."""
    columns = [column("stars", "integer"), column("votes", "bigint"), column("small", "smallint"), column("r", "real")]
    seed_athena_results(moto_server, [(columns, [["stars", "votes", "small", "r"], ["5", "7", "2", "0.5"]])])
    parquet = tmp_path / "result.parquet"
    aws_backend.export("SELECT 1", parquet, "parquet")
    types = {field.name: str(field.type) for field in pq.read_schema(parquet)}
    assert types == {"stars": "int32", "votes": "int64", "small": "int16", "r": "float"}
