"""The bytes-to-scan estimate, checked against the sizes of the files on disk (read with os, not the backend)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lib.backends.local import LocalBackend
from lib.sql.estimate import ATHENA_MIN_BYTES, athena_cost_usd, estimate_scan

CURATED = Path("curated") / "reviews"
RAW = Path("raw") / "reviews"


def size_on_disk(root: Path, *folders: Path) -> int:
    """Bytes of the data files under each folder, skipping names Athena skips (leading '_' or '.')."""
    total = 0
    for folder in folders:
        for dirpath, dirnames, filenames in os.walk(root / folder):
            dirnames[:] = [d for d in dirnames if not d.startswith(("_", "."))]
            total += sum(os.path.getsize(Path(dirpath) / f) for f in filenames if not f.startswith(("_", ".")))
    return total


def category(name: str) -> Path:
    return CURATED / f"product_category={name}"


def categories(root: Path) -> list[str]:
    return sorted(p.name.split("=", 1)[1] for p in (root / CURATED).iterdir() if p.is_dir())


def test_whole_table(demo_backend: LocalBackend, demo_lake_dir: Path) -> None:
    scan = estimate_scan(demo_backend, "SELECT * FROM demo.reviews")
    assert scan.bytes == size_on_disk(demo_lake_dir, CURATED)
    assert scan.complete
    (table,) = scan.tables
    assert table.partitions_read == table.partitions_total == len(categories(demo_lake_dir))


def test_unpartitioned_text_table(demo_backend: LocalBackend, demo_lake_dir: Path) -> None:
    scan = estimate_scan(demo_backend, "SELECT count(*) FROM demo.reviews_raw")
    assert scan.bytes == size_on_disk(demo_lake_dir, RAW)
    assert scan.tables[0].partitions_total is None


def test_equality_on_the_partition_key_prunes(demo_backend: LocalBackend, demo_lake_dir: Path) -> None:
    scan = estimate_scan(
        demo_backend, "SELECT * FROM demo.reviews WHERE product_category = 'Books' AND star_rating > 3"
    )
    assert scan.bytes == size_on_disk(demo_lake_dir, category("Books"))
    assert scan.tables[0].partitions_read == 1
    assert scan.tables[0].filters == {"product_category": ("Books",)}
    assert "1 of" in scan.describe()


def test_in_list_and_reversed_equality(demo_backend: LocalBackend, demo_lake_dir: Path) -> None:
    scan = estimate_scan(
        demo_backend, "SELECT * FROM demo.reviews r WHERE r.product_category IN ('Books', 'Toys', 'Nope')"
    )
    assert scan.bytes == size_on_disk(demo_lake_dir, category("Books"), category("Toys"))
    reversed_scan = estimate_scan(demo_backend, "SELECT * FROM demo.reviews WHERE 'Toys' = product_category")
    assert reversed_scan.bytes == size_on_disk(demo_lake_dir, category("Toys"))


def test_contradiction_reads_nothing(demo_backend: LocalBackend) -> None:
    scan = estimate_scan(
        demo_backend, "SELECT * FROM demo.reviews WHERE product_category = 'Books' AND product_category = 'Toys'"
    )
    assert scan.bytes == 0 and scan.tables[0].partitions_read == 0


@pytest.mark.parametrize(
    "where",
    [
        "product_category = 'Books' OR star_rating = 1",
        "NOT (product_category = 'Books')",
        "product_category <> 'Books'",
        "product_category LIKE 'Boo%'",
        "star_rating = 5",
        "other.product_category = 'Books'",
    ],
)
def test_filters_that_cannot_prune_read_everything(demo_backend: LocalBackend, demo_lake_dir: Path, where: str) -> None:
    sql = f"SELECT * FROM demo.reviews, (SELECT 'Books' AS product_category) other WHERE {where}"
    scan = estimate_scan(demo_backend, sql)
    assert scan.tables[0].bytes == size_on_disk(demo_lake_dir, CURATED)


def test_each_table_of_a_join_and_a_cte(demo_backend: LocalBackend, demo_lake_dir: Path) -> None:
    sql = (
        "WITH books AS (SELECT * FROM demo.reviews WHERE product_category = 'Books') "
        "SELECT count(*) FROM books b JOIN demo.reviews_raw r ON b.review_id = r.review_id"
    )
    scan = estimate_scan(demo_backend, sql)
    assert scan.bytes == size_on_disk(demo_lake_dir, category("Books"), RAW)
    assert {t.table for t in scan.tables} == {"demo.reviews", "demo.reviews_raw"}


def test_default_database_and_three_part_names(demo_backend: LocalBackend, demo_lake_dir: Path) -> None:
    whole = size_on_disk(demo_lake_dir, CURATED)
    assert estimate_scan(demo_backend, "SELECT * FROM reviews").bytes == whole
    assert estimate_scan(demo_backend, "SELECT * FROM awsdatacatalog.demo.reviews").bytes == whole


@pytest.mark.parametrize("sql", ["SHOW TABLES", "DESCRIBE demo.reviews", "EXPLAIN SELECT * FROM demo.reviews"])
def test_statements_that_read_no_data(demo_backend: LocalBackend, sql: str) -> None:
    scan = estimate_scan(demo_backend, sql)
    assert scan.bytes == 0 and scan.tables == [] and scan.describe() == "reads no table data"


def test_object_cap_makes_a_lower_bound(demo_backend: LocalBackend, demo_lake_dir: Path) -> None:
    scan = estimate_scan(demo_backend, "SELECT * FROM demo.reviews", object_cap=3)
    assert not scan.complete
    assert 0 < scan.bytes < size_on_disk(demo_lake_dir, CURATED)
    assert scan.describe().startswith("at least")


def test_athena_price() -> None:
    # $5 per TB (10**12 bytes), with 10 MB billed at least.
    assert athena_cost_usd(0) == athena_cost_usd(ATHENA_MIN_BYTES) == pytest.approx(10e6 / 1e12 * 5)
    assert athena_cost_usd(10**12) == pytest.approx(5.0)
    assert athena_cost_usd(3 * 10**12) == pytest.approx(15.0)


def test_a_self_join_reads_the_table_once_per_reference(demo_backend: LocalBackend, demo_lake_dir: Path) -> None:
    scan = estimate_scan(demo_backend, "SELECT count(*) FROM demo.reviews a JOIN demo.reviews b USING (review_id)")
    assert scan.bytes == 2 * size_on_disk(demo_lake_dir, CURATED)
    assert "(read 2 times)" in scan.describe()


# -- the same estimate on S3 + Glue (moto) -----------------------------------------------------------------------
from tests.aws_fixtures import aws_backend, aws_settings, moto_server  # noqa: E402, F401  (pytest fixtures)


def test_estimate_on_s3_and_glue(aws_backend) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from lib.catalog import Column, parquet_table

    sizes = {"Books": 1_000, "Toys": 250, "PC": 40}
    for category, size in sizes.items():
        aws_backend.write(f"curated/reviews/product_category={category}/part-0.parquet", b"x" * size)
    aws_backend.write("curated/reviews/product_category=Books/_SUCCESS", b"marker")  # skipped, as Athena skips it
    aws_backend.register_table(
        parquet_table(
            "demo",
            "reviews",
            [Column("star_rating", "int")],
            aws_backend.to_s3_location("curated/reviews/"),
            partition_keys=[Column("product_category", "string")],
        )
    )
    assert estimate_scan(aws_backend, "SELECT * FROM demo.reviews").bytes == 1_000 + 250 + 40
    pruned = estimate_scan(aws_backend, "SELECT * FROM demo.reviews WHERE product_category IN ('Toys', 'PC')")
    assert pruned.bytes == 250 + 40
    assert pruned.tables[0].partitions_read == 2 and pruned.tables[0].partitions_total == 3
