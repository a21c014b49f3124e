"""The AutoML page in a real browser: start a small job from the form, watch it finish, open a candidate."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import App, assert_no_exception, screenshot, wait_for_app

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

JOB = "browser-job"


def test_start_a_job_watch_it_finish_and_open_a_candidate(app: App, page: Page) -> None:
    page.goto(app.url)
    page.get_by_text("LakeLens").first.wait_for(timeout=120_000)  # the home page has run: demo lake and navigation
    page.goto(f"{app.url}/automl")
    wait_for_app(page)
    page.get_by_role("heading", name="AutoML").first.wait_for(timeout=60_000)

    page.get_by_text("Start a local job").click()  # the toggle that shows the form
    budget = page.get_by_label("Time budget (seconds)")
    budget.fill("30")  # a short budget measures only the best candidates; this test opens another one
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
    other = next(c for c in candidates if c["name"] != status["best_candidate"] and c["status"] == "Completed")
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


REVIEW_JOB = "browser-review-job"


def _card_id(page: Page) -> str:
    text = page.locator(".st-key-review-card").first.inner_text()
    found = re.search(r"Review (\S+)", text)
    assert found, text
    return found.group(1)


def test_label_three_reviews_with_the_keyboard_and_see_them_in_the_labels_table(app: App, page: Page) -> None:
    import pandas as pd

    from lib.backends.local import LocalBackend
    from tests.conftest import local_settings, train_demo_job

    page.goto(app.url)
    page.get_by_text("LakeLens").first.wait_for(timeout=120_000)  # the demo lake is there
    backend = LocalBackend(local_settings(app.lake))
    train_demo_job(backend, REVIEW_JOB)
    backend.close()

    # Score the reviews from the page, then open the queue.
    page.goto(f"{app.url}/automl?job={REVIEW_JOB}")
    wait_for_app(page)
    page.get_by_text(re.compile(r"Leaderboard · sorted by validation")).wait_for(timeout=60_000)
    page.get_by_text("Score a table with this job").click()
    out = page.get_by_label("New table", exact=True).and_(page.locator("input"))
    out.fill("demo.browser_scored")
    out.press("Tab")
    page.get_by_role("button", name="Score and write the table").click()
    page.get_by_text(re.compile(r"Wrote [\d,]+ rows scored by")).wait_for(timeout=120_000)
    page.get_by_text("Review the model's doubts").click()
    page.locator(".st-key-review-card").wait_for(timeout=60_000)
    wait_for_app(page)
    assert "review=demo.browser_scored" in page.url
    assert_no_exception(page)

    labelled: list[tuple[str, str]] = []
    for key, answer in (("1", "negative"), ("2", "neutral"), ("3", "positive")):
        current = _card_id(page)
        page.get_by_role("heading", name="AutoML").first.click()  # focus on the page, not on an input
        page.keyboard.press(key)
        page.wait_for_function(
            "(id) => { const c = document.querySelector('.st-key-review-card'); "
            "return c && !c.innerText.includes('Review ' + id); }",
            arg=current,
            timeout=30_000,
        )
        wait_for_app(page)
        labelled.append((current, answer))
    assert_no_exception(page)
    page.get_by_text("Latest answers").first.wait_for(timeout=30_000)
    page.wait_for_timeout(1000)
    cells = page.locator("[role=gridcell]").all_inner_texts()
    for review_id, answer in labelled:
        assert review_id in cells and answer in cells
    page.get_by_text("Review the model's doubts").first.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    screenshot(page, "automl_review_queue")

    folder = app.lake / "curated" / "demo" / "browser_scored_labels"
    stored = pd.concat([pd.read_parquet(p) for p in sorted(folder.glob("*.parquet"))])
    assert sorted(zip(stored["review_id"], stored["label"], strict=True)) == sorted(labelled)
    assert stored["labelled_by"].nunique() == 1
