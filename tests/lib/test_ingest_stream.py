"""Ingest at the dataset's scale: a generated Amazon-layout TSV of a few hundred megabytes goes through
``python -m lib ingest`` in a child process whose peak memory (VmHWM) is read from /proc, and the table's numbers
are compared with pandas reading the same file as the course does. A malformed row deep in the file, a full disk
and Cancel leave nothing behind.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from lib.backends.local import LocalBackend
from lib.errors import IngestCancelled, IngestError, TableNotFound
from lib.lake import ingest
from lib.lake import stream as ingest_stream
from tests import aws_fixtures
from tests.conftest import local_settings
from tests.real_files import write_amazon_tsv, write_amazon_tsv_large

# the aws fixtures (moto server, fresh bucket per test, backend), used by name
moto_server = aws_fixtures.moto_server
aws_settings = aws_fixtures.aws_settings
aws_backend = aws_fixtures.aws_backend

ROOT = Path(__file__).resolve().parents[2]
BIG_ROWS = 1_000_000  # about 225 MB of TSV
SMALL_ROWS = 300_000  # about 67 MB: streamed too (over STREAM_FROM_BYTES)
MEMORY = "256MB"  # the conversion's working memory in the memory test (LAKELENS_INGEST_MEMORY_BYTES)
# Runs the CLI and reports the process's own peak RSS (VmHWM: ru_maxrss would carry the parent's over exec).
PEAK = (
    "import sys, runpy\n"
    "sys.argv = ['lib'] + sys.argv[1:]\n"
    "try:\n"
    "    runpy.run_module('lib', run_name='__main__')\n"
    "finally:\n"
    "    status = open('/proc/self/status').read()\n"
    "    peak = [l for l in status.splitlines() if l.startswith('VmHWM')][0].split()[1]\n"
    "    sys.stderr.write(f'PEAK_KB {peak}\\n')\n"
)


def cli(*args: str, **settings: str) -> tuple[subprocess.CompletedProcess[str], int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAKELENS_")} | settings
    done = subprocess.run(
        [sys.executable, "-c", PEAK, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    peak = next(int(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("PEAK_KB"))
    return done, peak * 1024


def lake_files(lake: Path) -> list[str]:
    """Every file in the lake outside LakeLens's own records."""
    return sorted(str(p.relative_to(lake)) for p in lake.rglob("*") if p.is_file() and "_lakelens" not in p.parts)


@pytest.fixture(scope="module")
def big_files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, Path]]:
    folder = tmp_path_factory.mktemp("big")
    small = write_amazon_tsv_large(folder / "amazon_reviews_us_Small_v1_00.tsv", SMALL_ROWS)
    big = write_amazon_tsv_large(folder / "amazon_reviews_us_Big_v1_00.tsv", BIG_ROWS)
    bad = write_amazon_tsv_large(folder / "amazon_reviews_us_Bad_v1_00.tsv", BIG_ROWS, bad_line_after=900_000)
    yield small, big, bad
    for path in (small, big, bad):
        path.unlink(missing_ok=True)


@pytest.mark.slow  # a million-row TSV: left out of `make unit`
def test_a_big_tsv_streams_into_partitioned_parquet_with_bounded_memory(
    big_files: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    small, big, _ = big_files
    assert big.stat().st_size > 200 * 2**20
    assert ingest_stream.should_stream(small) and ingest_stream.should_stream(big)
    peaks = {}
    for path, name in ((small, "small"), (big, "big")):
        lake = tmp_path / f"lake-{name}"
        done, peaks[name] = cli(
            "ingest", str(path), "--database", "amazon", "--table", name, "--partition-by", "product_category",
            "--root", str(lake), LAKELENS_INGEST_MEMORY_BYTES=MEMORY,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
    assert peaks["big"] < 1.5 * 2**30, f"peak RSS {peaks['big'] / 2**20:.0f} MB"
    # memory does not grow with the file: 3.3 times the rows, and memory grows by less than the file does (reading
    # it into Arrow, as an upload is, costs about ten times the file)
    grown = peaks["big"] - peaks["small"]
    assert grown < big.stat().st_size - small.stat().st_size, (peaks, big.stat().st_size)
    assert "Converting to Parquet" in done.stderr or "rows in" in done.stderr  # progress on stderr

    # the numbers, against pandas reading the file as the course does (only two columns, to keep it small)
    frame = pd.read_csv(big, sep="\t", quoting=csv.QUOTE_NONE, usecols=["product_category", "review_body"])
    frame["product_category"] = frame["product_category"].fillna("<none>")  # an empty field: NULL in the table
    expected = frame.groupby("product_category").agg(n=("product_category", "size"), texts=("review_body", "count"))
    backend = LocalBackend(local_settings(tmp_path / "lake-big"))
    got = (
        backend.run_query(
            "SELECT product_category, count(*) AS n, count(review_body) AS texts FROM amazon.big GROUP BY 1",
            max_rows=1000,
        )
        .frame.fillna({"product_category": "<none>"})
        .set_index("product_category")
    )
    assert got.sort_index().to_dict() == expected.sort_index().astype("int64").to_dict()
    partitions = backend.list_partitions("amazon", "big").partitions
    named = {p.values[0] for p in partitions} - {"__HIVE_DEFAULT_PARTITION__"}
    assert named | {"<none>"} == set(expected.index)
    raw = backend.get_table("amazon", "big_raw")
    assert raw.parameters["lakelens.rows"] == str(len(frame))
    assert backend.stat(f"raw/amazon/big/{big.name}").size == big.stat().st_size  # the raw file, as it came
    backend.close()


def test_a_malformed_row_deep_in_the_file_leaves_nothing_behind(
    big_files: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _, _, bad = big_files
    lake = tmp_path / "lake"
    done, _ = cli("ingest", str(bad), "--database", "amazon", "--table", "bad", "--curated", "--root", str(lake))
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "line 900,002" in errors[0] and "--skip-bad-rows" in errors[0], errors
    assert "Traceback" not in done.stderr
    assert lake_files(lake) == []  # no raw copy, no Parquet, no scratch folder
    backend = LocalBackend(local_settings(lake))
    assert all(db.name != "amazon" or not backend.list_tables("amazon") for db in backend.list_databases())
    backend.close()

    # skipping it: every other row arrives, and the skipped one is counted
    done, _ = cli(
        "ingest", str(bad), "--database", "amazon", "--table", "bad", "--curated", "--skip-bad-rows",
        "--root", str(lake),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Skipped 1 malformed row" in done.stderr
    backend = LocalBackend(local_settings(lake))
    assert backend.run_query("SELECT count(*) AS n FROM amazon.bad").frame["n"][0] == BIG_ROWS
    backend.close()


def test_small_and_streamed_ingests_give_the_same_table(tmp_path: Path) -> None:
    """The streamed path and the in-memory one agree on names, types, NULLs and values (a messy Amazon TSV)."""
    path = write_amazon_tsv(tmp_path / "amazon_reviews_us_Apparel_v1_00.tsv", rows=3_000)
    memory = LocalBackend(local_settings(tmp_path / "memory"))
    ingest.ingest_file(memory, path, database="shop", table="reviews", curated=True)
    streamed = LocalBackend(local_settings(tmp_path / "streamed"))
    ingest_stream.ingest_large(streamed, path, database="shop", table="reviews", curated=True)
    assert [(c.name, c.type) for c in memory.get_table("shop", "reviews").columns] == [
        (c.name, c.type) for c in streamed.get_table("shop", "reviews").columns
    ]
    sql = "SELECT * FROM shop.reviews ORDER BY review_id"
    left = memory.run_query(sql, max_rows=5_000).frame
    right = streamed.run_query(sql, max_rows=5_000).frame
    pd.testing.assert_frame_equal(left, right)
    assert left["review_body"].isna().sum() > 0  # empty fields are NULL on both paths
    memory.close()
    streamed.close()


def test_a_full_disk_is_one_sentence_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_amazon_tsv(tmp_path / "amazon_reviews_us_Shoes_v1_00.tsv", rows=2_000)
    lake = tmp_path / "lake"
    backend = LocalBackend(local_settings(lake))
    real = ingest_stream.shutil.disk_usage

    def almost_full(where: object) -> object:
        usage = real(where)  # type: ignore[arg-type]
        return type(usage)(usage.total, usage.total - 1000, 1000)

    monkeypatch.setattr(ingest_stream.shutil, "disk_usage", almost_full)
    with pytest.raises(IngestError, match=r"needs about .* but only 1.0 KB is free") as caught:
        ingest_stream.ingest_large(backend, path, database="shop", table="shoes")
    assert "\n" not in str(caught.value)
    assert lake_files(lake) == []
    backend.close()


def test_cancel_stops_the_work_and_removes_what_it_wrote(big_files: tuple[Path, Path, Path], tmp_path: Path) -> None:
    _, big, _ = big_files
    lake = tmp_path / "lake"
    backend = LocalBackend(local_settings(lake))
    cancel = threading.Event()
    seen: list[str] = []

    def progress(fraction: float, message: str) -> None:
        seen.append(message)
        if "Converting to Parquet" in message:
            cancel.set()  # the analyst presses Cancel while it converts

    with pytest.raises(IngestCancelled, match="cancelled"):
        ingest_stream.ingest_large(
            backend, big, database="amazon", table="cancelled", partition_by="product_category",
            progress=progress, cancel=cancel,
        )  # fmt: skip
    assert any("Converting to Parquet" in m for m in seen)
    assert lake_files(lake) == []
    with pytest.raises(TableNotFound):
        backend.get_table("amazon", "cancelled")
    backend.close()


def test_on_aws_the_raw_file_and_the_parquet_go_to_s3_and_the_table_to_glue(aws_backend: Any, tmp_path: Path) -> None:
    """The same streaming ingest against moto's S3 and Glue: the raw file's bytes, one Parquet object per partition
    (read back with pyarrow), the table and its partitions registered with s3:// locations."""
    import io

    import boto3
    import pyarrow.parquet as pq

    from tests.aws_fixtures import BUCKET, REGION

    path = write_amazon_tsv(tmp_path / "amazon_reviews_us_Apparel_v1_00.tsv", rows=2_000)
    done = ingest_stream.ingest_large(
        aws_backend, path, database="shop", table="reviews", partition_by="product_category"
    )
    s3 = boto3.client("s3", endpoint_url=aws_backend.settings.endpoint_url, region_name=REGION)
    raw = s3.get_object(Bucket=BUCKET, Key=f"lake/raw/shop/reviews/{path.name}")["Body"].read()
    assert raw == path.read_bytes()
    frame = pd.read_csv(path, sep="\t", quoting=csv.QUOTE_NONE)
    table = aws_backend.get_table("shop", "reviews")
    assert table.location == f"s3://{BUCKET}/lake/curated/shop/reviews/"
    partitions = aws_backend.list_partitions("shop", "reviews").partitions
    assert {p.values[0] for p in partitions} == set(frame["product_category"])
    total = 0
    for partition in partitions:
        key = partition.location.removeprefix(f"s3://{BUCKET}/")
        objects = s3.list_objects_v2(Bucket=BUCKET, Prefix=key)["Contents"]
        for obj in objects:
            part = pq.read_table(io.BytesIO(s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read()))
            total += part.num_rows
            expected = frame[frame["product_category"] == partition.values[0]]
            assert part.num_rows == len(expected)
            assert part.column("review_body").null_count == int(expected["review_body"].isna().sum())
    assert total == len(frame) == done.rows
