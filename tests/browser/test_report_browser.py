"""Presenting: pin items from three pages, export the report, open it with the network off; present mode."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser.conftest import App, assert_no_exception, screenshot, wait_for_app

pytestmark = pytest.mark.browser

PARQUET = "curated/reviews/product_category=Books/part-0.parquet"


def pin_visible(page: object) -> None:
    before = pinned_count(page)
    page.get_by_role("button", name="Pin to report").filter(visible=True).first.click()  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        f"() => document.body.innerText.includes('{before + 1} item(s)')", timeout=30_000
    )
    wait_for_app(page)


def pinned_count(page: object) -> int:
    match = re.search(r"(\d+) item\(s\)", page.inner_text("[data-testid='stSidebar']"))  # type: ignore[attr-defined]
    return int(match.group(1)) if match else 0


def go(page: object, title: str) -> None:
    """Follow a sidebar link: the same session, so the report travels with the analyst."""
    page.locator("[data-testid='stSidebarNav']").get_by_role("link", name=title).click()  # type: ignore[attr-defined]
    page.wait_for_timeout(500)  # type: ignore[attr-defined]
    wait_for_app(page)


def test_report_from_three_pages_opens_offline(app: App, page: object, browser: object, tmp_path: Path) -> None:
    page.goto(app.url)  # type: ignore[attr-defined]
    wait_for_app(page, timeout_ms=120_000)
    page.get_by_text("demo.reviews_raw").first.wait_for(state="attached", timeout=120_000)  # type: ignore[attr-defined]

    # Lake: a Parquet preview.
    page.goto(f"{app.url}/lake?object={PARQUET}")  # type: ignore[attr-defined]
    wait_for_app(page)
    page.get_by_text("Preview", exact=True).first.wait_for(timeout=30_000)  # type: ignore[attr-defined]
    pin_visible(page)

    # SQL: run the starter query, pin the result and the chart.
    go(page, "SQL")
    page.get_by_role("button", name="Run", exact=True).click()  # type: ignore[attr-defined]
    page.get_by_text("query id").first.wait_for(timeout=60_000)  # type: ignore[attr-defined]
    wait_for_app(page)
    pin_visible(page)
    page.get_by_role("tab", name="Chart").click()  # type: ignore[attr-defined]
    page.locator(".js-plotly-plot").filter(visible=True).first.wait_for(timeout=30_000)  # type: ignore[attr-defined]
    pin_visible(page)

    # Sentiment: the first chart.
    go(page, "Sentiment")
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)  # type: ignore[attr-defined]
    pin_visible(page)
    assert pinned_count(page) == 4
    assert_no_exception(page)
    screenshot(page, "report-pinned")

    with page.expect_download(timeout=60_000) as download_info:  # type: ignore[attr-defined]
        page.get_by_role("button", name="Export report (HTML)").click()  # type: ignore[attr-defined]
    report = tmp_path / "report.html"
    download_info.value.save_as(report)
    text = report.read_text()
    assert text.count("<section") == 4
    assert "SELECT" in text and str(app.lake) in text and "DuckDB" in text

    # Offline: no request may leave the file, and the charts still draw.
    offline = browser.new_context(offline=True, viewport={"width": 1200, "height": 2400})  # type: ignore[attr-defined]
    requests: list[str] = []
    offline.on("request", lambda request: requests.append(request.url))
    tab = offline.new_page()
    tab.goto(report.as_uri())
    tab.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=30_000)
    assert tab.locator(".js-plotly-plot").count() == 2
    assert tab.locator(".js-plotly-plot .bars path, .js-plotly-plot .trace path").count() > 3
    assert all(url.startswith(("file:", "data:", "blob:", "about:")) for url in requests), requests
    tab.screenshot(path=str(Path(__file__).parent / "screenshots" / "report-offline.png"), full_page=True)
    offline.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_present_mode_hides_controls_and_keeps_the_filters(app: App, browser: object, scheme: str) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1500}, color_scheme=scheme)  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(app.url)
    wait_for_app(page, timeout_ms=120_000)
    page.get_by_text("demo.reviews_raw").first.wait_for(state="attached", timeout=120_000)
    page.goto(f"{app.url}/sentiment?present=true")
    wait_for_app(page)
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    page.wait_for_timeout(800)
    assert_no_exception(page)
    assert not page.locator("[data-testid='stSidebar']").is_visible()
    assert not page.get_by_role("button", name="Pin to report").filter(visible=True).count()
    assert page.get_by_role("button", name="Exit present mode").is_visible()
    assert "demo.reviews" in page.inner_text("[data-testid='stMain']")  # the caption says what the numbers are of
    screenshot(page, f"present-sentiment-{scheme}")
    page.get_by_role("button", name="Exit present mode").click()
    wait_for_app(page)
    assert "present" not in page.url
    context.close()
