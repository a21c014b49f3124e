from __future__ import annotations

import os
import threading
import time
from collections import Counter
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from lib.backends.local import LocalBackend
from lib.catalog import Column, Partition, parquet_table
from lib.errors import CatalogError, NotFound, PathError, QueryCancelled, QueryTimeout, SqlError, TableNotFound
from tests.conftest import DEMO_ROWS, local_settings


def counts_from_files(root: Path) -> dict[str | None, int]:
    """What the curated files hold, read with pyarrow directly (not through LakeLens); Hive's default folder holds
    the reviews without a category (None)."""
    counts: Counter[str | None] = Counter()
    for path in (root / "curated" / "reviews").glob("product_category=*/*.parquet"):
        value = path.parent.name.split("=", 1)[1]
        counts[None if value == "__HIVE_DEFAULT_PARTITION__" else value] += pq.read_metadata(path).num_rows
    return dict(counts)


def by_category(categories: object, counts: object) -> dict[str | None, int]:
    """A result's (category, count) pairs, NULL (NaN in the frame) as None."""
    import pandas as pd

    return {None if pd.isna(c) else c: int(n) for c, n in zip(categories, counts, strict=True)}  # type: ignore[call-overload]


def test_counts_per_category_match_the_files(demo_backend: LocalBackend, demo_lake_dir: Path) -> None:
    result = demo_backend.run_query("SELECT product_category, count(*) AS n FROM demo.reviews GROUP BY 1 ORDER BY 1")
    assert by_category(result.frame["product_category"], result.frame["n"]) == counts_from_files(demo_lake_dir)
    assert None in counts_from_files(demo_lake_dir)  # the demo lake has reviews without a category
    assert result.stats.engine.startswith("DuckDB")
    assert result.stats.truncated is False and result.stats.rows == len(result.frame)
    assert result.stats.bytes_scanned and result.stats.bytes_scanned > 0


def test_raw_and_curated_tables_agree(demo_backend: LocalBackend) -> None:
    sql = "SELECT star_rating, count(*) AS n FROM {} GROUP BY 1 ORDER BY 1"
    raw = demo_backend.run_query(sql.format("demo.reviews_raw")).frame
    curated = demo_backend.run_query(sql.format("demo.reviews")).frame
    assert raw.equals(curated)
    assert int(raw["n"].sum()) == DEMO_ROWS


def test_athena_sql_runs_locally(demo_backend: LocalBackend) -> None:
    sql = """
        SELECT product_category,
               count_if(star_rating >= 4) AS positive,
               approx_percentile(cardinality(split(review_body, ' ')), 0.5) AS median_words,
               date_trunc('year', review_date) AS year
        FROM "awsdatacatalog"."demo"."reviews"
        WHERE regexp_like(review_body, 'recommend')
        GROUP BY 1, 4 ORDER BY 1, 4 LIMIT 5
    """
    frame = demo_backend.run_query(sql).frame
    assert len(frame) == 5
    assert (frame["positive"] >= 0).all() and (frame["median_words"] > 0).all()


def test_result_is_cut_at_max_rows_and_says_so(demo_backend: LocalBackend) -> None:
    result = demo_backend.run_query("SELECT review_id FROM demo.reviews", max_rows=10)
    assert len(result.frame) == 10
    assert result.stats.truncated is True
    assert result.stats.total_rows == DEMO_ROWS
    exact = demo_backend.run_query("SELECT review_id FROM demo.reviews LIMIT 10", max_rows=10)
    assert exact.stats.truncated is False


def test_unknown_table_and_column_are_named(demo_backend: LocalBackend) -> None:
    with pytest.raises(TableNotFound, match=r"demo\.nope"):
        demo_backend.run_query("SELECT * FROM demo.nope")
    with pytest.raises(SqlError, match="no_such_column"):
        demo_backend.run_query("SELECT no_such_column FROM demo.reviews")
    with pytest.raises(SqlError, match="line 1, column"):
        demo_backend.run_query("SELECT FROM WHERE")


def test_show_and_describe_come_from_the_catalog(demo_backend: LocalBackend) -> None:
    assert set(demo_backend.run_query("SHOW TABLES IN demo").frame["tab_name"]) == {"reviews", "reviews_raw"}
    assert list(demo_backend.run_query("SHOW DATABASES").frame["database_name"]) == ["demo"]
    described = demo_backend.run_query("DESCRIBE demo.reviews").frame
    assert "star_rating" in set(described["col_name"])
    partitions = demo_backend.run_query("SHOW PARTITIONS demo.reviews").frame
    assert partitions["partition"].str.startswith("product_category=").all()


def test_export_streams_the_whole_result(demo_backend: LocalBackend, tmp_path: Path) -> None:
    out = tmp_path / "all.parquet"
    rows = demo_backend.export("SELECT review_id, star_rating FROM demo.reviews", out, "parquet")
    assert rows == DEMO_ROWS == pq.read_metadata(out).num_rows
    csv = tmp_path / "all.csv"
    assert demo_backend.export("SELECT review_id FROM demo.reviews", csv, "csv") == DEMO_ROWS
    assert len(csv.read_text().splitlines()) == DEMO_ROWS + 1


def test_duckdb_itself_cannot_read_outside_the_lake(demo_backend: LocalBackend) -> None:
    """The second wall: even SQL that got past the guard could not read host files."""
    con = demo_backend._connection()
    with pytest.raises(duckdb.PermissionException):
        con.execute("SELECT * FROM read_csv('/etc/passwd')").fetchall()
    with pytest.raises((duckdb.PermissionException, duckdb.InvalidInputException)):
        con.execute("SET enable_external_access = true")


def test_listing_pages_through_a_large_folder(tmp_path: Path) -> None:
    backend = LocalBackend(local_settings(tmp_path))
    folder = tmp_path / "many"
    folder.mkdir()
    for index in range(2_500):
        (folder / f"obj-{index:05d}.json").write_text("{}")
    (folder / "sub").mkdir()
    seen: list[str] = []
    folders: list[str] = []
    token = None
    pages = 0
    while True:
        page = backend.list_objects("many/", token=token, page_size=1000)
        pages += 1
        seen += [o.key for o in page.objects]
        folders += page.folders
        token = page.next_token
        if not token:
            break
    assert pages == 3
    assert len(seen) == len(set(seen)) == 2_500
    assert folders == ["many/sub/"]


def test_objects_roundtrip_with_ranges_and_metadata(tmp_path: Path) -> None:
    backend = LocalBackend(local_settings(tmp_path))
    info = backend.write("zone/file.csv", b"a,b\n1,2\n", metadata={"owner": "analytics"})
    assert info.size == 8 and info.content_type == "text/csv"
    assert backend.stat("zone/file.csv").metadata == {"owner": "analytics"}
    assert backend.read("zone/file.csv", 4, 7) == b"1,2"
    backend.delete("zone/file.csv")
    with pytest.raises(NotFound):
        backend.stat("zone/file.csv")
    assert not (tmp_path / "zone").exists()


def test_symlink_out_of_the_lake_is_refused(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    lake.mkdir()
    outside = tmp_path / "secret.txt"
    outside.write_text("top secret")
    os.symlink(outside, lake / "link.txt")
    os.symlink(tmp_path, lake / "up")
    backend = LocalBackend(local_settings(lake))
    with pytest.raises(PathError):
        backend.read("link.txt")
    with pytest.raises(PathError):
        backend.list_objects("up/")


def test_register_partitions_and_replace(fresh_backend: LocalBackend) -> None:
    table = parquet_table(
        "sales", "orders", [Column("id", "bigint", "order id")], "lake://curated/orders/",
        partition_keys=[Column("day", "string")],
    )  # fmt: skip
    parts = [Partition((f"2024-01-{d:02d}",), f"lake://curated/orders/day=2024-01-{d:02d}/") for d in range(1, 31)]
    fresh_backend.register_table(table, partitions=parts)
    assert [t.name for t in fresh_backend.list_tables("sales")] == ["orders"]
    stored = fresh_backend.get_table("sales", "orders")
    assert stored.columns[0].comment == "order id" and stored.create_time is not None
    first = fresh_backend.list_partitions("sales", "orders", page_size=20)
    second = fresh_backend.list_partitions("sales", "orders", token=first.next_token, page_size=20)
    assert len(first.partitions) == 20 and len(second.partitions) == 10 and second.next_token is None
    with pytest.raises(CatalogError, match="already exists"):
        fresh_backend.register_table(table)
    fresh_backend.register_table(table, replace=True)
    fresh_backend.drop_table("sales", "orders")
    with pytest.raises(TableNotFound):
        fresh_backend.get_table("sales", "orders")


def test_tables_must_live_inside_the_lake(fresh_backend: LocalBackend) -> None:
    for location in ("s3://elsewhere/data/", "lake://../outside/", "/etc/"):
        with pytest.raises((CatalogError, PathError)):
            fresh_backend.register_table(parquet_table("x", "y", [Column("a", "int")], location))


def test_a_long_query_can_be_cancelled(demo_backend: LocalBackend) -> None:
    heavy = "SELECT sum(a.star_rating * b.star_rating * c.helpful_votes * d.total_votes) FROM demo.reviews a, demo.reviews b, demo.reviews c, demo.reviews d"
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            demo_backend.run_query(heavy, query_id="to-cancel")
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 10
    while "to-cancel" not in demo_backend._running and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)
    demo_backend.cancel_query("to-cancel")
    thread.join(20)
    assert not thread.is_alive()
    assert outcome and isinstance(outcome[0], QueryCancelled)


def test_a_query_past_the_timeout_is_stopped(demo_lake_dir: Path) -> None:
    backend = LocalBackend(local_settings(demo_lake_dir, LAKELENS_QUERY_TIMEOUT_S="1"))
    with pytest.raises(QueryTimeout, match="LAKELENS_QUERY_TIMEOUT_S"):
        backend.run_query(
            "SELECT sum(a.star_rating * b.star_rating * c.helpful_votes * d.total_votes) "
            "FROM demo.reviews a, demo.reviews b, demo.reviews c, demo.reviews d"
        )
    backend.close()


def test_a_cancel_that_arrives_before_the_query_starts_is_honoured(demo_backend: LocalBackend) -> None:
    demo_backend.cancel_query("cancelled-before-start")
    with pytest.raises(QueryCancelled):
        demo_backend.run_query("SELECT count(*) FROM demo.reviews", query_id="cancelled-before-start")
    # the id is forgotten afterwards: a new query with another id runs normally
    assert demo_backend.run_query("SELECT count(*) AS n FROM demo.reviews", query_id="next").frame["n"][0] > 0
