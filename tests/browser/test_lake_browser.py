"""The Lake page in a real browser: browse to a Parquet file and preview it, preview a TSV file, ingest a CSV with
column names LakeLens has never seen through the upload widget, and find the new table in the catalog.

The app runs on its own lake (built by the app on first start), so the ingest does not change the lake the other
browser tests look at. Expected values come from pyarrow/pandas reading the lake's files directly.
"""

from __future__ import annotations

import csv
import io
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlparse

import pandas as pd
import pyarrow.parquet as pq
import pytest

from tests.browser.conftest import App, _require_browser, assert_no_exception, screenshot, start_app, wait_for_app

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

BOOKS = "curated/reviews/product_category=Books/part-0.parquet"
BOOKS_TSV = "raw/reviews/amazon_reviews_us_Books_v1_00.tsv"


@pytest.fixture(scope="module")
def lake_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    _require_browser()
    base = tmp_path_factory.mktemp("lake-browser")
    process, url = start_app(base / "lake", base / "streamlit.log")
    try:
        yield App(url, base / "lake", base / "streamlit.log")
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def open_entry(page: Page, name: str) -> None:
    """Open a folder or file with the page's "Open" box: type its name, pick it."""
    box = page.get_by_role("combobox", name="Open")
    box.click()
    box.fill(name)
    before = page.url
    page.get_by_role("option", name=name, exact=True).first.click()
    page.wait_for_function("url => window.location.href !== url", arg=before, timeout=30_000)
    wait_for_app(page)


def cell(page: Page, text: str) -> None:
    """Wait until a grid on the page shows a cell with exactly ``text`` (grids draw their cells a moment later)."""
    page.locator("[role=gridcell]", has_text=text).first.wait_for(state="attached", timeout=30_000)


def params(page: Page) -> dict[str, str]:
    query = parse_qs(urlparse(page.url).query)
    return {key: values[0] for key, values in query.items()}


def clothing_csv(path: Path) -> pd.DataFrame:
    rows = [
        [767, 33, "", "Absolutely wonderful - silky and sexy and comfortable", 4, 1, "Intimates"],
        [1080, 34, "Love it", 'Love this dress! It\'s sooo pretty, "petite" fits', 5, 1, "Dresses"],
        [1077, 60, "Some major design flaws", "I had such high hopes for this dress", 3, 0, "Dresses"],
        [
            1049,
            50,
            "My favorite buy!",
            "I love, love, love this jumpsuit. it's fun, flirty, and fabulous!",
            5,
            1,
            "Pants",
        ],
        [
            847,
            47,
            "Flattering shirt",
            "This shirt is very flattering to all due to the adjustable front tie.",
            5,
            1,
            "Blouses",
        ],
        [
            1080,
            49,
            "Not for the very petite",
            "I love tracy reese dresses, but this one is not for the very petite.",
            2,
            0,
            "Dresses",
        ],
    ]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Clothing ID", "Age", "Title", "Review Text", "Rating", "Recommended IND", "Class Name"])
    writer.writerows(rows)
    path.write_text(out.getvalue(), "utf-8")
    return pd.read_csv(path, keep_default_na=False)


def test_browse_preview_ingest_and_find_the_table(lake_app: App, page: Page, tmp_path: Path) -> None:
    # The home page first: it builds the demo lake on first start. (A fresh server that is first asked for
    # /lake runs pages/lake.py as a Streamlit "pages/ folder" page, without app.py; see the report.)
    page.goto(lake_app.url)
    wait_for_app(page, 120_000)
    page.get_by_text("demo.reviews_raw").first.wait_for(state="attached", timeout=120_000)
    page.goto(f"{lake_app.url}/lake")
    wait_for_app(page)
    page.get_by_role("heading", name="Lake").first.wait_for(timeout=60_000)
    for name in ("curated/", "reviews/", "product_category=Books/"):
        open_entry(page, name)
    assert params(page) == {"prefix": "curated/reviews/product_category=Books/"}
    cell(page, "part-0.parquet")
    cells = page.locator("[role=gridcell]").all_inner_texts()
    assert "part-0.parquet" in cells
    assert_no_exception(page)
    screenshot(page, "lake_browser")

    open_entry(page, "part-0.parquet")
    assert params(page)["object"] == BOOKS
    page.get_by_text("Row groups").first.wait_for(timeout=30_000)
    meta = pq.read_metadata(lake_app.lake / BOOKS)
    first = pq.read_table(lake_app.lake / BOOKS, columns=["review_id"]).column(0)[0].as_py()
    metrics = {" ".join(m.split()) for m in page.locator("[data-testid=stMetric]").all_inner_texts()}
    assert {f"Rows {meta.num_rows:,}", f"Row groups {meta.num_row_groups}"} <= metrics, metrics
    cell(page, first)
    assert first in page.locator("[role=gridcell]").all_inner_texts()
    assert_no_exception(page)
    screenshot(page, "lake_preview_parquet")

    # a copied link reopens the same view: the TSV preview by URL
    page.goto(f"{lake_app.url}/lake?prefix=raw/reviews/&object={BOOKS_TSV}")
    wait_for_app(page)
    page.get_by_text("tab-separated").first.wait_for(timeout=30_000)
    direct = pd.read_csv(lake_app.lake / BOOKS_TSV, sep="\t", nrows=3, dtype=str)
    cell(page, direct["review_id"][0])
    cells = page.locator("[role=gridcell]").all_inner_texts()
    assert set(direct["review_id"]) <= set(cells)
    assert_no_exception(page)
    screenshot(page, "lake_preview_tsv")

    # ingest a CSV with unfamiliar names through the upload widget
    upload = tmp_path / "Womens Clothing Reviews.csv"
    expected = clothing_csv(upload)
    page.goto(f"{lake_app.url}/lake?tab=Ingest")
    wait_for_app(page)
    page.locator("input[type=file]").set_input_files(str(upload))
    page.get_by_text("What will be written").first.wait_for(timeout=30_000)
    wait_for_app(page)
    cell(page, "clothing_id")
    cells = page.locator("[role=gridcell]").all_inner_texts()
    assert {"Clothing ID", "clothing_id", "Review Text", "review_text", "Class Name", "class_name"} <= set(cells)
    body = page.inner_text("body")
    assert "6 rows" in body and "demo.womens_clothing_reviews" in body
    page.get_by_text("Write a curated Parquet copy").click()
    wait_for_app(page)
    box = page.get_by_role("combobox", name="Partition the copy by")
    box.click()
    page.get_by_role("option", name="class_name", exact=True).click()
    wait_for_app(page)
    assert "curated/demo/womens_clothing_reviews/class_name=<value>/part-0.parquet" in page.inner_text("body")
    assert_no_exception(page)
    page.set_viewport_size({"width": 1400, "height": 2400})
    page.wait_for_timeout(300)
    screenshot(page, "lake_ingest")
    page.set_viewport_size({"width": 1400, "height": 1500})

    page.get_by_role("button", name="Ingest", exact=True).click()
    page.get_by_text("Ingested 6 rows").wait_for(timeout=60_000)
    wait_for_app(page)
    page.get_by_role("button", name="Open demo.womens_clothing_reviews in the catalog").click()
    wait_for_app(page)
    page.get_by_role("heading", name="demo.womens_clothing_reviews").wait_for(timeout=30_000)
    assert params(page) == {"tab": "Catalog", "table": "demo.womens_clothing_reviews"}
    cell(page, "class_name=Dresses")
    cells = page.locator("[role=gridcell]").all_inner_texts()
    assert {"clothing_id", "review_text", "rating", "class_name"} <= set(cells)
    partitions = {f"class_name={value}" for value in expected["Class Name"]}
    assert partitions <= set(cells)
    assert_no_exception(page)
    screenshot(page, "lake_catalog")

    # and the table answers queries: counts per class as pandas counts them in the uploaded file
    from lib.backends.local import LocalBackend
    from tests.conftest import local_settings

    backend = LocalBackend(local_settings(lake_app.lake))
    try:
        got = backend.run_query(
            "SELECT class_name, count(*) AS n FROM demo.womens_clothing_reviews GROUP BY 1 ORDER BY 1"
        ).frame
    finally:
        backend.close()
    want = expected.groupby("Class Name").size().sort_index()
    assert got["class_name"].tolist() == want.index.tolist() and got["n"].tolist() == want.tolist()
