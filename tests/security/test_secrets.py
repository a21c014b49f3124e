"""Secrets: with recognisable fake AWS credentials, the running app shows, logs, links and exports none of them.

``streamlit run`` serves the app on the aws backend against the moto server, with the access key, secret key and
session token below in its environment. A real browser opens every page, triggers an error, runs a query, takes
the share link and downloads the whole result; the three strings must appear in no page's HTML, no URL the browser
requested, no line of the server's log, the share link, or the exported file. Skips without chromium, as the other
browser tests do (and fails in CI, where LAKELENS_REQUIRE_BROWSER=1).
"""

from __future__ import annotations

import io
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lib.backends.aws import AwsBackend
from lib.catalog import Column, parquet_table
from lib.settings import Settings
from tests.aws_fixtures import column, seed_athena_results
from tests.browser.conftest import (
    _require_browser,
    assert_no_exception,
    screenshot,
    start_app,
    wait_for_app,
)
from tests.security.conftest import Ledger

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytest_plugins = ("tests.aws_fixtures",)
pytestmark = pytest.mark.browser

SECRETS = {
    "AWS_ACCESS_KEY_ID": "AKIAFAKELEAKCHECK000",
    "AWS_SECRET_ACCESS_KEY": "FAKESECRETdoNotLeak123",
    "AWS_SESSION_TOKEN": "FAKETOKENdoNotLeak456",
}
SQL = "SELECT product_category, count(*) AS reviews FROM demo.reviews GROUP BY 1 ORDER BY 2 DESC"
RESULT = (
    [column("product_category", "varchar"), column("reviews", "bigint")],
    [["product_category", "reviews"], ["Books", "3"], ["Toys", "2"]],
)


def leaks(text: str) -> list[str]:
    return [name for name, value in SECRETS.items() if value in text]


@pytest.fixture
def aws_app(aws_settings: Settings, moto_server: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """demo.reviews in moto's S3 and Glue, and ``streamlit run`` on it with the fake credentials."""
    _require_browser()
    backend = AwsBackend(aws_settings)
    for category, ratings in (("Books", [5, 4, 1]), ("Toys", [3, 5])):
        buffer = io.BytesIO()
        pq.write_table(pa.table({"star_rating": pa.array(ratings, pa.int32())}), buffer)
        backend.write(f"curated/reviews/product_category={category}/part-0.parquet", buffer.getvalue())
    backend.write("raw/reviews/reviews.csv", b"review_id,star_rating\nr1,5\nr2,1\n", content_type="text/csv")
    backend.register_table(
        parquet_table(
            "demo",
            "reviews",
            [Column("star_rating", "int")],
            backend.to_s3_location("curated/reviews/"),
            partition_keys=[Column("product_category", "string")],
        )
    )
    backend.close()
    log = tmp_path / "streamlit.log"
    env = {
        "LAKELENS_BACKEND": "aws",
        "LAKELENS_S3_LAKE": str(aws_settings.s3_lake),
        "LAKELENS_ENDPOINT_URL": moto_server,
        "LAKELENS_AWS_REGION": aws_settings.aws_region,
        **SECRETS,
    }
    process, url = start_app(tmp_path / "unused-local-lake", log, env_extra=env)
    try:
        yield url, log
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def test_fake_credentials_appear_nowhere(
    aws_app: tuple[str, Path], moto_server: str, page: Page, tmp_path: Path, ledger: Ledger
) -> None:
    url, log = aws_app
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    seen: dict[str, str] = {}  # what was looked at -> its text

    def visit(name: str, path: str) -> None:
        page.goto(url + path)
        wait_for_app(page, timeout_ms=60_000)
        assert_no_exception(page)
        seen[f"page {name}"] = page.content()
        seen[f"URL of {name}"] = page.url

    visit("home", "/")
    page.get_by_text("demo.reviews").first.wait_for(state="attached", timeout=30_000)
    seen["page home"] = page.content()
    screenshot(page, "secrets-home")
    for name in ("lake", "sentiment", "automl"):
        visit(name, f"/{name}")
    visit("lake preview", "/lake?prefix=raw/reviews/&object=raw/reviews/reviews.csv")

    # An error: a link to an object that is not there.
    visit("lake error", "/lake?object=raw/reviews/missing.csv")
    page.locator("[data-testid='stAlert']").filter(has_text="no object").first.wait_for(timeout=30_000)
    seen["page lake error"] = page.content()
    screenshot(page, "secrets-error")

    # A query from a shared link, run with the Run button (on AWS a link never runs by itself).
    seed_athena_results(moto_server, [RESULT, RESULT])  # the run, then the whole-result export
    visit("sql", f"/sql?sql={quote(SQL)}")
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_text("query id").first.wait_for(timeout=60_000)
    wait_for_app(page)
    page.locator("[role=gridcell]").first.wait_for(state="attached", timeout=30_000)
    assert "Books" in page.locator("[role=gridcell]").all_inner_texts()
    seen["page sql results"] = page.content()
    share_link = page.url
    assert "sql=" in share_link
    seen["share link"] = share_link
    screenshot(page, "secrets-sql")

    with page.expect_download(timeout=60_000) as download_info:
        page.get_by_role("button", name="Whole result as CSV").click()
    exported = tmp_path / "export.csv"
    download_info.value.save_as(exported)
    text = exported.read_text()
    assert "Books" in text  # the export is the result, not an error page
    seen["exported file"] = text

    # A refused statement, shown as an error on the SQL page.
    visit("sql refused", f"/sql?sql={quote('DROP TABLE demo.reviews')}")
    page.get_by_role("button", name="Run", exact=True).click()
    page.locator("[data-testid='stAlert']").filter(has_text="read-only").first.wait_for(timeout=30_000)
    seen["page sql refused"] = page.content()

    seen["URLs requested by the browser"] = "\n".join(requested)
    seen["server log"] = log.read_text(errors="replace")
    assert seen["server log"].strip(), "the server wrote no log at all"
    found = {where: leaks(text) for where, text in seen.items() if leaks(text)}
    assert found == {}
    ledger.add("secrets", "AWS_ACCESS_KEY_ID")
    ledger.add("secrets", "AWS_SECRET_ACCESS_KEY")
    ledger.add("secrets", "AWS_SESSION_TOKEN")
    pages = sum(1 for where in seen if where.startswith("page "))
    ledger.note("secrets", "pages", pages)
    ledger.note("secrets", "URLs", len(requested) + sum(1 for where in seen if where.startswith("URL")))
    ledger.note("secrets", "log lines", len(seen["server log"].splitlines()))
    ledger.note("secrets", "share links", 1)
    ledger.note("secrets", "exports", 1)
