"""Reports in a real browser: pins saved to a report, reopened elsewhere, slides by keyboard, offline export; present mode."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pytest

from tests.browser.conftest import App, assert_no_exception, screenshot, wait_for_app

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Dialog, Page

pytestmark = pytest.mark.browser

PARQUET = "curated/reviews/product_category=Books/part-0.parquet"


def pin_visible(page: Page) -> None:
    before = pinned_count(page)
    page.get_by_role("button", name="Pin to report").filter(visible=True).first.click()
    page.wait_for_function(f"() => document.body.innerText.includes('{before + 1} item(s) pinned')", timeout=30_000)
    wait_for_app(page)


def pinned_count(page: Page) -> int:
    match = re.search(r"(\d+) item\(s\) pinned", page.inner_text("[data-testid='stSidebar']"))
    return int(match.group(1)) if match else 0


def go(page: Page, title: str) -> None:
    """Follow a sidebar link: the same session, so the pins travel with the analyst."""
    page.locator("[data-testid='stSidebarNav']").get_by_role("link", name=title).click()
    page.wait_for_timeout(500)
    wait_for_app(page)


def slide_url(page: Page, number: int) -> None:
    page.wait_for_function(f"() => location.search.includes('slide={number}')", timeout=15_000)
    wait_for_app(page)


def test_pins_become_a_report_that_reopens_presents_and_exports_offline(
    app: App, page: Page, browser: Browser, tmp_path: Path
) -> None:
    page.goto(app.url)
    wait_for_app(page, timeout_ms=120_000)
    page.get_by_text("demo.reviews_raw").first.wait_for(state="attached", timeout=120_000)

    # Lake: a Parquet preview (no SQL behind it).
    page.goto(f"{app.url}/lake?object={PARQUET}")
    wait_for_app(page)
    page.get_by_text("Preview", exact=True).first.wait_for(timeout=30_000)
    pin_visible(page)

    # SQL: the starter query's chart, with its SQL.
    go(page, "SQL")
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_text("query id").first.wait_for(timeout=60_000)
    wait_for_app(page)
    page.get_by_role("tab", name="Chart").click()
    page.locator(".js-plotly-plot").filter(visible=True).first.wait_for(timeout=30_000)
    pin_visible(page)
    assert pinned_count(page) == 2

    # Save both to a new report, from the sidebar.
    sidebar = page.locator("[data-testid='stSidebar']")
    sidebar.get_by_label("Title of the new report").fill("Weekly review")
    sidebar.get_by_label("Title of the new report").press("Enter")
    wait_for_app(page)
    sidebar.get_by_role("button", name="Save to report").click()
    sidebar.get_by_role("link", name="Open “Weekly review”").wait_for(timeout=30_000)
    assert_no_exception(page)
    assert (app.lake / "_lakelens" / "reports" / "weekly-review.md").is_file()

    # A colleague opens the link in a browser of their own: the snapshot is there at once.
    other = browser.new_context(viewport={"width": 1400, "height": 1300})
    tab = other.new_page()
    tab.goto(f"{app.url}/reports?report=weekly-review")
    wait_for_app(tab, timeout_ms=60_000)
    tab.get_by_role("heading", name="Weekly review").wait_for(timeout=30_000)
    tab.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=30_000)
    main = tab.inner_text("[data-testid='stMain']")
    assert "From the Lake page" in main and "From the SQL page" in main and "2 block(s)" in main
    assert_no_exception(tab)
    tab.get_by_role("button", name="Refresh").click()
    tab.get_by_text("Refreshed 1 block(s).").wait_for(timeout=60_000)
    wait_for_app(tab)
    tab.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=30_000)

    # Export, then open the file with the network off.
    with tab.expect_download(timeout=60_000) as download_info:
        tab.get_by_role("button", name="Export HTML").click()
    exported = tmp_path / "weekly-review.html"
    download_info.value.save_as(exported)
    offline = browser.new_context(offline=True, viewport={"width": 1200, "height": 2400})
    requests: list[str] = []
    offline.on("request", lambda request: requests.append(request.url))
    file_tab = offline.new_page()
    file_tab.goto(exported.as_uri())
    file_tab.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=30_000)
    assert file_tab.locator("section").count() == 2
    assert file_tab.locator(".js-plotly-plot .bars path, .js-plotly-plot .trace path").count() >= 2
    assert all(url.startswith(("file:", "data:", "blob:", "about:")) for url in requests), requests
    assert (
        file_tab.locator("details pre").count() == 1
    )  # the SQL behind the chart travels with it (the preview had none)
    assert "SELECT" in (file_tab.locator("details pre").first.text_content() or "")
    # What the browser's Print makes: every block starts a page (a long table goes on over more pages).
    file_tab.emulate_media(media="print")
    breaks = file_tab.eval_on_selector_all("section", "s => s.map(e => getComputedStyle(e).breakAfter)")
    assert breaks == ["page", "auto"]
    pdf = file_tab.pdf(format="A4")
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) >= 2
    offline.close()

    # Slides: the keyboard moves between them and the URL follows.
    tab.get_by_role("button", name="Slides").click()
    slide_url(tab, 1)
    tab.locator(".js-plotly-plot, [data-testid='stDataFrame']").first.wait_for(timeout=30_000)
    tab.wait_for_timeout(500)
    tab.keyboard.press("ArrowRight")
    slide_url(tab, 2)
    # the URL moves first; the slide follows with the rerun (slower on a busy machine)
    tab.get_by_text(re.compile(r"slide 2 of 2")).first.wait_for(timeout=30_000)
    assert "slide 2 of 2" in tab.inner_text("[data-testid='stMain']")
    tab.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=30_000)
    tab.keyboard.press("ArrowLeft")
    slide_url(tab, 1)
    tab.keyboard.press("ArrowRight")
    slide_url(tab, 2)
    assert not tab.locator("[data-testid='stSidebar']").is_visible()
    other.close()


def test_a_report_written_as_a_file_in_light_and_dark(app: App, browser: Browser) -> None:
    """The example report of the README: imported as a file, refreshed, shown, and presented (screenshots)."""
    from lib.backends.local import LocalBackend
    from lib.reports.store import ReportStore
    from tests.conftest import local_settings

    text = (Path(__file__).resolve().parents[2] / "docs" / "examples" / "weekly-review.md").read_text()
    context = browser.new_context(viewport={"width": 1400, "height": 3000})
    page = context.new_page()
    page.goto(app.url)  # the first visit builds the demo lake (only into an empty lake: before the report is written)
    wait_for_app(page, timeout_ms=120_000)
    page.get_by_text("demo.reviews_raw").first.wait_for(state="attached", timeout=120_000)
    ReportStore(LocalBackend(local_settings(app.lake))).save("weekly-health", text)
    page.goto(f"{app.url}/reports?report=weekly-health")
    wait_for_app(page, timeout_ms=60_000)
    page.get_by_role("button", name="Refresh").click()
    page.get_by_text("Refreshed 5 block(s).").wait_for(timeout=60_000)
    wait_for_app(page)
    page.locator(".js-plotly-plot .main-svg").nth(2).wait_for(timeout=30_000)
    page.wait_for_timeout(800)
    assert page.locator(".js-plotly-plot").count() == 3 and page.locator("[data-testid='stMetric']").count() == 1
    assert_no_exception(page)
    screenshot(page, "report")
    context.close()
    for scheme in ("light", "dark"):
        context = browser.new_context(viewport={"width": 1400, "height": 900}, color_scheme=scheme)
        slide = context.new_page()
        slide.goto(f"{app.url}/reports?report=weekly-health&slide=2")
        wait_for_app(slide, timeout_ms=60_000)
        slide.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=30_000)
        slide.wait_for_timeout(800)
        box = slide.locator(".js-plotly-plot").first.bounding_box()
        assert box is not None and box["height"] >= 500  # the chart fills the screen
        assert "slide 2 of 5" in slide.inner_text("[data-testid='stMain']")
        assert_no_exception(slide)
        screenshot(slide, f"report-slide-{scheme}")
        context.close()


def test_a_hostile_report_renders_its_script_as_text(app: App, browser: Browser) -> None:
    from tests.lib.test_reports import HOSTILE

    context = browser.new_context(viewport={"width": 1300, "height": 1600})
    dialogs: list[str] = []
    page = context.new_page()
    page.goto(app.url)  # the first visit builds the demo lake (only into an empty lake: before the report is written)
    wait_for_app(page, timeout_ms=120_000)
    page.get_by_text("demo.reviews_raw").first.wait_for(state="attached", timeout=120_000)
    folder = app.lake / "_lakelens" / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hostile.md").write_text(HOSTILE)

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(f"{app.url}/reports?report=hostile")
    wait_for_app(page, timeout_ms=60_000)
    page.get_by_role("button", name="Refresh").click()
    page.get_by_text("Refreshed 2 block(s). 2 refused.").wait_for(timeout=60_000)
    wait_for_app(page)
    main = page.inner_text("[data-testid='stMain']")
    assert "Hello <script>alert('text')</script> and <img src=x onerror=alert(1)>" in main
    assert main.count("refused: read-only") == 2 and "root:x:0" not in main
    assert page.locator("[data-testid='stMain'] img[src='x']").count() == 0
    assert dialogs == []
    context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_present_mode_hides_controls_and_keeps_the_filters(
    app: App, browser: Browser, scheme: Literal["light", "dark"]
) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1500}, color_scheme=scheme)
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
