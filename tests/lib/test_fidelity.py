"""Real review files, the course's numbers: each file is ingested from the command line into a lake that does not
exist yet, and ``python -m lib sentiment summary`` is compared with the course notebook's pandas steps on the same
file (tests/course_notebook.py) and the bias metrics with smclarify, the library SageMaker Clarify runs.

The files are written by tests/real_files.py in the layouts real ones come in (the Kaggle clothing CSV, the
Amazon reviews TSV, a Datafiniti-style CSV with BOM and CRLF); no number is written down here.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from tests import course_notebook as course
from tests.real_files import write_amazon_tsv, write_datafiniti_csv, write_kaggle_clothing

ROOT = Path(__file__).resolve().parents[2]
SMCLARIFY = ROOT / ".venv-smclarify" / "bin" / "python"


@dataclass(frozen=True)
class Shape:
    name: str
    write: Any
    read: Any  # how the course's pandas reads the file
    rating: str  # column names in the file
    text: str
    category: str
    table_columns: tuple[str, str, str]  # the same columns in the table (Glue-safe names)


SHAPES = [
    Shape(
        "kaggle_clothing.csv",
        write_kaggle_clothing,
        lambda p: pd.read_csv(p),
        "Rating",
        "Review Text",
        "Class Name",
        ("rating", "review_text", "class_name"),
    ),
    Shape(
        "amazon_reviews_us_Apparel_v1_00.tsv",
        write_amazon_tsv,
        lambda p: pd.read_csv(p, sep="\t", quoting=csv.QUOTE_NONE),
        "star_rating",
        "review_body",
        "product_category",
        ("star_rating", "review_body", "product_category"),
    ),
    Shape(
        "datafiniti_reviews.csv",
        write_datafiniti_csv,
        lambda p: pd.read_csv(p),
        "reviews.rating",
        "reviews.text",
        "primaryCategories",
        ("reviews_rating", "reviews_text", "primarycategories"),
    ),
]


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKELENS_")}
    done = subprocess.run(
        [sys.executable, "-m", "lib", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    if check:
        assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="module", params=SHAPES, ids=lambda s: s.name)
def ingested(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Shape, Path, Path]:
    shape: Shape = request.param
    folder = tmp_path_factory.mktemp("files")
    path = shape.write(folder / shape.name)
    lake = folder / "new-lake"  # does not exist: ingest creates it
    assert not lake.exists()
    cli("ingest", str(path), "--database", "shop", "--table", "reviews", "--curated", "--root", str(lake))
    return shape, path, lake


def summary(shape: Shape, lake: Path, *extra: str) -> dict[str, Any]:
    rating, text, category = shape.table_columns
    done = cli(
        "sentiment",
        "summary",
        "--table",
        "shop.reviews",
        "--root",
        str(lake),
        "--rating-col",
        rating,
        "--text-col",
        text,
        "--category-col",
        category,
        *extra,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_summary_with_the_course_switch_equals_the_notebook(ingested: tuple[Shape, Path, Path]) -> None:
    shape, path, lake = ingested
    frame = shape.read(path)
    expected = course.summary(course.prepare(frame, shape.rating, shape.text, shape.category))
    got = summary(shape, lake, "--course")
    assert got["reviews"] == expected["reviews"]
    assert got["by_sentiment"] == expected["by_sentiment"]
    assert got["words"]["mean"] == pytest.approx(expected["words"]["mean"], rel=1e-9)
    assert got["words"]["median"] == expected["words"]["median"]
    assert got["words"]["max"] == expected["words"]["max"]
    assert set(got["categories"]) == set(expected["categories"])
    for name, numbers in expected["categories"].items():
        assert got["categories"][name]["reviews"] == numbers["reviews"], name
        assert got["categories"][name]["average_sentiment"] == pytest.approx(numbers["average_sentiment"], abs=1e-12)
    # the steps removed exactly what the notebook's dropna and small-category filter remove, in that order
    steps = got["steps"]
    assert steps[0]["left"] + steps[0]["removed"] == len(frame)
    assert steps[-1]["left"] == expected["reviews"]
    assert sum(step["removed"] for step in steps) == len(frame) - expected["reviews"]


def test_missing_values_are_counted_as_pandas_counts_them(ingested: tuple[Shape, Path, Path]) -> None:
    shape, path, lake = ingested
    frame = shape.read(path)
    got = summary(shape, lake)
    assert got["reviews"] == len(frame)  # nothing dropped without the switch
    assert got["missing"] == course.missing(frame, shape.rating, shape.text, shape.category)
    assert got["missing"]["text"] > 0  # the fixtures have reviews without text
    # words per review without the switch: every review with text, whatever its rating or category
    texts = frame[shape.text].where(frame[shape.text].astype(str).str.strip() != "").dropna()
    assert got["words"]["reviews_without_text"] == len(frame) - len(texts)
    assert got["words"]["max"] == texts.str.split(" ").str.len().max()


def test_empty_fields_are_null_in_the_curated_table(ingested: tuple[Shape, Path, Path]) -> None:
    shape, path, lake = ingested
    frame = shape.read(path)
    _, text, category = shape.table_columns
    con = duckdb.connect()
    files = str(lake / "curated" / "shop" / "reviews" / "*.parquet")
    nulls, empties = con.execute(
        f"SELECT count(*) FILTER (\"{text}\" IS NULL), count(*) FILTER (\"{text}\" = '') FROM read_parquet('{files}')"
    ).fetchone()  # type: ignore[misc]
    assert (nulls, empties) == (int(frame[shape.text].isna().sum()), 0)
    (category_nulls,) = con.execute(
        f"SELECT count(*) FILTER (\"{category}\" IS NULL) FROM read_parquet('{files}')"
    ).fetchone()  # type: ignore[misc]
    assert category_nulls == int(frame[shape.category].isna().sum())


def test_bias_metrics_equal_smclarify(ingested: tuple[Shape, Path, Path], tmp_path: Path) -> None:
    if not SMCLARIFY.exists():
        if os.environ.get("CI"):
            pytest.fail(".venv-smclarify is missing: `make test` installs it (requirements-smclarify.txt)")
        pytest.skip("smclarify's venv is not installed; `make test` installs it")
    shape, path, lake = ingested
    prepared = course.prepare(shape.read(path), shape.rating, shape.text, shape.category)
    rows = tmp_path / "rows.csv"
    prepared[["product_category", "sentiment"]].to_csv(rows, index=False)
    done = subprocess.run(
        [
            str(SMCLARIFY),
            str(ROOT / "tests" / "tools" / "smclarify_metrics.py"),
            str(rows),
            "product_category",
            "sentiment",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    expected = json.loads(done.stdout)
    got = summary(shape, lake, "--course")["bias"]
    assert set(got) == set(expected)
    for category, metrics in expected.items():
        for metric, value in metrics.items():
            assert got[category][metric] == pytest.approx(value, abs=1e-6), (category, metric)


def test_balance_by_sentiment_keeps_three_times_the_smallest_class(ingested: tuple[Shape, Path, Path]) -> None:
    shape, path, lake = ingested
    prepared = course.prepare(shape.read(path), shape.rating, shape.text, shape.category)
    rating, text, category = shape.table_columns
    cli(
        "sentiment", "balance", "--table", "shop.reviews", "--out-table", "shop.balanced", "--course",
        "--rating-col", rating, "--text-col", text, "--category-col", category, "--root", str(lake),
    )  # fmt: skip
    files = str(lake / "curated" / "shop" / "balanced" / "*.parquet")
    per_class = duckdb.sql(f"SELECT sentiment, count(*) FROM read_parquet('{files}') GROUP BY 1 ORDER BY 1").fetchall()
    smallest = int(prepared.groupby("sentiment").size().min())
    assert per_class == [(-1, smallest), (0, smallest), (1, smallest)]
    assert sum(n for _, n in per_class) == course.balanced_size(prepared)


def test_a_bad_table_or_column_is_one_line_and_a_non_zero_exit(ingested: tuple[Shape, Path, Path]) -> None:
    _, _, lake = ingested
    for args in (
        ("--table", "shop.nope"),
        ("--table", "nodot"),
        ("--table", "shop.reviews", "--text-col", "no_such_column"),
    ):
        done = cli("sentiment", "summary", *args, "--root", str(lake), check=False)
        assert done.returncode == 1
        assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: "), done.stderr
        assert "Traceback" not in done.stderr
