"""The SQL workbench in a real browser: parameters from a link, Format, Plan, a script's results, a column
profile and tabs. Screenshots go to tests/browser/screenshots/ (sql-params, sql-plan, sql-script, sql-profile,
sql-tabs).

Expected values are computed with pyarrow/pandas from the lake's Parquet files, not by the engine under test.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

import pytest

from tests.browser.conftest import App, assert_no_exception, screenshot, wait_for_app
from tests.browser.test_sql_browser import EDITOR_FRAME, open_sql_page, reviews, type_sql

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

pytestmark = pytest.mark.browser

PARAM_SQL = (
    "-- Reviews of one category\n"
    "-- :cat values from SELECT DISTINCT product_category FROM demo.reviews ORDER BY 1\n"
    "SELECT star_rating, count(*) AS reviews FROM demo.reviews WHERE product_category = :cat "
    "GROUP BY star_rating ORDER BY star_rating"
)


def editor_shows(page: Page, text: str, timeout_s: float = 30.0) -> None:
    """Wait until an editor frame shows ``text`` (after a tab switch the page can hold two editors for a while)."""
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for frame in page.frames:
            if "code_editor" not in frame.url:
                continue
            try:
                if text in frame.inner_text("body", timeout=1_000):
                    return
            except Exception:  # a frame being replaced
                continue
        page.wait_for_timeout(250)
    raise AssertionError(f"no editor shows {text!r}")


def editor_text(page: Page) -> str:
    return str(page.frame_locator(EDITOR_FRAME).locator(".ace_content").inner_text())


def chosen(select: Locator) -> str:
    """What a select shows: its text, or the value of its combobox input."""
    inputs = select.locator("input")
    return str(select.inner_text()) + " " + (str(inputs.first.input_value()) if inputs.count() else "")


def test_parameters_format_plan_script_profile_and_tabs(app: App, page: Page) -> None:
    # A link with a parameter value: the select shows it and the result is that category's.
    open_sql_page(app, page, f"?sql={quote(PARAM_SQL)}&p_cat=Books")
    frame = reviews(app.lake)  # the app builds the demo lake on its first start
    books = frame[frame.product_category == "Books"].star_rating.value_counts().sort_index()
    page.get_by_text("query id").first.wait_for(timeout=60_000)
    wait_for_app(page)
    select = page.locator("[data-testid='stSelectbox']").filter(has_text=":cat")
    assert "Books" in chosen(select)
    page.locator("[data-testid='stMainBlockContainer'] [role=gridcell]").first.wait_for(
        state="attached", timeout=30_000
    )
    cells = page.locator("[data-testid='stMainBlockContainer'] [role=gridcell]").all_inner_texts()
    assert list(zip(cells[0::2], cells[1::2], strict=False)) == [(str(k), str(v)) for k, v in books.items()]
    assert_no_exception(page)
    screenshot(page, "sql-params")

    # Profile: every column of the whole result, with a histogram.
    page.get_by_role("button", name="Profile columns").click()
    page.get_by_text(f"Profile of all {len(books)} rows").wait_for(timeout=30_000)
    wait_for_app(page)
    assert_no_exception(page)
    screenshot(page, "sql-profile")

    # Plan: the files read and the filter, next to the estimate.
    page.get_by_role("button", name="Plan").click()
    panel = page.locator(".st-key-sql-plan-panel")
    panel.get_by_text("READ_PARQUET").first.wait_for(timeout=30_000)
    files = len(list((app.lake / "curated" / "reviews").glob("product_category=*/*.parquet")))
    assert f"1/{files}" in panel.inner_text() and "estimate: about" in panel.inner_text()
    screenshot(page, "sql-plan")
    panel.get_by_role("button", name="Close").click()

    # Format rewrites the editor.
    page.get_by_role("button", name="Format").click()
    page.frame_locator(EDITOR_FRAME).get_by_text("GROUP BY").first.wait_for(timeout=30_000)
    wait_for_app(page)
    lines = [line.strip() for line in editor_text(page).splitlines()]
    assert "SELECT" in lines and "FROM demo.reviews" in lines and "GROUP BY" in lines

    # A new tab with a script: one result per statement, the refused one stops it.
    page.get_by_role("button", name="New tab").click()
    wait_for_app(page)
    type_sql(
        page,
        "SELECT count(*) AS total FROM demo.reviews;\nSELECT max(star_rating) AS best FROM demo.reviews;\nDROP TABLE demo.reviews",
    )
    page.keyboard.press("Escape")
    page.keyboard.press("Control+Enter")
    page.get_by_text("statement 3 stopped it").wait_for(timeout=60_000)
    wait_for_app(page)
    body = page.inner_text("body")
    assert "Script of 3 statements · 2 ran" in body and "read-only" in body
    main_cells = page.locator("[data-testid='stMainBlockContainer'] [role=gridcell]").all_inner_texts()
    assert str(len(frame)) in main_cells and str(frame.star_rating.max()) in main_cells
    screenshot(page, "sql-script")

    # Back to the first tab: its query and its result are still there; the link holds both tabs.
    page.locator("[data-testid='stButtonGroup']").get_by_text("Reviews of one category").click()
    editor_shows(page, ":cat")  # each tab has its own editor: the other tab's may still be on the page
    wait_for_app(page)
    assert "Books" in chosen(page.locator("[data-testid='stSelectbox']").filter(has_text=":cat"))
    assert "tabs=" in page.url and "tab=0" in page.url
    screenshot(page, "sql-tabs")
    link = page.url
    other = page.context.new_page()
    other.goto(link)
    wait_for_app(other)
    other.get_by_text("query id").first.wait_for(timeout=60_000)
    tabs = other.locator("[data-testid='stButtonGroup']").first.inner_text()
    assert "Reviews of one category" in tabs and "demo.reviews" in tabs
    other.close()


def test_catalog_statistics_and_a_top_value_opening_the_sql_page(app: App, page: Page) -> None:
    open_sql_page(app, page)  # waits for the first start's demo build
    frame = reviews(app.lake)
    counts = frame.product_category.value_counts()
    page.goto(f"{app.url}/lake?tab=Catalog&table=demo.reviews")
    wait_for_app(page)
    page.get_by_role("button", name="Compute statistics").click()
    page.get_by_text("rows · computed").first.wait_for(timeout=60_000)
    wait_for_app(page)
    assert_no_exception(page)
    screenshot(page, "lake-statistics")
    top = f"{counts.index[0]} ({counts.iloc[0]:,})"
    page.get_by_role("link", name=top).first.click()
    page.get_by_text("query id").first.wait_for(timeout=60_000)
    wait_for_app(page)
    assert f"product_category = '{counts.index[0]}'" in editor_text(page)
    assert "showing 100" in page.inner_text("body") or "100 rows" in page.inner_text("body")
    screenshot(page, "sql-from-a-top-value")
