"""The Lake page through AppTest, on the local backend and on the aws backend (moto's S3 and Glue).

What an analyst checks: the folders and files are there, a link reopens the same view, a preview shows the
file's rows, paging walks a big folder without listing it whole, the catalog describes a table as its files are,
and an uploaded CSV becomes a table. Expected values come from pyarrow/pandas reading the files directly.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs

import boto3
import pandas as pd
import pyarrow.parquet as pq
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from lib.backends.aws import AwsBackend
from lib.backends.local import LocalBackend
from lib.lake import ingest
from lib.settings import Settings
from tests import aws_fixtures
from tests.aws_fixtures import BUCKET, REGION
from tests.conftest import read_curated

ROOT = Path(__file__).resolve().parents[2]
BOOKS = "curated/reviews/product_category=Books/part-0.parquet"
BOOKS_TSV = "raw/reviews/amazon_reviews_us_Books_v1_00.tsv"
CLOTHING = (
    "Clothing ID,Age,Title,Review Text,Rating,Class Name\n"
    '767,33,,"Absolutely wonderful - silky, sexy",4,Intimates\n'
    '1080,34,Love it,"Love this dress! ""petite"" fits",5,Dresses\n'
    "1077,60,Design flaws,I had such high hopes,3,Dresses\n"
    "1049,50,Favorite buy,I love this jumpsuit,5,Pants\n"
)

# the aws fixtures (moto server, fresh bucket per test, backend), used by name
moto_server = aws_fixtures.moto_server
aws_settings = aws_fixtures.aws_settings
aws_backend = aws_fixtures.aws_backend


@pytest.fixture
def local_lake(demo_lake_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The shared demo lake, read only."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("LAKELENS_BACKEND", "local")
    monkeypatch.setenv("LAKELENS_LAKE_ROOT", str(demo_lake_dir))
    yield demo_lake_dir


@pytest.fixture
def writable_lake(fresh_backend: LocalBackend, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalBackend]:
    """A private copy of the demo lake for tests that ingest."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("LAKELENS_BACKEND", "local")
    monkeypatch.setenv("LAKELENS_LAKE_ROOT", str(fresh_backend.root))
    yield fresh_backend


def lake_page(**params: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/lake.py")
    for name, value in params.items():
        at.query_params[name] = value
    return at.run()


def grid(at: AppTest, column: str = "Name") -> pd.DataFrame:
    """The first grid on the page that has ``column``."""
    for element in at.dataframe:
        frame: pd.DataFrame = element.value
        if column in frame.columns:
            return frame
    raise AssertionError(f"no grid with a {column!r} column")


def page_links(at: AppTest) -> dict[str, dict[str, str]]:
    links = {}
    for element in at.get("page_link"):
        proto = element.proto
        links[proto.label] = {"page": proto.page, **{k: v[0] for k, v in parse_qs(proto.query_string).items()}}
    return links


def no_errors(at: AppTest) -> None:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


# -- objects -----------------------------------------------------------------------------------------------------
def test_root_lists_the_zones_and_opening_a_folder_puts_it_in_the_url(local_lake: Path) -> None:
    at = lake_page()
    no_errors(at)
    assert at.title[0].value == "Lake"
    assert set(grid(at)["Name"]) == {"_lakelens/", "curated/", "raw/"}
    at.selectbox(key="lake.open::0").select("raw/").run()
    no_errors(at)
    assert at.query_params["prefix"] == "raw/"
    at.run()
    names = grid(at)["Name"].tolist()
    assert names == ["reviews/"]


def test_a_folder_link_lists_its_files_with_sizes(local_lake: Path) -> None:
    at = lake_page(prefix="raw/reviews/")
    no_errors(at)
    frame = grid(at)
    on_disk = sorted(p.name for p in (local_lake / "raw/reviews").iterdir())
    assert frame["Name"].tolist() == on_disk
    books = frame[frame["Name"] == "amazon_reviews_us_Books_v1_00.tsv"].iloc[0]
    size = (local_lake / BOOKS_TSV).stat().st_size
    assert books["Size"] == f"{size / 1000:,.1f} KB" and books["Kind"] == "tsv"
    assert any(f"{len(on_disk)} objects" in c.value for c in at.caption)


def test_filter_and_sort_live_in_the_url(local_lake: Path) -> None:
    at = lake_page(prefix="raw/reviews/", filter="books", sort="Largest")
    no_errors(at)
    assert grid(at)["Name"].tolist() == ["amazon_reviews_us_Books_v1_00.tsv"]
    at = lake_page(prefix="raw/reviews/", sort="Largest")
    sizes = [(local_lake / "raw/reviews" / name).stat().st_size for name in grid(at)["Name"]]
    assert sizes == sorted(sizes, reverse=True)


def test_parquet_preview_reads_the_footer(local_lake: Path) -> None:
    at = lake_page(prefix="curated/reviews/product_category=Books/", object=BOOKS)
    no_errors(at)
    meta = pq.read_metadata(local_lake / BOOKS)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Rows"] == f"{meta.num_rows:,}" and metrics["Row groups"] == str(meta.num_row_groups)
    direct = pq.read_table(local_lake / BOOKS).slice(0, 5).to_pandas()
    preview = grid(at, "review_id")
    assert preview["review_id"].head(5).tolist() == direct["review_id"].tolist()
    assert at.get("download_button"), "a small object can be downloaded"


def test_tsv_preview_and_the_download_cap(local_lake: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKELENS_MAX_DOWNLOAD_BYTES", "1KB")
    at = lake_page(prefix="raw/reviews/", object=BOOKS_TSV)
    no_errors(at)
    assert any("tab-separated" in c.value and "with a header row" in c.value for c in at.caption)
    direct = pd.read_csv(local_lake / BOOKS_TSV, sep="\t", nrows=10, dtype=str)
    assert grid(at, "review_id")["review_id"].head(10).astype(str).tolist() == direct["review_id"].tolist()
    assert not at.get("download_button")
    assert any("LAKELENS_MAX_DOWNLOAD_BYTES" in c.value for c in at.caption)


def test_a_prefix_that_leaves_the_lake_is_refused(local_lake: Path) -> None:
    at = lake_page(prefix="../../etc/")
    assert not at.exception
    assert len(at.error) == 1 and "'..'" in at.error[0].value
    assert set(grid(at)["Name"]) == {"_lakelens/", "curated/", "raw/"}  # the root instead


def test_a_big_folder_pages_with_tokens(writable_lake: LocalBackend) -> None:
    folder = writable_lake.root / "many"
    folder.mkdir()
    for i in range(2_100):
        (folder / f"obj-{i:05d}.txt").write_bytes(b"x")
    at = lake_page(prefix="many/")
    no_errors(at)
    first = grid(at)["Name"].tolist()
    assert first == [f"obj-{i:05d}.txt" for i in range(1_000)]
    at.button(key="lake.next").click().run()
    second = grid(at)["Name"].tolist()
    assert second == [f"obj-{i:05d}.txt" for i in range(1_000, 2_000)]
    at.button(key="lake.next").click().run()
    assert grid(at)["Name"].tolist() == [f"obj-{i:05d}.txt" for i in range(2_000, 2_100)]
    assert at.button(key="lake.next").disabled
    at.button(key="lake.prev").click().run()
    assert grid(at)["Name"].tolist() == second


# -- catalog -----------------------------------------------------------------------------------------------------
def test_catalog_detail_matches_the_files(local_lake: Path) -> None:
    at = lake_page(tab="Catalog", table="demo.reviews")
    no_errors(at)
    assert at.subheader[0].value == "demo.reviews"
    files = [Path(d) / f for d, _, names in os.walk(local_lake / "curated/reviews") for f in names]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Objects"] == f"{len(files):,}" and metrics["Format"] == "Parquet"
    catalog = json.loads((local_lake / "_lakelens/catalog/demo/reviews.json").read_text())
    columns = grid(at, "Column")
    assert columns["Column"].tolist() == [c["Name"] for c in catalog["StorageDescriptor"]["Columns"]] + [
        "product_category"
    ]
    partitions = grid(at, "Partition")
    folders = sorted(p.name for p in (local_lake / "curated/reviews").iterdir())
    assert sorted(partitions["Partition"]) == folders
    links = page_links(at)
    assert links["Query this table"]["page"].endswith("sql") or "sql" in links["Query this table"]["page"]
    assert links["Query this table"]["sql"] == "SELECT * FROM demo.reviews LIMIT 100"
    assert links["Explore sentiment"]["table"] == "demo.reviews"


def test_browse_the_files_opens_the_location(local_lake: Path) -> None:
    at = lake_page(tab="Catalog", table="demo.reviews_raw")
    at.button(key="lake.browse_location").click().run()
    no_errors(at)
    assert at.query_params["prefix"] == "raw/reviews/"
    assert at.session_state["tab"] == "Objects"
    assert len(grid(at)) == len(list((local_lake / "raw/reviews").iterdir()))


def test_an_unknown_table_says_so(local_lake: Path) -> None:
    at = lake_page(tab="Catalog", table="demo.nope")
    assert not at.exception
    assert any("There is no table demo.nope" in w.value for w in at.warning)


# -- ingest ------------------------------------------------------------------------------------------------------
def upload(at: AppTest, name: str, content: bytes) -> AppTest:
    at.file_uploader(key="ingest.file").set_value((name, content, "text/csv"))
    return at.run()


def test_uploading_a_csv_makes_a_queryable_table(writable_lake: LocalBackend) -> None:
    at = lake_page(tab="Ingest")
    no_errors(at)
    upload(at, "Clothing Reviews.csv", CLOTHING.encode())
    no_errors(at)
    schema = grid(at, "Column in the file")
    assert schema["Name"].tolist() == ["clothing_id", "age", "title", "review_text", "rating", "class_name"]
    text = " ".join(m.value for m in at.markdown)
    assert "4 rows" in text and "demo.clothing_reviews" in text
    assert any("'Clothing ID' -> clothing_id" in c.value for c in at.caption)
    at.checkbox(key="ingest.curated:False").check().run()
    at.selectbox(key="ingest.partition").select("class_name").run()
    at.button(key="ingest.go").click().run()
    no_errors(at)
    assert "demo.clothing_reviews and demo.clothing_reviews_raw registered" in at.success[0].value
    expected = pd.read_csv(io.StringIO(CLOTHING)).groupby("Class Name")["Rating"].sum().sort_index()
    got = writable_lake.run_query(
        "SELECT class_name, sum(rating) AS s FROM demo.clothing_reviews GROUP BY 1 ORDER BY 1"
    )
    assert got.frame["s"].tolist() == expected.tolist()
    at.button(key="ingest.open_catalog").click().run()
    assert at.query_params["table"] == "demo.clothing_reviews" and at.session_state["tab"] == "Catalog"

    # the same file again: the table exists, so the page asks before replacing it
    at2 = lake_page(tab="Ingest")
    upload(at2, "Clothing Reviews.csv", CLOTHING.replace("Pants", "Skirts").encode())
    assert any("already exist" in w.value for w in at2.warning)
    assert at2.button(key="ingest.go").disabled
    replace = [c for c in at2.checkbox if c.label.startswith("Replace the existing table")]
    replace[0].check().run()
    at2.button(key="ingest.go").click().run()
    no_errors(at2)
    got = writable_lake.run_query("SELECT DISTINCT class_name FROM demo.clothing_reviews ORDER BY 1").frame
    assert got["class_name"].tolist() == ["Dresses", "Intimates", "Skirts"]


def test_bad_uploads_get_one_clear_message(writable_lake: LocalBackend) -> None:
    before = sorted(p for p in writable_lake.root.rglob("*") if p.is_file())
    at = lake_page(tab="Ingest")
    upload(at, "cities.csv", "name,city\nJosé,Málaga\n".encode("latin-1"))
    assert not at.exception
    assert len(at.error) == 1 and "not UTF-8" in at.error[0].value and "latin-1" in at.error[0].value
    encoding = next(s for s in at.selectbox if s.label == "Encoding")
    encoding.select("latin-1").run()
    no_errors(at)
    assert "1 rows" in " ".join(m.value for m in at.markdown)
    at = lake_page(tab="Ingest")
    upload(at, "bad.csv", b"a,b\n1,2\n3\n")
    assert len(at.error) == 1 and "line 3: 1 field(s)" in at.error[0].value
    at = lake_page(tab="Ingest")
    upload(at, "empty.csv", b"")
    assert len(at.error) == 1 and "empty" in at.error[0].value
    assert sorted(p for p in writable_lake.root.rglob("*") if p.is_file()) == before


def test_registering_a_folder_from_the_browser(writable_lake: LocalBackend) -> None:
    at = lake_page(prefix="curated/reviews/")
    next(t for t in at.text_input if t.label == "Table").set_value("reviews_copy")
    next(b for b in at.button if b.label == "Register").click().run()
    no_errors(at)
    assert "Registered demo.reviews_copy" in at.success[0].value
    table = writable_lake.get_table("demo", "reviews_copy")
    assert [k.name for k in table.partition_keys] == ["product_category"]
    sql = "SELECT count(*) AS n FROM {}"
    assert writable_lake.run_query(sql.format("demo.reviews_copy")).frame.equals(
        writable_lake.run_query(sql.format("demo.reviews")).frame
    )


# -- the aws backend (moto) --------------------------------------------------------------------------------------
@pytest.fixture
def aws_lake(aws_backend: AwsBackend, aws_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsBackend]:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("LAKELENS_BACKEND", "aws")
    monkeypatch.setenv("LAKELENS_S3_LAKE", aws_settings.s3_lake or "")
    monkeypatch.setenv("LAKELENS_ENDPOINT_URL", aws_settings.endpoint_url or "")
    monkeypatch.setenv("LAKELENS_AWS_REGION", REGION)
    st.cache_data.clear()  # moto was reset, but the settings (and so the cache keys) are those of the last test
    plan = ingest.plan_ingest(CLOTHING.encode(), "clothing.csv", database="shop", table="clothing")
    ingest.commit(aws_backend, plan, partition_by="Class Name")
    yield aws_backend


def test_aws_objects_preview_and_catalog(aws_lake: AwsBackend) -> None:
    at = lake_page()
    no_errors(at)
    assert set(grid(at)["Name"]) == {"curated/", "raw/"}
    key = "curated/shop/clothing/class_name=Dresses/part-0.parquet"
    at = lake_page(prefix="curated/shop/clothing/class_name=Dresses/", object=key)
    no_errors(at)
    assert {m.label: m.value for m in at.metric}["Rows"] == "2"  # two Dresses rows in CLOTHING
    properties = grid(at, "Property")
    values = dict(zip(properties["Property"], properties["Value"], strict=True))
    assert values["Storage class"] == "STANDARD" and values["ETag"]
    at = lake_page(tab="Catalog", table="shop.clothing")
    no_errors(at)
    assert at.subheader[0].value == "shop.clothing"
    assert any(f"s3://{BUCKET}/lake/curated/shop/clothing/" in m.value for m in at.markdown)
    assert sorted(grid(at, "Partition")["Partition"]) == [
        "class_name=Dresses",
        "class_name=Intimates",
        "class_name=Pants",
    ]


def test_aws_catalog_lists_more_than_a_glue_page(aws_lake: AwsBackend) -> None:
    glue = boto3.client("glue", region_name=REGION, endpoint_url=aws_lake.settings.endpoint_url)
    template = aws_lake.get_table("shop", "clothing_raw").to_glue_input()
    for i in range(105):
        glue.create_table(DatabaseName="shop", TableInput={**template, "Name": f"extra_{i:03d}"})
    at = lake_page(tab="Catalog")
    no_errors(at)
    tables = next(s for s in at.selectbox if s.label == "Table")
    assert len(tables.options) == 107


def test_aws_upload_lands_in_s3(aws_lake: AwsBackend) -> None:
    at = lake_page(tab="Ingest")
    upload(at, "more.csv", b"id,score\n1,0.5\n2,0.25\n")
    no_errors(at)
    at.button(key="ingest.go").click().run()
    no_errors(at)
    client = boto3.client("s3", region_name=REGION, endpoint_url=aws_lake.settings.endpoint_url)
    body = client.get_object(Bucket=BUCKET, Key="lake/raw/demo/more/more.csv")["Body"].read()
    assert body == b"id,score\n1,0.5\n2,0.25\n"
    keys = {o["Key"] for o in client.list_objects_v2(Bucket=BUCKET, Prefix="lake/raw/")["Contents"]}
    assert "lake/raw/demo/more/more.csv" in keys
    assert aws_lake.get_table("demo", "more").location == f"s3://{BUCKET}/lake/raw/demo/more/"


def test_curate_a_raw_table_from_the_catalog_with_progress(writable_lake: LocalBackend) -> None:
    """Plan, curate in a worker thread with a progress bar, then the table is registered with every row."""
    import time

    at = lake_page(tab="Catalog", table="demo.reviews_raw")
    no_errors(at)
    next(t for t in at.text_input if t.label == "New table").input("demo.reviews_again")
    next(s for s in at.selectbox if s.label == "Partition by").select("star_rating")
    next(b for b in at.button if b.label == "Plan the curate").click().run()
    no_errors(at)
    assert any(
        "demo.reviews_raw → demo.reviews_again" in i.value and "partitioned by star_rating" in i.value for i in at.info
    )
    at.button(key="lake.curate_go").click().run()
    deadline = time.monotonic() + 60
    while not any("Curated" in s.value for s in at.success) and time.monotonic() < deadline:
        time.sleep(0.5)
        at.run()
    no_errors(at)
    assert any("Curated" in s.value and "demo.reviews_again" in s.value for s in at.success)
    files = ds_frame(writable_lake.root)
    got = writable_lake.run_query(
        "SELECT star_rating, count(*) AS n FROM demo.reviews_again GROUP BY 1 ORDER BY 1"
    ).frame
    assert list(got["n"]) == list(files["star_rating"].value_counts().sort_index())
    assert [k.name for k in writable_lake.get_table("demo", "reviews_again").partition_keys] == ["star_rating"]


def ds_frame(root: Path) -> pd.DataFrame:

    return read_curated(root)
