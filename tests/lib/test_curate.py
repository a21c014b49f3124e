"""Curate what is already in the lake: the demo's raw TSV zone becomes a partitioned Parquet table; its numbers are
checked against pandas reading the raw files as the course does, and a refused, replaced or cancelled curate
leaves the lake as it was."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest

from lib.backends.local import LocalBackend
from lib.errors import IngestCancelled, IngestError, TableNotFound
from lib.lake import curate, demo
from tests.conftest import copy_lake, local_settings

ROOT = Path(__file__).resolve().parents[2]
ROWS = 30_000


@pytest.fixture(scope="module")
def built_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 30,000-review demo lake, built once for the module (read-only: tests get a copy)."""
    root = tmp_path_factory.mktemp("curate") / "lake"
    backend = LocalBackend(local_settings(root))
    demo.build(backend, ROWS)
    backend.close()
    return root


@pytest.fixture
def lake(built_lake: Path, tmp_path: Path) -> LocalBackend:
    """A private copy of the module's demo lake, which the test may curate into."""
    return LocalBackend(local_settings(copy_lake(built_lake, tmp_path / "lake")))


def raw_frame(lake: Path) -> pd.DataFrame:
    """The raw zone read with pandas as the course reads the Amazon TSVs (an empty field is missing)."""
    files = sorted((lake / "raw" / "reviews").glob("*.tsv"))
    return pd.concat(pd.read_csv(f, sep="\t", quoting=csv.QUOTE_NONE) for f in files)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKELENS_")}
    return subprocess.run(
        [sys.executable, "-m", "lib", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_the_raw_zone_curates_into_a_partitioned_table(lake: LocalBackend) -> None:
    done = cli(
        "curate", "--from-table", "demo.reviews_raw", "--table", "shop.reviews", "--partition-by", "product_category",
        "--root", str(lake.root),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "reads about" in done.stderr and "rows curated" in done.stderr
    frame = raw_frame(lake.root)
    table = lake.get_table("shop", "reviews")
    assert [k.name for k in table.partition_keys] == ["product_category"]
    assert table.format == "parquet" and table.location == "lake://curated/shop/reviews/"
    got = lake.run_query(
        "SELECT product_category, count(*) AS n, count(review_body) AS texts, sum(star_rating) AS stars "
        "FROM shop.reviews GROUP BY 1",
        max_rows=100,
    ).frame.set_index("product_category")
    expected = (
        frame.fillna({"product_category": "<none>"})
        .groupby("product_category")
        .agg(n=("product_category", "size"), texts=("review_body", "count"), stars=("star_rating", "sum"))
    )
    got.index = got.index.fillna("<none>")
    assert got.sort_index().astype("int64").to_dict() == expected.sort_index().astype("int64").to_dict()
    folders = {p.name for p in (lake.root / "curated" / "shop" / "reviews").iterdir()}
    named = {f"product_category={c}" for c in expected.index if c != "<none>"}
    assert folders == named | {"product_category=__HIVE_DEFAULT_PARTITION__"}  # no category: Hive's NULL folder
    assert not [p for p in lake.root.iterdir() if p.name.startswith(".lakelens-tmp")]  # the scratch folder is gone


def test_an_existing_table_is_kept_unless_replaced(lake: LocalBackend) -> None:
    plan = curate.plan_curate(lake, "demo.reviews_raw", "shop.copy")
    curate.curate(lake, plan)
    first = sorted(p.name for p in (lake.root / "curated" / "shop" / "copy").iterdir())
    with pytest.raises(IngestError, match="already exists; pass --replace"):
        curate.curate(lake, plan)
    plan = curate.plan_curate(lake, "demo.reviews_raw", "shop.copy", partition_by="star_rating")
    result = curate.curate(lake, plan, replace_existing=True)
    assert result.rows == ROWS
    after = sorted(p.name for p in (lake.root / "curated" / "shop" / "copy").iterdir())
    assert after == [f"star_rating={n}" for n in range(1, 6)] and first == ["part-0.parquet"]  # old file gone
    counts = lake.run_query("SELECT star_rating, count(*) AS n FROM shop.copy GROUP BY 1 ORDER BY 1").frame
    expected = raw_frame(lake.root)["star_rating"].value_counts().sort_index()
    assert list(counts["n"]) == list(expected)


def test_cancel_leaves_nothing(lake: LocalBackend) -> None:
    plan = curate.plan_curate(lake, "demo.reviews_raw", "shop.cancelled", partition_by="product_category")
    stop = threading.Event()
    stop.set()  # cancelled before the statement finishes (the watcher interrupts at its first look)
    with pytest.raises(IngestCancelled):
        curate.curate(lake, plan, cancel=stop)
    assert not (lake.root / "curated" / "shop").exists()
    with pytest.raises(TableNotFound):
        lake.get_table("shop", "cancelled")
    assert not [p for p in lake.root.iterdir() if p.name.startswith(".lakelens-tmp")]


def test_bad_names_are_one_line(lake: LocalBackend) -> None:
    for args, words in (
        (("--from-table", "demo.nope", "--table", "shop.t"), "does not exist"),
        (("--from-table", "demo.reviews_raw", "--table", "nodot"), "database.table"),
        (("--from-table", "demo.reviews_raw", "--table", "demo.reviews_raw"), "name of its own"),
        (("--from-table", "demo.reviews_raw", "--table", "shop.t", "--partition-by", "nope"), "no column"),
    ):
        done = cli("curate", *args, "--root", str(lake.root))
        errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
        assert done.returncode == 1 and len(errors) == 1 and words in errors[0], done.stderr
        assert "Traceback" not in done.stderr


def test_athena_partition_batches_stay_within_100_partitions() -> None:
    """Athena writes at most 100 partitions a statement: 250 values and a NULL make three batches."""
    from lib.catalog import Column, TableDef

    source = TableDef("demo", "raw", [Column("category", "string"), Column("x", "int")], "s3://b/raw/")
    columns = [source.columns[1], source.columns[0]]  # plan_curate puts the partition key last
    plan = curate.CuratePlan(source, "demo", "t", "category", columns, "curated/demo/t/", 0, "Athena")
    values = [f"c{i:03d}" for i in range(250)] + [None]
    batches = curate.partition_batches(plan, values)
    assert len(batches) == 3
    counts = [b.count("'c") + b.count("IS NULL") for b in batches]
    assert counts == [100, 100, 51] and sum(counts) == 251
    assert sum(b.count("IS NULL") for b in batches) == 1
    assert "O'Brien" not in curate.partition_batches(plan, ["O'Brien"])[0]  # quotes are doubled
    sql = curate.ctas_sql(plan, "t_work", "s3://b/curated/demo/t/run-1/", batches[0])
    assert sql.startswith('CREATE TABLE "demo"."t_work" WITH (format = \'PARQUET\'')
    assert "partitioned_by = ARRAY['category']" in sql and sql.index('"x"') < sql.index(
        '"category"', sql.index("SELECT")
    )
