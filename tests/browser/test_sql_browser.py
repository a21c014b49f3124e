"""The SQL page in a real browser: type a query with completion, run it with Ctrl+Enter, read the rows, draw
the chart, download the whole result, and open the shared link. Screenshots go to tests/browser/screenshots/.

Expected values are computed with pyarrow from the lake's Parquet files, not by the engine under test.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pytest

from tests.browser.conftest import App, assert_no_exception, screenshot, wait_for_app
from tests.conftest import read_curated

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

EDITOR_FRAME = "iframe[title='code_editor.code_editor']"


def reviews(lake: Path) -> pd.DataFrame:
    return read_curated(lake)


def open_sql_page(app: App, page: Page, query: str = "") -> None:
    page.goto(app.url)
    wait_for_app(page, timeout_ms=120_000)
    # The first start builds the demo lake before the app's navigation exists: wait until Home lists the tables.
    page.get_by_text("demo.reviews_raw").first.wait_for(state="attached", timeout=120_000)
    page.goto(f"{app.url}/sql{query}")
    wait_for_app(page)
    page.frame_locator(EDITOR_FRAME).locator(".ace_content").wait_for(timeout=30_000)
    # Ready when the editor has LakeLens's completer besides Ace's snippet, text and keyword completers.
    editor_frame = next(f for f in page.frames if "code_editor" in (f.url or ""))
    editor_frame.wait_for_function(
        "() => { const e = document.querySelector('.ace_editor'); "
        "return e && e.env && e.env.editor.completers && e.env.editor.completers.length >= 4; }",
        timeout=30_000,
    )
    page.wait_for_timeout(500)


# The editor of the script run on screen: right after a tab switch or a new tab, the page can still hold the last
# run's editor, marked stale, until Streamlit removes it.
LIVE_EDITOR = f"[data-testid='stElementContainer']:not([data-stale='true']) {EDITOR_FRAME}"


def type_sql(page: Page, text: str) -> None:
    page.wait_for_function(
        "(selector) => document.querySelectorAll(selector).length === 1", arg=LIVE_EDITOR, timeout=30_000
    )
    editor = page.frame_locator(LIVE_EDITOR).locator(".ace_editor")
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    for number, line in enumerate(text.split("\n")):
        if number:
            page.keyboard.press("Escape")  # Enter would accept a completion
            page.keyboard.press("Enter")
        page.keyboard.type(line, delay=30)


def run_with_keyboard(page: Page) -> None:
    page.keyboard.press("Escape")  # close any completion popup
    page.keyboard.press("Control+Enter")
    page.get_by_text("query id").first.wait_for(timeout=60_000)
    wait_for_app(page)
    page.locator("[role=gridcell]").first.wait_for(state="attached", timeout=30_000)


def test_type_run_chart_download_and_share(app: App, page: Page, tmp_path: Path) -> None:
    open_sql_page(app, page)
    frame = page.frame_locator(EDITOR_FRAME)

    # Completion offers catalog tables while typing.
    type_sql(page, "SELECT product_category, count(*) AS review_count FROM demo.rev")
    popup = frame.locator(".ace_autocomplete")
    popup.wait_for(timeout=10_000)
    # Ace prints the typed prefix apart from the rest of each name, then the kind: "demo.rev|iews table".
    offered = re.sub(r"\s+", " ", popup.inner_text())
    assert re.search(r"rev ?iews table", offered), offered
    screenshot(page, "sql-completion")
    page.keyboard.press("Escape")
    page.keyboard.type("iews GROUP BY product_category ORDER BY review_count DESC", delay=5)
    keywords = frame.locator(".ace_keyword").all_inner_texts()
    assert {"SELECT", "FROM", "GROUP", "BY", "ORDER"} <= {k.strip().upper() for k in keywords}

    # Ctrl+Enter runs; the grid shows the counts the files hold.
    run_with_keyboard(page)
    assert_no_exception(page)
    expected = reviews(app.lake).product_category.value_counts()
    groups = len(reviews(app.lake).product_category.value_counts(dropna=False))  # and the reviews without one
    cells = page.locator("[role=gridcell]").all_inner_texts()
    shown = list(zip(cells[0::2], cells[1::2], strict=False))  # the grid renders the rows in view
    assert len(shown) >= 5
    assert shown == [(name, str(count)) for name, count in expected.head(len(shown)).items()]
    top = expected.index[0]
    body = page.inner_text("body")
    assert f"{groups} rows" in body and "Scanned (est.)" in body
    screenshot(page, "sql-results")

    # The whole result as CSV, written by the backend.
    with page.expect_download(timeout=60_000) as download_info:
        page.get_by_role("button", name="Whole result as CSV").click()
    target = tmp_path / "result.csv"
    download_info.value.save_as(target)
    downloaded = pd.read_csv(target)
    named = downloaded[downloaded.product_category.notna()]  # the reviews without a category: their own row
    assert dict(zip(named.product_category, named.review_count, strict=True)) == expected.to_dict()
    assert len(downloaded) == groups

    # The chart: a bar per category, titled by its subject.
    page.get_by_role("tab", name="Chart").click()
    chart = page.locator("[data-testid='stPlotlyChart']")
    chart.wait_for(timeout=30_000)
    page.locator(".js-plotly-plot .bars path").first.wait_for(timeout=30_000)
    assert page.locator(".js-plotly-plot .bars path").count() == groups  # a bar for the reviews without a category too
    assert "Review count by product category" in chart.inner_text()
    screenshot(page, "sql-chart")

    # The link carries the SQL and the chart; opened elsewhere it fills the editor and (locally) runs.
    link = page.url
    assert "sql=" in link and "chart=" in link
    other = page.context.new_page()
    other.goto(link)
    wait_for_app(other)
    other.get_by_text("query id").first.wait_for(timeout=60_000)
    other.locator("[role=gridcell]").first.wait_for(state="attached", timeout=30_000)
    assert "GROUP BY product_category" in other.frame_locator(EDITOR_FRAME).locator(".ace_content").inner_text()
    assert top in other.locator("[role=gridcell]").all_inner_texts()
    other.close()


def test_big_result_is_truncated_but_downloads_whole(app: App, page: Page, tmp_path: Path) -> None:
    open_sql_page(app, page)
    type_sql(page, "SELECT review_id, star_rating FROM demo.reviews")
    run_with_keyboard(page)
    total = len(reviews(app.lake))
    body = page.inner_text("body")
    assert f"showing 1,000 of {total:,} rows — raise LAKELENS_MAX_ROWS to see more" in body
    with page.expect_download(timeout=60_000) as download_info:
        page.get_by_role("button", name="Whole result as Parquet").click()
    target = tmp_path / "result.parquet"
    download_info.value.save_as(target)
    downloaded = pd.read_parquet(io.BytesIO(target.read_bytes()))
    assert len(downloaded) == total
    assert sorted(downloaded.review_id) == sorted(reviews(app.lake).review_id)
    screenshot(page, "sql-truncated")


def test_a_bad_query_is_one_clear_message(app: App, page: Page) -> None:
    open_sql_page(app, page)
    type_sql(page, "SELECT star_rating\nFROM demo.reviews\nWHERE star_rating = = 1")
    page.keyboard.press("Escape")
    page.keyboard.press("Control+Enter")
    alert = page.locator("[data-testid='stAlert']").filter(has_text="Syntax error")
    alert.first.wait_for(timeout=30_000)
    assert "line 3, column" in alert.first.inner_text()
    assert_no_exception(page)
    screenshot(page, "sql-error")
