"""Open every page in a real browser: no exception box, the content an analyst expects, a screenshot each."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import App, assert_no_exception, screenshot, wait_for_app

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


def test_home_page_lists_the_demo_tables(app: App, page: Page) -> None:
    page.goto(app.url)
    wait_for_app(page)
    page.get_by_text("demo.reviews_raw").first.wait_for(state="attached", timeout=60_000)
    assert_no_exception(page)
    cells = page.locator("[role=gridcell]").all_inner_texts()
    assert {"demo.reviews", "demo.reviews_raw"} <= set(cells)
    body = page.inner_text("body")
    assert "Tables" in body and "Objects" in body
    assert "local (embedded)" in body
    screenshot(page, "home")


@pytest.mark.parametrize(
    "path, heading, ready",
    [
        ("lake", "Lake", "curated/"),
        ("sql", "SQL", "Results"),
        ("sentiment", "Sentiment", "Read the reviews"),  # the last section: every query has answered
        ("automl", "AutoML", None),
        ("reports", "Reports", None),
    ],
)
def test_every_page_opens_without_error(app: App, page: Page, path: str, heading: str, ready: str | None) -> None:
    page.goto(f"{app.url}/{path}")
    wait_for_app(page)
    page.get_by_role("heading", name=heading).first.wait_for(timeout=30_000)
    if ready:  # the screenshot shows the page drawn, not its loading placeholders
        page.get_by_text(ready).first.wait_for(state="attached", timeout=60_000)
        page.wait_for_timeout(800)  # plotly draws its charts
    assert_no_exception(page)
    screenshot(page, path)


def test_a_deep_link_is_the_first_request_to_a_fresh_server(
    page: Page, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A colleague's link opened before anyone visited Home: app.py still routes it (sidebar, demo build, state)."""
    from tests.browser.conftest import running_app

    base = tmp_path_factory.mktemp("deeplink")
    with running_app(base / "lake", base / "streamlit.log") as fresh:
        url = fresh.url
        page.goto(f"{url}/lake?prefix=curated/reviews/")
        wait_for_app(page, timeout_ms=120_000)
        nav = page.locator("[data-testid='stSidebarNav']")
        nav.get_by_role("link", name="Home").wait_for(timeout=60_000)
        assert nav.get_by_role("link", name="Lake").is_visible()
        page.get_by_text("product_category=Books/").first.wait_for(state="attached", timeout=60_000)
        assert "prefix=curated" in page.url
        assert_no_exception(page)
        screenshot(page, "deep-link-fresh-server")
