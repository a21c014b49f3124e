"""Previews, names, locations and prefix sizes, checked against pyarrow/pandas reading the files directly."""

from __future__ import annotations

import gzip
import io
import json
import os
from pathlib import Path

import awswrangler as wr
import boto3
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lib.backends.aws import AwsBackend
from lib.backends.local import LocalBackend
from lib.lake import objects as lake
from lib.lake import preview as previews
from tests import aws_fixtures
from tests.aws_fixtures import BUCKET, REGION
from tests.conftest import DEMO_ROWS

# the aws fixtures (moto server, fresh bucket per test, backend), used by name
moto_server = aws_fixtures.moto_server
aws_settings = aws_fixtures.aws_settings
aws_backend = aws_fixtures.aws_backend

BOOKS_TSV = "raw/reviews/amazon_reviews_us_Books_v1_00.tsv"
BOOKS_PARQUET = "curated/reviews/product_category=Books/part-0.parquet"


@pytest.mark.parametrize(
    "name",
    [
        "Clothing ID",
        "Review Text",
        "Rating",
        "Class Name",
        "Crème brûlée",
        "a-b.c",
        "MyNewColumn",
        "x__y",
        "ÅNGSTRÖM 2",
    ],
)
def test_names_are_sanitised_exactly_as_awswrangler_does(name: str) -> None:
    assert lake.sanitize_name(name) == wr.catalog.sanitize_column_name(name)
    assert lake.sanitize_name(name) == wr.catalog.sanitize_table_name(name)


def test_location_of_a_local_key_is_a_lake_url(demo_backend: LocalBackend) -> None:
    assert demo_backend.location("curated/x/y") == "lake://curated/x/y/"
    assert lake.key_of_location(demo_backend, "lake://curated/x/y/") == "curated/x/y/"


def test_tsv_preview_sniffs_tab_and_header_and_matches_pandas(demo_backend: LocalBackend, demo_lake_dir: Path) -> None:
    preview = previews.preview_object(demo_backend, BOOKS_TSV, max_rows=20)
    direct = pd.read_csv(demo_lake_dir / BOOKS_TSV, sep="\t", nrows=20, dtype=str)
    assert preview.kind == "tsv" and preview.delimiter == "tab" and preview.header is True
    assert list(preview.frame.columns) == list(direct.columns)
    assert preview.frame["review_id"].astype(str).tolist() == direct["review_id"].tolist()
    lines = (demo_lake_dir / BOOKS_TSV).read_text("utf-8").count("\n")
    assert preview.rows_estimate == lines - 1 and preview.rows_exact  # the whole small file was read


def test_parquet_preview_reads_the_footer_and_first_rows(demo_backend: LocalBackend, demo_lake_dir: Path) -> None:
    preview = previews.preview_object(demo_backend, BOOKS_PARQUET, max_rows=10)
    meta = pq.read_metadata(demo_lake_dir / BOOKS_PARQUET)
    direct = pq.read_table(demo_lake_dir / BOOKS_PARQUET).slice(0, 10).to_pandas()
    assert preview.kind == "parquet" and preview.parquet is not None
    assert preview.parquet.rows == meta.num_rows and preview.rows_estimate == meta.num_rows
    assert len(preview.parquet.row_groups) == meta.num_row_groups
    assert [c.name for c in preview.columns] == direct.columns.tolist()
    assert preview.frame["review_id"].tolist() == direct["review_id"].tolist()
    assert {c.name: c.type for c in preview.columns}["star_rating"] == "int"


def test_a_big_parquet_file_is_previewed_with_ranged_reads(fresh_backend: LocalBackend) -> None:
    rng = np.random.default_rng(7)
    rows = 200_000
    table = pa.table(
        {
            "id": np.arange(rows),
            "text": [f"review {i} " + "x" * int(n) for i, n in enumerate(rng.integers(0, 40, rows))],
        }
    )
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=10_000)
    fresh_backend.write("big/reviews.parquet", sink.getvalue())
    size = len(sink.getvalue())
    preview = previews.preview_object(fresh_backend, "big/reviews.parquet", max_rows=5)
    assert preview.parquet is not None and preview.parquet.rows == rows and len(preview.parquet.row_groups) == 20
    assert preview.frame["id"].tolist() == [0, 1, 2, 3, 4]
    # the footer and one row group of twenty: far less than the file
    assert 0 < preview.bytes_read < size / 4
    handle = previews.RangedFile(fresh_backend, "big/reviews.parquet")
    pq.ParquetFile(handle).metadata  # noqa: B018 - reading the footer is the point
    assert handle.bytes_read <= 64 * 1024 + 8 and handle.bytes_read < size


def test_csv_with_semicolons_and_its_gzip_variant(fresh_backend: LocalBackend) -> None:
    text = 'name;score;note\nann;3;"likes it; a lot"\nbob;5;ok\n'
    fresh_backend.write("in/scores.csv", text.encode())
    fresh_backend.write("in/scores.csv.gz", gzip.compress(text.encode()))
    plain = previews.preview_object(fresh_backend, "in/scores.csv")
    zipped = previews.preview_object(fresh_backend, "in/scores.csv.gz")
    assert plain.delimiter == "semicolon" and plain.header
    assert plain.frame["note"].tolist() == ["likes it; a lot", "ok"]
    assert zipped.compression == "gzip" and zipped.frame.equals(plain.frame)


def test_json_lines_json_arrays_and_text(fresh_backend: LocalBackend) -> None:
    records = [{"id": i, "tags": ["a", "b"][: i % 3], "meta": {"ok": i % 2 == 0}} for i in range(5)]
    fresh_backend.write("j/rows.jsonl", "\n".join(json.dumps(r) for r in records).encode())
    fresh_backend.write("j/rows.json", json.dumps(records).encode())
    fresh_backend.write("j/rows.jsonl.gz", gzip.compress("\n".join(json.dumps(r) for r in records).encode()))
    fresh_backend.write("j/notes.txt", b"hello\nlake\n")
    lines = previews.preview_object(fresh_backend, "j/rows.jsonl")
    array = previews.preview_object(fresh_backend, "j/rows.json")
    zipped = previews.preview_object(fresh_backend, "j/rows.jsonl.gz")
    text = previews.preview_object(fresh_backend, "j/notes.txt")
    assert lines.kind == "jsonl" and lines.frame["id"].tolist() == [0, 1, 2, 3, 4] and lines.rows_estimate == 5
    assert array.kind == "json" and array.frame["id"].tolist() == [0, 1, 2, 3, 4]
    assert json.loads(array.frame["meta"][0]) == {"ok": True}  # nested values shown as JSON text
    assert zipped.frame.equals(lines.frame)
    assert text.kind == "text" and text.text == "hello\nlake\n"


def test_broken_json_lines_are_hidden_and_counted(fresh_backend: LocalBackend) -> None:
    fresh_backend.write("j/bad.jsonl", b'{"a": 1}\n{"a": \n{"a": 3}\n')
    preview = previews.preview_object(fresh_backend, "j/bad.jsonl")
    assert preview.frame["a"].tolist() == [1, 3]
    assert any("line 2" in note for note in preview.notes)


def test_image_binary_and_latin1_previews(fresh_backend: LocalBackend) -> None:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 30, 30)).save(buffer, format="PNG")
    fresh_backend.write("img/red.png", buffer.getvalue())
    fresh_backend.write("bin/blob.dat", bytes(range(256)))
    fresh_backend.write("txt/old.csv", "name,city\nJosé,Málaga\n".encode("latin-1"))
    image = previews.preview_object(fresh_backend, "img/red.png")
    blob = previews.preview_object(fresh_backend, "bin/blob.dat")
    old = previews.preview_object(fresh_backend, "txt/old.csv")
    assert image.kind == "image" and Image.open(io.BytesIO(image.image)).size == (4, 3)
    assert blob.kind == "binary" and blob.text.startswith("00000000  00 01 02")
    assert old.encoding == "latin-1" and old.frame["city"].tolist() == ["Málaga"]
    assert any("not UTF-8" in note for note in old.notes)


def test_only_the_first_megabyte_of_a_big_text_file_is_read(fresh_backend: LocalBackend) -> None:
    # fixed-width lines, so the first megabyte is representative of the rest
    line = "a,b,c\n" + "".join(f"{i:06d},{i * 2:07d},word{i:06d}\n" for i in range(300_000))
    fresh_backend.write("big/rows.csv", line.encode())
    preview = previews.preview_object(fresh_backend, "big/rows.csv", max_rows=10)
    assert preview.partial and preview.bytes_read == previews.PREVIEW_BYTES
    assert preview.frame["a"].tolist() == list(range(10))
    # the estimate scales the lines of the first megabyte to the whole size: within 1 % of the truth
    assert abs(preview.rows_estimate - 300_000) / 300_000 < 0.01 and not preview.rows_exact


def test_prefix_stats_count_every_level_and_stop_at_the_cap(demo_backend: LocalBackend, demo_lake_dir: Path) -> None:
    files = [Path(d) / f for d, _, names in os.walk(demo_lake_dir / "curated" / "reviews") for f in names]
    stats = lake.prefix_stats(demo_backend, "curated/reviews/")
    assert stats.objects == len(files) and stats.bytes == sum(f.stat().st_size for f in files)
    assert not stats.capped and stats.objects_text == f"{len(files):,}"
    capped = lake.prefix_stats(demo_backend, "curated/reviews/", cap=3)
    assert capped.capped and capped.objects == 3 and capped.objects_text == "3+"


def test_paths_that_leave_the_lake_are_refused() -> None:
    from lib.errors import PathError

    for name in ("../etc", "a/b", "..", "~root"):
        with pytest.raises(PathError, match="leaves the lake"):
            lake.check_inside_lake(name, "table name")


def test_demo_lake_size_is_what_the_fixture_built(demo_backend: LocalBackend) -> None:
    total = sum(
        previews.preview_object(
            demo_backend, f"curated/reviews/{folder.rstrip('/').rsplit('/', 1)[-1]}/part-0.parquet"
        ).rows_estimate
        or 0
        for folder in demo_backend.list_objects("curated/reviews/").folders
    )
    assert total == DEMO_ROWS


# -- the aws backend: S3 on moto ------------------------------------------------------------------------------
def test_aws_parquet_preview_uses_ranged_gets(aws_backend: AwsBackend) -> None:
    rows = 100_000
    table = pa.table({"id": np.arange(rows), "text": [f"review number {i}" for i in range(rows)]})
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=5_000)
    aws_backend.write("curated/big/part-0.parquet", sink.getvalue())
    size = len(sink.getvalue())
    preview = previews.preview_object(aws_backend, "curated/big/part-0.parquet", max_rows=3)
    assert preview.parquet is not None and preview.parquet.rows == rows and len(preview.parquet.row_groups) == 20
    assert preview.frame["text"].tolist() == ["review number 0", "review number 1", "review number 2"]
    assert 0 < preview.bytes_read < size / 4


def test_aws_text_previews_and_metadata(aws_backend: AwsBackend) -> None:
    tsv = "id\tword\n1\talpha\n2\tbeta\n"
    aws_backend.write("raw/words.tsv", tsv.encode(), metadata={"source": "test"})
    aws_backend.write("raw/words.tsv.gz", gzip.compress(tsv.encode()))
    plain = previews.preview_object(aws_backend, "raw/words.tsv")
    zipped = previews.preview_object(aws_backend, "raw/words.tsv.gz")
    assert plain.delimiter == "tab" and plain.frame["word"].tolist() == ["alpha", "beta"]
    assert zipped.frame.equals(plain.frame)
    info = aws_backend.stat("raw/words.tsv")
    assert info.metadata == {"source": "test"} and info.storage_class == "STANDARD" and info.etag


def test_aws_listing_pages_and_prefix_stats(aws_backend: AwsBackend) -> None:
    client = boto3.client("s3", region_name=REGION, endpoint_url=aws_backend.settings.endpoint_url)
    for i in range(1_005):
        client.put_object(Bucket=BUCKET, Key=f"lake/many/obj-{i:05d}.txt", Body=b"x" * (i % 7))
    first = aws_backend.list_objects("many/")
    assert len(first.objects) == 1_000 and first.next_token
    second = aws_backend.list_objects("many/", token=first.next_token)
    assert len(second.objects) == 5 and second.next_token is None
    assert {o.key for o in first.objects} | {o.key for o in second.objects} == {
        f"many/obj-{i:05d}.txt" for i in range(1_005)
    }
    stats = lake.prefix_stats(aws_backend, "many/")
    assert (stats.objects, stats.bytes, stats.capped) == (1_005, sum(i % 7 for i in range(1_005)), False)
    assert lake.prefix_stats(aws_backend, "many/", cap=10).objects_text == "10+"
    assert aws_backend.location("many") == f"s3://{BUCKET}/lake/many/"
    assert lake.key_of_location(aws_backend, f"s3://{BUCKET}/lake/many/") == "many/"
