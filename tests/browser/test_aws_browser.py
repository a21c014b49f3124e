"""Every page in a real browser on the aws backend: the app talks to the AWS stand-in (moto, and an Athena that
runs the SQL) over HTTP, with the demo lake built in its S3 and Glue by ``demo.build``.

The Sentiment page is opened on aws and on a local lake built from the same seed and row count; both show the
same numbers, and both screenshots are saved side by side (``sentiment_aws.png``, ``sentiment_local.png``).
Expected values are computed with pandas from the local lake's Parquet files.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import pandas as pd
import pytest

from lib.backends.aws import AwsBackend
from lib.backends.local import LocalBackend
from lib.lake import demo
from tests.aws_fixtures import BUCKET, REGION, make_aws_settings
from tests.aws_standin import StandIn
from tests.browser.conftest import App, _require_browser, assert_no_exception, running_app, screenshot, wait_for_app
from tests.browser.test_sentiment_browser import (
    chart_titles,
    metric,
    open_sentiment,
    wait_for_charts,
    whole_page_screenshot,
)
from tests.browser.test_sql_browser import open_sql_page, run_with_keyboard, type_sql
from tests.conftest import local_settings, read_curated

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytest_plugins = ("tests.aws_standin",)
pytestmark = pytest.mark.browser

DEMO_ROWS = 3_000
CHART_TITLES = (
    "Reviews per sentiment",
    "Average sentiment per category",
    "Sentiment share per category",
    "Words per review, by sentiment",
    "Reviews per month, by sentiment",
)


@dataclass(frozen=True)
class Apps:
    aws: App
    local_lake: Path
    base: Path


@pytest.fixture(scope="module")
def apps(aws_standin: StandIn, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Apps]:
    _require_browser()
    aws_standin.reset()
    boto3.client("s3", region_name=REGION, endpoint_url=aws_standin.url).create_bucket(Bucket=BUCKET)
    backend = AwsBackend(make_aws_settings(aws_standin.url))
    demo.build(backend, DEMO_ROWS)
    backend.close()
    base = tmp_path_factory.mktemp("aws-browser")
    local_lake = base / "local-lake"
    local = LocalBackend(local_settings(local_lake))
    demo.build(local, DEMO_ROWS)
    local.close()
    env = {
        "LAKELENS_BACKEND": "aws",
        "LAKELENS_S3_LAKE": f"s3://{BUCKET}/lake/",
        "LAKELENS_ENDPOINT_URL": aws_standin.url,
        "LAKELENS_AWS_REGION": REGION,
    }
    with running_app(base / "unused-local-lake", base / "streamlit-aws.log", env) as started:
        yield Apps(started, local_lake, base)


def curated(lake: Path) -> pd.DataFrame:
    return read_curated(lake)


def open_sentiment_on_aws(app: App, page: Page) -> None:
    """On aws the page waits for the analyst to start the queries (Athena bills by the bytes each scans)."""
    page.goto(app.url)
    wait_for_app(page, timeout_ms=120_000)
    page.get_by_role("link", name="Sentiment").first.click()
    wait_for_app(page, timeout_ms=60_000)
    page.get_by_role("button", name=re.compile("Run the queries")).click()
    wait_for_charts(page)


def sentiment_numbers(page: Page) -> dict[str, str]:
    return {label: metric(page, label) for label in ("Reviews", "Positive", "Categories")}


def test_sentiment_page_on_aws_shows_the_same_numbers_and_charts_as_local(apps: Apps, page: Page) -> None:
    open_sentiment_on_aws(apps.aws, page)
    assert_no_exception(page)
    aws_numbers = sentiment_numbers(page)
    aws_titles = chart_titles(page)
    for title in CHART_TITLES:
        assert title in aws_titles
    # charts that show data: bars drawn in the per-sentiment chart, a line in the monthly one
    assert page.locator(".js-plotly-plot .bars path").count() > 0
    assert page.locator(".js-plotly-plot .scatterlayer path").count() > 0
    whole_page_screenshot(page, "sentiment_aws")

    frame = curated(apps.local_lake)
    assert aws_numbers["Reviews"] == f"{len(frame):,}"
    assert aws_numbers["Positive"] == f"{(frame['star_rating'] > 3).mean():.1%}"
    assert aws_numbers["Categories"] == str(frame["product_category"].nunique())

    with running_app(apps.local_lake, apps.base / "streamlit-local.log") as local:
        open_sentiment(local, page)
        assert sentiment_numbers(page) == aws_numbers
        assert chart_titles(page) == aws_titles
        whole_page_screenshot(page, "sentiment_local")


@pytest.mark.parametrize(("path", "heading"), [("lake", "Lake"), ("sql", "SQL"), ("automl", "AutoML")])
def test_every_page_opens_on_aws(apps: Apps, page: Page, path: str, heading: str) -> None:
    page.goto(apps.aws.url)
    wait_for_app(page)
    page.get_by_text("demo.reviews_raw").first.wait_for(state="attached", timeout=60_000)
    body = page.inner_text("body")
    assert f"s3://{BUCKET}/lake/" in body
    page.goto(f"{apps.aws.url}/{path}")
    wait_for_app(page)
    page.get_by_role("heading", name=heading).first.wait_for(timeout=30_000)
    if path == "automl":  # the Autopilot section lists the account's jobs (moto's: none) and offers a launch
        page.get_by_text("Launch an Autopilot job").first.wait_for(timeout=30_000)
        page.get_by_text("No Autopilot jobs in this account and region.").first.wait_for(timeout=30_000)
    assert_no_exception(page)
    screenshot(page, f"aws-{path}")


def test_lake_page_on_aws_lists_the_partitions(apps: Apps, page: Page) -> None:
    page.goto(f"{apps.aws.url}/lake?prefix=curated/reviews/")
    wait_for_app(page, timeout_ms=60_000)
    page.get_by_text("product_category=Books/").first.wait_for(state="attached", timeout=60_000)
    assert_no_exception(page)
    screenshot(page, "aws-lake-partitions")


def test_sql_page_on_aws_runs_a_query_with_athenas_result(apps: Apps, page: Page, tmp_path: Path) -> None:
    open_sql_page(apps.aws, page)
    type_sql(page, "SELECT product_category, count(*) AS review_count FROM demo.reviews GROUP BY 1 ORDER BY 2 DESC, 1")
    run_with_keyboard(page)
    assert_no_exception(page)
    expected = curated(apps.local_lake).product_category.value_counts()
    expected = expected.sort_index().sort_values(ascending=False, kind="stable")
    cells = page.locator("[role=gridcell]").all_inner_texts()
    shown = list(zip(cells[0::2], cells[1::2], strict=False))
    assert len(shown) >= 5
    assert shown == [(name, str(count)) for name, count in expected.head(len(shown)).items()]
    body = page.inner_text("body")
    assert "Athena" in body and re.search(r"Scanned", body)
    with page.expect_download(timeout=60_000) as download_info:
        page.get_by_role("button", name="Whole result as CSV").click()
    target = tmp_path / "result.csv"
    download_info.value.save_as(target)
    downloaded = pd.read_csv(target)
    named = downloaded[downloaded.product_category.notna()]  # the reviews without a category: their own row
    assert dict(zip(named.product_category, named.review_count, strict=True)) == expected.to_dict()
    assert len(downloaded) == len(expected) + 1
    screenshot(page, "aws-sql-results")
