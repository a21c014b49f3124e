"""The AutoML page in a real browser: start a small job from the form, watch it finish, open a candidate."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.browser.conftest import App, assert_no_exception, screenshot, wait_for_app

pytestmark = pytest.mark.browser

JOB = "browser-job"


def test_start_a_job_watch_it_finish_and_open_a_candidate(app: App, page: Any) -> None:
    page.goto(app.url)
    page.get_by_text("LakeLens").first.wait_for(timeout=120_000)  # the home page has run: demo lake and navigation
    page.goto(f"{app.url}/automl")
    wait_for_app(page)
    page.get_by_role("heading", name="AutoML").first.wait_for(timeout=60_000)

    page.get_by_text("Start a local job").click()  # the toggle that shows the form
    budget = page.get_by_label("Time budget (seconds)")
    budget.fill("10")
    budget.press("Tab")
    name = page.get_by_label("Job name")
    name.fill(JOB)
    name.press("Tab")
    page.get_by_role("button", name="Start the job").click()

    # Live progress: the stages row appears while the job runs in its own process.
    page.get_by_role("heading", name=f"Job {JOB}").wait_for(timeout=60_000)
    page.get_by_text(re.compile("running for")).first.wait_for(timeout=60_000)
    assert_no_exception(page)
    screenshot(page, "automl_running")
    assert f"job={JOB}" in page.url

    # The fragment notices the end and the page redraws with the results.
    try:
        page.get_by_text(re.compile(r"Leaderboard · sorted by validation")).wait_for(timeout=180_000)
    except Exception:
        screenshot(page, "automl_no_leaderboard")
        status_file = app.lake / "automl" / JOB / "status.json"
        raise AssertionError(f"no leaderboard; the job's status: {status_file.read_text()}") from None
    wait_for_app(page)
    page.wait_for_timeout(1500)
    assert_no_exception(page)
    cells = page.locator("[role=gridcell]").all_inner_texts()
    assert "★ best" in cells
    status = json.loads((app.lake / "automl" / JOB / "status.json").read_text())
    assert status["status"] == "Completed"
    candidates = json.loads((app.lake / "automl" / JOB / "candidates.json").read_text())
    assert {c["label"] for c in candidates} <= set(cells)
    screenshot(page, "automl_job")

    # Open another candidate than the best one: its insights, and the URL names it.
    other = next(c for c in candidates if c["name"] != status["best_candidate"])
    page.locator("[data-testid='stButtonGroup']").get_by_text(other["label"], exact=True).click()
    page.get_by_role("heading", name=other["label"], exact=True).wait_for(timeout=30_000)
    wait_for_app(page)
    page.wait_for_function(f"() => location.search.includes('candidate={other['name']}')", timeout=10_000)
    page.get_by_role("tab", name="ROC and PR curves").click()
    page.get_by_text(f"ROC curves of {other['label']}").first.wait_for(timeout=30_000)
    page.wait_for_timeout(1500)
    assert_no_exception(page)
    screenshot(page, "automl_candidate_curves")

    page.get_by_role("tab", name="Top tokens").click()
    page.get_by_text(f"Words that push {other['label']}").first.wait_for(timeout=30_000)
    page.wait_for_timeout(1500)
    screenshot(page, "automl_candidate_tokens")

    page.get_by_role("tab", name="Try it").click()
    review = page.locator("[data-testid=stTextArea] textarea")
    review.fill("Absolutely love it. Works perfectly and was easy to set up. I highly recommend it.")
    review.press("Control+Enter")
    page.get_by_text(re.compile(r"answers positive")).first.wait_for(timeout=30_000)
    page.wait_for_timeout(1000)
    assert_no_exception(page)
    screenshot(page, "automl_try_it")
