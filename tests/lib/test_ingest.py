"""Ingest and register on the local backend: what lands where, what the tables return, and every bad input.

Expected values come from pandas/pyarrow reading the same bytes, never from LakeLens itself. The CSV has the
column names of the Women's E-Commerce Clothing Reviews data set, which LakeLens has never seen.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import subprocess
import sys
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
from lib.errors import IngestError, LakeLensError, PathError
from lib.lake import ingest
from tests import aws_fixtures
from tests.aws_fixtures import BUCKET, REGION
from tests.conftest import lake_checksums

# the aws fixtures (moto server, fresh bucket per test, backend), used by name
moto_server = aws_fixtures.moto_server
aws_settings = aws_fixtures.aws_settings
aws_backend = aws_fixtures.aws_backend

ROOT = Path(__file__).resolve().parents[2]
HEADERS = ["Clothing ID", "Age", "Title", "Review Text", "Rating", "Recommended IND", "Class Name"]
CLASSES = ["Dresses", "Knits", "Blouses", "Jackets & Coats"]


def clothing_csv(rows: int = 120, seed: int = 3, multiline: bool = False) -> bytes:
    """Reviews with commas and doubled quotes inside quoted fields; with ``multiline``, some with line breaks."""
    rng = np.random.default_rng(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADERS)
    for i in range(rows):
        text = f'Review {i}: fits well, "true" to size' + ("\nsecond line" if multiline and i % 17 == 0 else "")
        writer.writerow(
            [
                1000 + i,
                int(rng.integers(18, 80)),
                "" if i % 5 == 0 else f"Title {i}",
                text,
                int(rng.integers(1, 6)),
                int(rng.integers(0, 2)),
                CLASSES[int(rng.integers(0, len(CLASSES)))],
            ]
        )
    return out.getvalue().encode("utf-8")


def expected_frame(data: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data), keep_default_na=False)


def test_csv_with_unfamiliar_names_becomes_raw_and_curated_tables(fresh_backend: LocalBackend) -> None:
    data = clothing_csv()
    plan = ingest.plan_ingest(data, "Womens Clothing.csv", database="shop", table="Clothing Reviews")
    assert plan.table == "clothing_reviews" and plan.format == "csv" and plan.quoted
    assert [c.name for c in plan.columns] == [wr.catalog.sanitize_column_name(h) for h in HEADERS]
    assert dict(plan.renames)["Clothing ID"] == "clothing_id"
    assert any("'Review Text' -> review_text" in note for note in plan.notes)
    result = ingest.commit(fresh_backend, plan, partition_by="Class Name")
    assert [t.qualified_name for t in result.tables] == ["shop.clothing_reviews", "shop.clothing_reviews_raw"]

    direct = expected_frame(data)
    want = direct.groupby("Class Name")["Rating"].agg(["count", "sum"]).sort_index()
    sql = "SELECT class_name, count(*) AS n, sum(rating) AS s FROM {} GROUP BY 1 ORDER BY 1"
    for table in ("shop.clothing_reviews", "shop.clothing_reviews_raw"):
        got = fresh_backend.run_query(sql.format(table)).frame
        assert got["class_name"].tolist() == want.index.tolist()
        assert got["n"].tolist() == want["count"].tolist() and got["s"].tolist() == want["sum"].tolist()
    texts = fresh_backend.run_query("SELECT review_text FROM shop.clothing_reviews_raw ORDER BY clothing_id").frame
    assert texts["review_text"].tolist() == direct.sort_values("Clothing ID")["Review Text"].tolist()

    # where it landed: the raw bytes untouched, one Parquet file per class
    root = fresh_backend.root
    assert (root / "raw/shop/clothing_reviews/Womens Clothing.csv").read_bytes() == data
    folders = sorted(p.name for p in (root / "curated/shop/clothing_reviews").iterdir())
    assert folders == sorted(f"class_name={c}" for c in set(direct["Class Name"]))
    dresses = pq.read_table(root / "curated/shop/clothing_reviews/class_name=Dresses/part-0.parquet")
    assert dresses.num_rows == int((direct["Class Name"] == "Dresses").sum())
    assert "class_name" not in dresses.column_names  # Hive style: the value is in the folder name
    stored = fresh_backend.get_table("shop", "clothing_reviews")
    assert [k.name for k in stored.partition_keys] == ["class_name"]
    assert {c.name: c.comment for c in stored.columns}["review_text"] == "file column 'Review Text'"


def test_without_a_curated_copy_the_table_is_the_raw_file(fresh_backend: LocalBackend) -> None:
    data = b"id\tword\n1\talpha\n2\tbeta\n"
    plan = ingest.plan_ingest(data, "words.tsv", database="demo", table="words")
    result = ingest.commit(fresh_backend, plan)
    assert [t.qualified_name for t in result.tables] == ["demo.words"] and result.table.format == "tsv"
    frame = fresh_backend.run_query("SELECT id, word FROM demo.words ORDER BY id").frame
    assert frame["word"].tolist() == ["alpha", "beta"]


def test_json_lines_and_parquet_with_unsafe_names_get_a_curated_copy(fresh_backend: LocalBackend) -> None:
    records = [{"Review ID": i, "Stars": i % 5 + 1, "tags": ["x"] * (i % 3)} for i in range(30)]
    lines = "\n".join(json.dumps(r) for r in records).encode()
    plan = ingest.plan_ingest(lines, "reviews.jsonl", database="demo", table="json_reviews")
    assert not plan.raw_registrable
    result = ingest.commit(fresh_backend, plan)
    assert [t.name for t in result.tables] == ["json_reviews"] and result.table.format == "parquet"
    assert any("curated Parquet copy" in note for note in result.notes)
    frame = fresh_backend.run_query("SELECT sum(stars) AS s, count(*) AS n FROM demo.json_reviews").frame
    assert int(frame["s"][0]) == sum(r["Stars"] for r in records) and int(frame["n"][0]) == 30

    sink = io.BytesIO()
    pq.write_table(pa.table({"Product Name": ["a", "b"], "price": [1.5, 2.5]}), sink)
    plan = ingest.plan_ingest(sink.getvalue(), "prices.parquet", database="demo", table="prices")
    assert [c.name for c in plan.columns] == ["product_name", "price"]
    ingest.commit(fresh_backend, plan)
    frame = fresh_backend.run_query("SELECT product_name, price FROM demo.prices ORDER BY 1").frame
    assert frame["price"].tolist() == [1.5, 2.5]


def test_clean_json_lines_and_parquet_register_where_they_lie(fresh_backend: LocalBackend) -> None:
    lines = "\n".join(json.dumps({"id": i, "name": f"n{i}"}) for i in range(4)).encode()
    result = ingest.commit(fresh_backend, ingest.plan_ingest(lines, "n.jsonl", database="demo", table="names"))
    assert result.table.format == "json" and result.table.location == "lake://raw/demo/names/"
    assert fresh_backend.run_query("SELECT count(*) AS n FROM demo.names").frame["n"][0] == 4


def test_gzip_csv_is_ingested(fresh_backend: LocalBackend) -> None:
    data = clothing_csv(30)
    plan = ingest.plan_ingest(gzip.compress(data), "reviews.csv.gz", database="demo", table="gz_reviews")
    ingest.commit(fresh_backend, plan)
    got = fresh_backend.run_query("SELECT count(*) AS n, sum(rating) AS s FROM demo.gz_reviews").frame
    direct = expected_frame(data)
    assert int(got["n"][0]) == len(direct) and int(got["s"][0]) == int(direct["Rating"].sum())


def test_edited_names_and_types_are_used(fresh_backend: LocalBackend) -> None:
    plan = ingest.plan_ingest(b"Score,Flag\n1,yes\n2,no\n", "s.csv", database="demo", table="scores")
    edited = plan.with_columns(
        [
            ingest.ColumnPlan("Score", "points", "int", "bigint"),
            ingest.ColumnPlan("Flag", "flag", "boolean", "string"),
        ]
    )
    ingest.commit(fresh_backend, edited, curated=True)
    frame = fresh_backend.run_query("SELECT points, flag FROM demo.scores ORDER BY points").frame
    assert frame["flag"].tolist() == [True, False]
    assert {c.name: c.type for c in fresh_backend.get_table("demo", "scores").columns} == {
        "points": "int",
        "flag": "boolean",
    }


def test_edits_that_cannot_work_are_refused(fresh_backend: LocalBackend) -> None:
    plan = ingest.plan_ingest(b"a,b\nx,1\n", "t.csv", database="demo", table="t")
    with pytest.raises(IngestError, match="not a valid Glue name"):
        plan.with_columns([ingest.ColumnPlan("a", "bad name", "string", "string"), plan.columns[1]])
    with pytest.raises(IngestError, match="Two columns would be called 'a'"):
        plan.with_columns([plan.columns[0], ingest.ColumnPlan("b", "a", "bigint", "bigint")])
    with pytest.raises(IngestError, match="not a Glue type"):
        plan.with_columns([ingest.ColumnPlan("a", "a", "texty", "string"), plan.columns[1]])
    wrong_type = plan.with_columns([ingest.ColumnPlan("a", "a", "int", "string"), plan.columns[1]])
    before = lake_checksums(fresh_backend.root)
    with pytest.raises(IngestError, match="Column 'a' cannot be int"):
        ingest.commit(fresh_backend, wrong_type)
    assert lake_checksums(fresh_backend.root) == before


# -- bad inputs: each a clear message and nothing written ------------------------------------------------------
def test_malformed_rows_are_reported_by_line_and_can_be_skipped(fresh_backend: LocalBackend) -> None:
    # line 1 header, line 3 has two fields, line 5 four, line 6-7 is one quoted record, line 8 one field
    data = b'a,b,c\n1,2,3\n4,5\n7,8,9\n1,2,3,4\n"multi\nline",1,2\n9\n'
    with pytest.raises(IngestError) as caught:
        ingest.plan_ingest(data, "bad.csv", database="demo", table="bad")
    message = str(caught.value)
    assert "3 row(s)" in message and "line 3: 2 field(s)" in message and "line 5: 4 field(s)" in message
    assert "line 8: 1 field(s)" in message and "--skip-bad-rows" in message
    plan = ingest.plan_ingest(data, "bad.csv", database="demo", table="bad", skip_bad_rows=True)
    assert plan.rows == 3 and [b.line for b in plan.bad_rows] == [3, 5, 8]
    assert "malformed row(s) skipped (line 3, 5, 8)" in " ".join(plan.notes)
    result = ingest.commit(fresh_backend, plan)
    # the raw file keeps the bad rows, so only the curated copy (without them) is a table
    assert [t.name for t in result.tables] == ["bad"] and result.table.format == "parquet"
    frame = fresh_backend.run_query("SELECT a, b, c FROM demo.bad ORDER BY b").frame
    assert frame["a"].tolist() == ["multi\nline", "1", "7"] and frame["c"].tolist() == [2, 3, 9]
    assert (fresh_backend.root / "raw/demo/bad/bad.csv").read_bytes() == data


def test_line_breaks_inside_fields_make_a_curated_table(fresh_backend: LocalBackend) -> None:
    data = clothing_csv(40, multiline=True)
    plan = ingest.plan_ingest(data, "ml.csv", database="demo", table="multiline")
    assert plan.multiline and not plan.raw_registrable
    result = ingest.commit(fresh_backend, plan)
    assert [t.name for t in result.tables] == ["multiline"] and result.table.format == "parquet"
    assert "line breaks" in " ".join(result.notes)
    got = fresh_backend.run_query("SELECT review_text FROM demo.multiline ORDER BY clothing_id").frame
    assert got["review_text"].tolist() == expected_frame(data)["Review Text"].tolist()


def test_wrong_encoding_says_so_and_latin1_reads_it(fresh_backend: LocalBackend) -> None:
    data = "name,city\nJosé,Málaga\nZoë,Köln\n".encode("latin-1")
    with pytest.raises(IngestError, match=r"not UTF-8 text: line 2 has the byte 0xE9.*latin-1"):
        ingest.plan_ingest(data, "cities.csv", database="demo", table="cities")
    plan = ingest.plan_ingest(data, "cities.csv", database="demo", table="cities", encoding="latin-1")
    ingest.commit(fresh_backend, plan)
    frame = fresh_backend.run_query("SELECT name, city FROM demo.cities ORDER BY name").frame
    assert frame["city"].tolist() == ["Málaga", "Köln"]
    landed = fresh_backend.root / "raw/demo/cities/cities.csv"
    assert landed.read_text("utf-8") == data.decode("latin-1")
    assert fresh_backend.stat("raw/demo/cities/cities.csv").metadata["lakelens-source-encoding"] == "latin-1"


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "is empty"),
        (b"\n\n  \n", "is empty"),
        (b"a,b,c\n", "column names but no rows"),
        (gzip.compress(b"", mtime=0), "empty once decompressed"),
        (b"[]", "holds no records"),
    ],
)
def test_empty_inputs_are_refused(data: bytes, message: str) -> None:
    name = "empty.json" if data == b"[]" else "empty.csv.gz" if data.startswith(b"\x1f\x8b") else "empty.csv"
    with pytest.raises(IngestError, match=message):
        ingest.plan_ingest(data, name, database="demo", table="empty")


def test_duplicate_and_blank_names_are_numbered_and_said(fresh_backend: LocalBackend) -> None:
    data = b"Rating,rating,,Review Text,review text\n5,4,x,good,fine\n"
    plan = ingest.plan_ingest(data, "dup.csv", database="demo", table="dup")
    assert [c.name for c in plan.columns] == ["rating", "rating_2", "col_3", "review_text", "review_text_2"]
    notes = " ".join(plan.notes)
    assert "had no name (position 3)" in notes and "'rating' -> 'rating_2'" in notes
    ingest.commit(fresh_backend, plan)
    frame = fresh_backend.run_query("SELECT rating, rating_2, col_3 FROM demo.dup").frame
    assert frame.iloc[0].tolist() == [5, 4, "x"]


@pytest.mark.parametrize(
    "table, filename, error",
    [
        ("../../etc/passwd", "x.csv", PathError),
        ("a/b", "x.csv", PathError),
        ("ok", "../../outside.csv", PathError),
        ("ok", "..\\outside.csv", PathError),
        ("ok", ".hidden.csv", PathError),
        ("ok", "_skipped_by_athena.csv", PathError),
        ("%%%", "x.csv", IngestError),
    ],
)
def test_names_that_leave_the_lake_are_refused(table: str, filename: str, error: type[LakeLensError]) -> None:
    with pytest.raises(error):
        ingest.plan_ingest(b"a\n1\n", filename, database="demo", table=table)


def test_a_database_name_that_leaves_the_lake_is_refused() -> None:
    with pytest.raises(PathError, match="leaves the lake"):
        ingest.plan_ingest(b"a\n1\n", "x.csv", database="../demo", table="t")


def test_table_names_are_sanitised_and_said() -> None:
    plan = ingest.plan_ingest(b"a\n1\n", "x.csv", database="Shop Floor", table="2021 Reviews")
    assert (plan.database, plan.table) == ("shop_floor", "t_2021_reviews")
    assert any("'Shop Floor' becomes 'shop_floor'" in note for note in plan.notes)


def test_a_file_over_the_upload_limit_is_refused(fresh_backend: LocalBackend, tmp_path: Path) -> None:
    data = clothing_csv(50)
    with pytest.raises(IngestError, match=r"over the 1\.0 KB ingest limit; raise LAKELENS_MAX_UPLOAD_BYTES"):
        ingest.plan_ingest(data, "big.csv", database="demo", table="big", max_bytes=1000)
    # from the command line the limit bounds only what is read whole and cannot be streamed: JSON, Parquet, text
    # that is not UTF-8; a UTF-8 CSV is ingested whatever the limit says
    path = tmp_path / "big.csv"
    path.write_bytes(data)
    small = LocalBackend(fresh_backend.settings.replace(max_upload_bytes=1000))
    before = lake_checksums(fresh_backend.root)
    for name, body, encoding in (("big.jsonl", b'{"a": 1}\n' * 200, "utf-8"), ("big.csv", data, "latin-1")):
        other = tmp_path / name
        other.write_bytes(body)
        with pytest.raises(IngestError, match=r"read whole, up to 1\.0 KB\. Raise LAKELENS_MAX_UPLOAD_BYTES"):
            ingest.ingest_file(small, other, database="demo", table="big", encoding=encoding)
    assert lake_checksums(fresh_backend.root) == before
    _, result = ingest.ingest_file(small, path, database="demo", table="big")
    assert result.rows == 50


def test_replacing_needs_replace_and_then_swaps_the_data(fresh_backend: LocalBackend) -> None:
    first = ingest.plan_ingest(b"id,v\n1,a\n2,b\n", "one.csv", database="demo", table="swap")
    ingest.commit(fresh_backend, first, curated=True)
    before = lake_checksums(fresh_backend.root)
    second = ingest.plan_ingest(b"id,v\n3,c\n", "two.csv", database="demo", table="swap")
    with pytest.raises(IngestError, match=r"demo.swap and demo.swap_raw already exists; pass --replace"):
        ingest.commit(fresh_backend, second, curated=True)
    assert lake_checksums(fresh_backend.root) == before
    ingest.commit(fresh_backend, second, curated=True, replace=True)
    for table in ("demo.swap", "demo.swap_raw"):
        assert fresh_backend.run_query(f"SELECT id FROM {table}").frame["id"].tolist() == [3]
    assert not (fresh_backend.root / "raw/demo/swap/one.csv").exists()
    # the demo tables were not touched
    assert fresh_backend.run_query("SELECT count(*) AS n FROM demo.reviews").frame["n"][0] > 0


def test_leftover_files_without_a_table_are_not_mixed_in(fresh_backend: LocalBackend) -> None:
    fresh_backend.write("raw/demo/orphan/old.csv", b"id\n99\n")
    plan = ingest.plan_ingest(b"id\n1\n", "new.csv", database="demo", table="orphan")
    with pytest.raises(IngestError, match="raw/demo/orphan/ already holds 1 file"):
        ingest.commit(fresh_backend, plan)


def test_too_many_partitions_are_refused(fresh_backend: LocalBackend) -> None:
    data = "id,v\n" + "".join(f"{i},{i}\n" for i in range(ingest.MAX_PARTITIONS + 1))
    plan = ingest.plan_ingest(data.encode(), "many.csv", database="demo", table="many")
    before = lake_checksums(fresh_backend.root)
    with pytest.raises(IngestError, match="would create 1,001 folders"):
        ingest.commit(fresh_backend, plan, partition_by="v")
    with pytest.raises(IngestError, match="no column 'nope'"):
        ingest.commit(fresh_backend, plan, partition_by="nope")
    assert lake_checksums(fresh_backend.root) == before


# -- atomicity -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fail_on", ["write", "register"])
def test_a_failure_midway_leaves_nothing_behind(
    fresh_backend: LocalBackend, monkeypatch: pytest.MonkeyPatch, fail_on: str
) -> None:
    plan = ingest.plan_ingest(clothing_csv(40), "c.csv", database="demo", table="atomic")
    before = lake_checksums(fresh_backend.root)
    calls = {"n": 0}
    original = getattr(fresh_backend, f"{fail_on}{'_table' if fail_on == 'register' else ''}")

    def flaky(*args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 2:  # the second write (a curated part) or the second table (the raw one)
            raise OSError("disk full")
        return original(*args, **kwargs)

    monkeypatch.setattr(fresh_backend, f"{fail_on}{'_table' if fail_on == 'register' else ''}", flaky)
    with pytest.raises(IngestError, match=r"failed while .*disk full.*everything it wrote was removed"):
        ingest.commit(fresh_backend, plan, partition_by="Class Name")
    assert calls["n"] == 2
    assert lake_checksums(fresh_backend.root) == before
    assert "atomic" not in {t.name for t in fresh_backend.list_tables("demo")}


def test_a_failed_replace_puts_the_old_table_and_files_back(
    fresh_backend: LocalBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest.commit(
        fresh_backend, ingest.plan_ingest(b"id\n1\n", "same.csv", database="demo", table="keep"), curated=True
    )
    before = lake_checksums(fresh_backend.root)
    old = fresh_backend.get_table("demo", "keep_raw")
    original = fresh_backend.register_table

    def fail_second(table: object, **kwargs: object) -> object:
        if getattr(table, "name", "") == "keep_raw" and kwargs.get("replace"):  # after demo.keep was replaced
            raise OSError("catalog unavailable")
        return original(table, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(fresh_backend, "register_table", fail_second)
    second = ingest.plan_ingest(b"id\n7\n8\n", "same.csv", database="demo", table="keep")
    with pytest.raises(IngestError, match="catalog unavailable"):
        ingest.commit(fresh_backend, second, curated=True, replace=True)
    monkeypatch.undo()
    after = lake_checksums(fresh_backend.root)
    data_files = {k: v for k, v in before.items() if not k.startswith("_lakelens")}
    assert {k: v for k, v in after.items() if not k.startswith("_lakelens")} == data_files
    assert fresh_backend.get_table("demo", "keep_raw").columns == old.columns
    assert fresh_backend.run_query("SELECT id FROM demo.keep").frame["id"].tolist() == [1]
    assert fresh_backend.run_query("SELECT id FROM demo.keep_raw").frame["id"].tolist() == [1]


# -- register an existing prefix ----------------------------------------------------------------------------
def test_registering_the_curated_demo_prefix_matches_demo_reviews(fresh_backend: LocalBackend) -> None:
    table = ingest.register_prefix(fresh_backend, "curated/reviews/", database="copy", table="reviews")
    original = fresh_backend.get_table("demo", "reviews")
    assert [c.name for c in table.columns] == [c.name for c in original.columns]
    assert [c.type for c in table.columns] == [c.type for c in original.columns]
    assert [k.name for k in table.partition_keys] == ["product_category"]
    sql = "SELECT product_category, count(*) AS n FROM {} GROUP BY 1 ORDER BY 1"
    assert fresh_backend.run_query(sql.format("copy.reviews")).frame.equals(
        fresh_backend.run_query(sql.format("demo.reviews")).frame
    )
    with pytest.raises(IngestError, match="already exists; pass --replace"):
        ingest.register_prefix(fresh_backend, "curated/reviews/", database="copy", table="reviews")


def test_registering_the_raw_tsv_prefix_reads_every_file(fresh_backend: LocalBackend) -> None:
    ingest.register_prefix(fresh_backend, "raw/reviews/", database="copy", table="raw_reviews")
    sql = "SELECT count(*) AS n, sum(star_rating) AS s FROM {}"
    assert fresh_backend.run_query(sql.format("copy.raw_reviews")).frame.equals(
        fresh_backend.run_query(sql.format("demo.reviews_raw")).frame
    )


def test_registering_refuses_mixed_or_missing_files(fresh_backend: LocalBackend) -> None:
    fresh_backend.write("mixed/a.csv", b"a\n1\n")
    fresh_backend.write("mixed/b.jsonl", b'{"a": 1}\n')
    with pytest.raises(IngestError, match="mixes file formats"):
        ingest.register_prefix(fresh_backend, "mixed/", database="demo", table="mixed")
    with pytest.raises(IngestError, match="no data files"):
        ingest.register_prefix(fresh_backend, "nothing/here/", database="demo", table="nothing")
    with pytest.raises(PathError):
        ingest.register_prefix(fresh_backend, "../outside/", database="demo", table="outside")


# -- the command line ---------------------------------------------------------------------------------------
def run_cli(*args: str, lake: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LAKELENS_LAKE_ROOT": str(lake), "LAKELENS_BACKEND": "local"}
    return subprocess.run(
        [sys.executable, "-m", "lib", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_cli_ingest_register_and_query(fresh_backend: LocalBackend, tmp_path: Path) -> None:
    path = tmp_path / "Clothing Reviews.csv"
    data = clothing_csv()
    path.write_bytes(data)
    lake = fresh_backend.root
    done = run_cli(
        "ingest", str(path), "--database", "shop", "--table", "Clothing", "--partition-by", "Class Name", lake=lake
    )
    assert done.returncode == 0, done.stderr
    assert "shop.clothing\tlake://curated/shop/clothing/" in done.stdout and "shop.clothing_raw" in done.stdout
    assert "'Clothing ID' -> clothing_id" in done.stderr
    again = run_cli("ingest", str(path), "--database", "shop", "--table", "clothing", lake=lake)
    assert (
        again.returncode == 1 and "already exists; pass --replace" in again.stderr and "Traceback" not in again.stderr
    )
    query = run_cli("query", "--sql", "SELECT count(*) AS n FROM shop.clothing", lake=lake)
    assert query.returncode == 0 and int(query.stdout.split()[-1]) == len(expected_frame(data))
    reg = run_cli("register", "curated/shop/clothing/", "--database", "shop", "--table", "clothing_again", lake=lake)
    assert reg.returncode == 0, reg.stderr and "partitioned by class_name" in reg.stdout
    bad = run_cli("ingest", str(path), "--database", "shop", "--table", "../x", lake=lake)
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "leaves the lake" in bad.stderr


# -- the aws backend: S3 and Glue on moto ---------------------------------------------------------------------
def s3_keys(backend: AwsBackend) -> dict[str, str]:
    """Every key in the test bucket with its ETag, listed with boto3 directly (not through LakeLens)."""
    client = boto3.client("s3", region_name=REGION, endpoint_url=backend.settings.endpoint_url)
    keys: dict[str, str] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        keys.update({item["Key"]: item["ETag"] for item in page.get("Contents", [])})
    return keys


def glue_tables(backend: AwsBackend, database: str) -> dict[str, dict[str, object]]:
    client = boto3.client("glue", region_name=REGION, endpoint_url=backend.settings.endpoint_url)
    try:
        pages = list(client.get_paginator("get_tables").paginate(DatabaseName=database))
    except client.exceptions.EntityNotFoundException:
        return {}
    return {table["Name"]: table for page in pages for table in page["TableList"]}


def test_aws_ingest_lands_in_s3_and_registers_in_glue(aws_backend: AwsBackend) -> None:
    data = clothing_csv(60)
    plan = ingest.plan_ingest(data, "Womens Clothing.csv", database="shop", table="Clothing Reviews")
    result = ingest.commit(aws_backend, plan, partition_by="Class Name")
    direct = expected_frame(data)
    keys = s3_keys(aws_backend)
    assert "lake/raw/shop/clothing_reviews/Womens Clothing.csv" in keys
    curated = {k for k in keys if k.startswith("lake/curated/shop/clothing_reviews/")}
    assert curated == {
        f"lake/curated/shop/clothing_reviews/class_name={c}/part-0.parquet" for c in set(direct["Class Name"])
    }
    tables = glue_tables(aws_backend, "shop")
    assert set(tables) == {"clothing_reviews", "clothing_reviews_raw"}
    location = tables["clothing_reviews"]["StorageDescriptor"]["Location"]  # type: ignore[index]
    assert location == f"s3://{BUCKET}/lake/curated/shop/clothing_reviews/"
    assert [k["Name"] for k in tables["clothing_reviews"]["PartitionKeys"]] == ["class_name"]  # type: ignore[index]
    raw_columns = [c["Name"] for c in tables["clothing_reviews_raw"]["StorageDescriptor"]["Columns"]]  # type: ignore[index]
    assert raw_columns == [wr.catalog.sanitize_column_name(h) for h in HEADERS]
    partitions = aws_backend.list_partitions("shop", "clothing_reviews").partitions
    assert sorted(p.values[0] for p in partitions) == sorted(set(direct["Class Name"]))
    assert all(
        p.location.startswith(f"s3://{BUCKET}/lake/curated/shop/clothing_reviews/class_name=") for p in partitions
    )
    # the curated files hold what pandas reads from the upload
    body = (
        boto3.client("s3", region_name=REGION, endpoint_url=aws_backend.settings.endpoint_url)
        .get_object(Bucket=BUCKET, Key="lake/curated/shop/clothing_reviews/class_name=Dresses/part-0.parquet")["Body"]
        .read()
    )
    dresses = pq.read_table(io.BytesIO(body))
    assert dresses.num_rows == int((direct["Class Name"] == "Dresses").sum())
    assert {t.qualified_name for t in result.tables} == {"shop.clothing_reviews", "shop.clothing_reviews_raw"}
    assert {t.name for t in aws_backend.list_tables("shop")} == {"clothing_reviews", "clothing_reviews_raw"}


def test_aws_failed_ingest_leaves_no_object_and_no_table(
    aws_backend: AwsBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest.commit(aws_backend, ingest.plan_ingest(b"id\n1\n", "keep.csv", database="shop", table="keep"))
    before_keys, before_tables = s3_keys(aws_backend), set(glue_tables(aws_backend, "shop"))
    original = aws_backend.register_table

    def fail_raw(table: object, **kwargs: object) -> object:
        if getattr(table, "name", "") == "atomic_raw":
            raise LakeLensError("Glue refused the table.")
        return original(table, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(aws_backend, "register_table", fail_raw)
    plan = ingest.plan_ingest(clothing_csv(30), "c.csv", database="shop", table="atomic")
    with pytest.raises(IngestError, match=r"Glue refused the table.*everything it wrote was removed"):
        ingest.commit(aws_backend, plan, partition_by="Class Name")
    assert s3_keys(aws_backend) == before_keys
    assert set(glue_tables(aws_backend, "shop")) == before_tables


def test_aws_replace_and_register_prefix(aws_backend: AwsBackend) -> None:
    ingest.commit(
        aws_backend, ingest.plan_ingest(b"id,v\n1,a\n", "one.csv", database="shop", table="swap"), curated=True
    )
    second = ingest.plan_ingest(b"id,v\n2,b\n3,c\n", "two.csv", database="shop", table="swap")
    with pytest.raises(IngestError, match="already exists; pass --replace"):
        ingest.commit(aws_backend, second, curated=True)
    ingest.commit(aws_backend, second, curated=True, replace=True)
    keys = s3_keys(aws_backend)
    assert "lake/raw/shop/swap/two.csv" in keys and "lake/raw/shop/swap/one.csv" not in keys
    table = ingest.register_prefix(aws_backend, "curated/shop/swap/", database="shop", table="swap_again")
    assert table.location == f"s3://{BUCKET}/lake/curated/shop/swap/"
    assert [(c.name, c.type) for c in table.columns] == [("id", "bigint"), ("v", "string")]
    assert "swap_again" in glue_tables(aws_backend, "shop")
    with pytest.raises(PathError):
        ingest.register_prefix(aws_backend, "../other-bucket/", database="shop", table="nope")


@pytest.mark.parametrize(
    ("writer", "name", "read"),
    [
        ("write_kaggle_clothing", "clothing.csv", lambda p: pd.read_csv(p)),
        (
            "write_amazon_tsv",
            "amazon_reviews_us_Shoes_v1_00.tsv",
            lambda p: pd.read_csv(p, sep="\t", quoting=csv.QUOTE_NONE),
        ),
        ("write_datafiniti_csv", "datafiniti.csv", lambda p: pd.read_csv(p)),
    ],
)
def test_the_plan_counts_missing_values_per_column_as_pandas_does(
    writer: str, name: str, read: object, tmp_path: Path
) -> None:
    """Before anything is written the plan says how many fields of each column are empty (NULL in the table)."""
    from tests import real_files

    path = getattr(real_files, writer)(tmp_path / name)
    plan = ingest.plan_ingest(path.read_bytes(), name, database="shop", table="reviews")
    frame = read(path)  # type: ignore[operator]
    assert [c.source for c in plan.columns] == [("" if c.startswith("Unnamed: ") else c) for c in frame.columns]
    assert [c.missing for c in plan.columns] == [int(frame[c].isna().sum()) for c in frame.columns]
    assert any(c.missing for c in plan.columns)
    assert any(n.startswith("Missing values") for n in plan.notes)
