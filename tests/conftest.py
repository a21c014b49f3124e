"""Shared fixtures: small lakes built in temporary folders.

The demo lake at 2,000 reviews is big enough for every category to appear and small enough to build in well
under a second; tests that change a lake get their own copy, tests that only read share one per session.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from lib.backends.local import LocalBackend
from lib.lake import demo
from lib.settings import Settings, load_settings
from tests.aws_standin.fixtures import aws_fast_polls
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, _require_browser

DEMO_ROWS = 2_000

__all__ = ["aws_fast_polls"]  # autouse: the aws backend polls the stand-in every few hundredths of a second


def read_curated(root: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """The demo lake's curated reviews read with pyarrow directly (not through LakeLens): the Hive folders' values
    as a plain string column, Hive's default folder as a missing category."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    partitioning = ds.partitioning(pa.schema([("product_category", pa.string())]), flavor="hive")
    dataset = ds.dataset(root / "curated" / "reviews", format="parquet", partitioning=partitioning)
    frame = dataset.to_table(columns=columns).to_pandas()
    if "product_category" in frame.columns:
        category = frame["product_category"].astype(object)
        frame["product_category"] = category.where(category != "__HIVE_DEFAULT_PARTITION__", None)
    return frame


def local_settings(root: Path, **env: str) -> Settings:
    return load_settings({"LAKELENS_LAKE_ROOT": str(root), **env}, secrets_path="/nonexistent/secrets.toml")


@pytest.fixture(scope="session")
def demo_lake_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo") / "lake"
    demo.build(LocalBackend(local_settings(root)), DEMO_ROWS)
    return root


@pytest.fixture(scope="session")
def demo_backend(demo_lake_dir: Path) -> Iterator[LocalBackend]:
    """A read-only demo lake shared by the session. Do not write to it: use ``fresh_backend``."""
    backend = LocalBackend(local_settings(demo_lake_dir))
    yield backend
    backend.close()


@pytest.fixture
def fresh_backend(demo_lake_dir: Path, tmp_path: Path) -> Iterator[LocalBackend]:
    """A private copy of the demo lake that a test may change."""
    root = tmp_path / "lake"
    shutil.copytree(demo_lake_dir, root)
    backend = LocalBackend(local_settings(root))
    yield backend
    backend.close()


def lake_checksums(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root``: compare before and after to prove nothing changed."""
    import hashlib

    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


# One Playwright instance per test session, shared by every folder's browser tests (tests/browser, tests/security):
# a second sync_playwright() while the first is open fails ("Sync API inside the asyncio loop").
@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1400, "height": 1500}, accept_downloads=True)  # type: ignore[attr-defined]
    tab = context.new_page()
    yield tab
    context.close()


def train_demo_job(backend: Any, name: str, budget_s: int = 10) -> None:
    """A completed AutoML job on the demo reviews, sentiment from the stars (the shortest budget a job accepts)."""
    from lib.automl import jobs

    config = jobs.JobConfig(
        name=name,
        database="demo",
        table="reviews",
        text_column="review_body",
        label_column="star_rating",
        label_source="rating",
        budget_s=budget_s,
    )
    jobs.start_job(backend, config)
    status = jobs.wait(backend, name, timeout_s=240)
    assert status.status == "Completed", status.failure_reason
