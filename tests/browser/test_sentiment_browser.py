"""The Sentiment page in a real browser, on the demo lake and on a table with unfamiliar column names.

The app runs on its own lake (a demo lake plus one Parquet table written and registered by the test), so the
tables added here never show up in other browser tests. Expected values are computed with pandas from the data
the test wrote or from the lake's Parquet files, not by the engine under test.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lib.backends.local import LocalBackend
from lib.catalog import LAKE_SCHEME, Column, parquet_table
from lib.lake import demo, ingest
from tests import course_notebook as course
from tests.browser.conftest import App, _require_browser, assert_no_exception, running_app, screenshot, wait_for_app
from tests.conftest import local_settings, read_curated
from tests.real_files import write_kaggle_clothing

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

DEMO_ROWS = 3_000
CHARTS = 8  # per sentiment, average, per category, share, words, monthly counts and average, balance


def feedback_frame(rows: int = 600, seed: int = 11) -> pd.DataFrame:
    """Customer feedback with names nothing like Amazon's: 'Stars Given', 'Customer Comment', 'Product Class'."""
    rng = np.random.default_rng(seed)
    stars = rng.choice([1.0, 2.0, 3.0, 4.0, 5.0], rows, p=[0.1, 0.1, 0.15, 0.25, 0.4])
    words = ["great", "fit", "returned", "cheap", "lovely", "broke", "works", "again", "never", "soft"]
    return pd.DataFrame(
        {
            "Feedback ID": np.arange(rows),
            "Stars Given": stars,
            "Customer Comment": [" ".join(rng.choice(words, int(n))) for n in rng.integers(2, 90, rows)],
            "Product Class": rng.choice(["Outdoor", "Garden", "Tools", "Lighting"], rows, p=[0.4, 0.3, 0.2, 0.1]),
            "Submitted Date": [date(2021, 1, 1) + timedelta(days=int(d)) for d in rng.integers(0, 700, rows)],
        }
    )


@pytest.fixture(scope="module")
def sentiment_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    _require_browser()
    base = tmp_path_factory.mktemp("sentiment-browser")
    lake = base / "lake"
    backend = LocalBackend(local_settings(lake))
    demo.build(backend, DEMO_ROWS)
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(feedback_frame(), preserve_index=False), buffer)
    backend.write("curated/customer_feedback/part-0.parquet", buffer.getvalue())
    columns = [
        Column("Feedback ID", "bigint"),
        Column("Stars Given", "double"),
        Column("Customer Comment", "string"),
        Column("Product Class", "string"),
        Column("Submitted Date", "date"),
    ]
    backend.register_table(
        parquet_table("shop", "customer_feedback", columns, LAKE_SCHEME + "curated/customer_feedback/")
    )
    # the course's own file layout (Kaggle clothing CSV), ingested as an analyst would
    kaggle = write_kaggle_clothing(base / "womens_clothing_ecommerce_reviews.csv")
    ingest.ingest_file(backend, kaggle, database="shop", table="clothing", curated=True)
    backend.close()
    with running_app(lake, base / "streamlit.log") as started:
        yield started


def open_sentiment(app: App, page: Page) -> None:
    """Home, then the Sentiment link: the router's own navigation (a first deep link can bypass it, see report)."""
    page.goto(app.url)
    wait_for_app(page, timeout_ms=120_000)
    page.get_by_role("link", name="Sentiment").first.click()
    wait_for_charts(page)


def wait_for_charts(page: Page, charts: int = CHARTS) -> None:
    wait_for_app(page, timeout_ms=60_000)
    page.get_by_text("Read the reviews").first.wait_for(timeout=60_000)
    page.wait_for_function(  # every chart drawn (each has its title)
        "n => document.querySelectorAll('[data-testid=\"stPlotlyChart\"] .gtitle').length >= n",
        arg=charts,
        timeout=60_000,
    )
    page.wait_for_timeout(500)


def whole_page_screenshot(page: Page, name: str) -> Path:
    """Streamlit scrolls an inner container, so make the viewport as tall as the page, then take the picture."""
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMainBlockContainer\"]').scrollHeight + 160")
    page.set_viewport_size({"width": 1400, "height": int(min(max(height, 1500), 12_000))})
    page.wait_for_timeout(1500)  # plotly redraws at the new size
    path = screenshot(page, name)
    page.set_viewport_size({"width": 1400, "height": 1500})
    return path


def metric(page: Page, label: str) -> str:
    box = page.locator("[data-testid='stMetric']").filter(has_text=label).first
    return str(box.locator("[data-testid='stMetricValue']").inner_text()).strip()


def chart_titles(page: Page) -> list[str]:
    texts = page.eval_on_selector_all("[data-testid='stPlotlyChart'] .gtitle", "els => els.map(e => e.textContent)")
    return [str(t).strip() for t in texts]


def test_demo_lake_page_in_the_browser(sentiment_app: App, page: Page) -> None:
    open_sentiment(sentiment_app, page)
    assert_no_exception(page)
    frame = read_curated(sentiment_app.lake, ["star_rating", "product_category"])
    assert metric(page, "Reviews") == f"{len(frame):,}"
    assert metric(page, "Positive") == f"{(frame['star_rating'] > 3).mean():.1%}"
    titles = chart_titles(page)
    for title in (
        "Reviews per sentiment",
        "Average sentiment per category",
        "Sentiment share per category",
        "Words per review, by sentiment",
        "Reviews per month, by sentiment",
    ):
        assert title in titles
    grid = page.locator("[role=gridcell]")
    grid.filter(has_text="Mobile_Apps").first.wait_for(state="attached", timeout=30_000)
    cells = grid.all_inner_texts()
    assert {"Books", "Wireless", "Mobile_Apps"} <= {c.strip() for c in cells}  # the bias table's rows
    body = page.inner_text("body")
    assert "Bias before training" in body and "what it says" in body
    # the SQL behind a chart is one click away and aggregates
    page.get_by_text("SQL behind this chart").first.click()
    code = page.locator("[data-testid='stCode']").first
    code.wait_for(timeout=10_000)
    assert "GROUP BY" in code.inner_text()
    whole_page_screenshot(page, "sentiment_demo")


def test_unfamiliar_column_names_filters_and_balance(sentiment_app: App, page: Page) -> None:
    open_sentiment(sentiment_app, page)
    # pick the table and switch the small-category exclusion on, as an analyst would; both land in the URL
    table = page.locator("[data-testid='stSelectbox']").filter(has_text="Table").first
    table.click()
    page.get_by_role("option", name="shop.customer_feedback").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=\"stMetricValue\"]')].some(e => e.innerText.trim() === '600')",
        timeout=60_000,
    )
    page.get_by_text("Exclude categories with").click()
    page.wait_for_url(re.compile(r"small=true"), timeout=30_000)
    assert "table=shop.customer_feedback" in page.url
    wait_for_charts(page)
    assert_no_exception(page)
    frame = feedback_frame()
    assert metric(page, "Reviews") == f"{len(frame):,}"
    assert metric(page, "Categories") == "4"
    titles = chart_titles(page)
    assert "Reviews per month, by sentiment" in titles  # 'Submitted Date' was recognised as the date
    assert "Words per review, by sentiment" in titles  # 'Customer Comment' as the text
    positive = frame[frame["Stars Given"] > 3]
    assert metric(page, "Positive") == f"{len(positive) / len(frame):.1%}"
    expander = page.locator("[data-testid='stExpander'] summary").filter(has_text="Columns").first
    expander.click()
    page.get_by_text("Detected from the names and types").wait_for(timeout=10_000)
    chosen = page.eval_on_selector_all("[data-testid='stSelectbox'] input", "els => els.map(e => e.value)")
    for name in ("Stars Given", "Customer Comment", "Product Class", "Submitted Date"):
        assert name in chosen
    assert "Feedback ID" not in chosen
    whole_page_screenshot(page, "sentiment_unfamiliar")

    # write the balanced table and find it registered
    table_name = page.get_by_label("Table name", exact=True).and_(page.locator("input"))
    table_name.fill("feedback_balanced")
    page.get_by_role("button", name=re.compile("Write balanced table")).click()
    done = page.get_by_text(re.compile(r"Wrote [\d,]+ reviews \("))
    done.wait_for(timeout=60_000)
    assert "shop.feedback_balanced" in done.inner_text()
    assert_no_exception(page)
    backend = LocalBackend(local_settings(sentiment_app.lake))
    written = backend.run_query(
        "SELECT product_class, sentiment, count(*) AS n FROM shop.feedback_balanced GROUP BY 1, 2"
    ).frame
    backend.close()
    rated = frame.assign(sentiment=np.select([frame["Stars Given"] < 3, frame["Stars Given"] == 3], [-1, 0], 1))
    smallest = int(rated.groupby("sentiment").size().min())  # balanced by sentiment, the course's way
    per_class = written.groupby("sentiment")["n"].sum()
    assert set(per_class) == {smallest} and len(per_class) == 3
    done.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    screenshot(page, "sentiment_balanced")


def test_the_course_switch_shows_what_each_step_removed(sentiment_app: App, page: Page) -> None:
    """The course's file, the course's preparation: the counts the notebook's pandas steps give."""
    open_sentiment(sentiment_app, page)
    table = page.locator("[data-testid='stSelectbox']").filter(has_text="Table").first
    table.click()
    page.get_by_role("option", name="shop.clothing").click()
    raw = pd.read_csv(sentiment_app.lake.parent / "womens_clothing_ecommerce_reviews.csv")
    page.wait_for_function(
        "n => [...document.querySelectorAll('[data-testid=\"stMetricValue\"]')].some(e => e.innerText.trim() === n)",
        arg=f"{len(raw):,}",
        timeout=60_000,
    )
    body = page.inner_text("body")
    missing = course.missing(raw, "Rating", "Review Text", "Class Name")
    assert f"{missing['text']:,} have no text" in body  # off: missing values counted and shown
    page.get_by_text("Prepare as the course does", exact=True).click()
    page.wait_for_url(re.compile(r"course=true"), timeout=30_000)
    prepared = course.prepare(raw, "Rating", "Review Text", "Class Name")
    page.wait_for_function(
        "n => [...document.querySelectorAll('[data-testid=\"stMetricValue\"]')].some(e => e.innerText.trim() === n)",
        arg=f"{len(prepared):,}",
        timeout=60_000,
    )
    wait_for_charts(page, charts=CHARTS - 2)  # no date column: no monthly charts
    assert_no_exception(page)
    line = page.get_by_text("The course's preparation ·").first.inner_text()
    complete = raw.dropna(subset=["Rating", "Class Name"])
    complete = complete[complete["Review Text"].fillna("").str.strip() != ""]
    assert f"without text: −{missing['text']:,}" in line
    assert f"in categories with ≤ 10 reviews: −{len(complete) - len(prepared):,} → {len(prepared):,}" in line
    assert metric(page, "Reviews") == f"{len(prepared):,}"
    whole_page_screenshot(page, "sentiment_course")
