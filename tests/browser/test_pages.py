"""Open every page in a real browser: no exception box, the content an analyst expects, a screenshot each."""

from __future__ import annotations

import pytest

from tests.browser.conftest import App, assert_no_exception, screenshot, wait_for_app

pytestmark = pytest.mark.browser


def test_home_page_lists_the_demo_tables(app: App, page: object) -> None:
    page.goto(app.url)  # type: ignore[attr-defined]
    wait_for_app(page)
    page.get_by_text("demo.reviews_raw").first.wait_for(state="attached", timeout=60_000)  # type: ignore[attr-defined]
    assert_no_exception(page)
    cells = page.locator("[role=gridcell]").all_inner_texts()  # type: ignore[attr-defined]
    assert {"demo.reviews", "demo.reviews_raw"} <= set(cells)
    body = page.inner_text("body")  # type: ignore[attr-defined]
    assert "Tables" in body and "Objects" in body
    assert "local (embedded)" in body
    screenshot(page, "home")


@pytest.mark.parametrize(
    "path, heading", [("lake", "Lake"), ("sql", "SQL"), ("sentiment", "Sentiment"), ("automl", "AutoML")]
)
def test_every_page_opens_without_error(app: App, page: object, path: str, heading: str) -> None:
    page.goto(f"{app.url}/{path}")  # type: ignore[attr-defined]
    wait_for_app(page)
    page.get_by_role("heading", name=heading).first.wait_for(timeout=30_000)  # type: ignore[attr-defined]
    assert_no_exception(page)
    screenshot(page, path)
