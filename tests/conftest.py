"""Shared fixtures: small lakes built in temporary folders.

The demo lake at 2,000 reviews is big enough for every category to appear and small enough to build in well
under a second; tests that change a lake get their own copy, tests that only read share one per session.

One real AutoML job is trained per session (per xdist worker: the AutoML modules share one xdist group, so one
worker trains it): ``trained_lake_dir`` holds it, ``scored_lake_dir`` adds the demo reviews scored by it. The
AutoML tests copy these folders (``copy_lake``) rather than train again; only tests whose subject is training
itself (budgets, a retrain, a job started from the form) still train, at the shortest budget a job accepts.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pytest

from lib.backends.local import LocalBackend
from lib.lake import demo
from lib.settings import Settings, load_settings
from tests.aws_standin.fixtures import aws_fast_polls
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, _require_browser

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

DEMO_ROWS = 2_000

__all__ = ["aws_fast_polls"]  # autouse: the aws backend polls the stand-in every few hundredths of a second


# -- pytest-xdist (`make test`: -n 2 --dist loadgroup) -------------------------------------------------------------
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each module runs on one worker, in order, with its module fixtures built once (a test with an xdist_group of
    its own, such as the AutoML modules' shared job, keeps it). Runs before xdist reads the groups."""
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))


# -- the reliability and security summary (tests/security/conftest.py): here, so that xdist's controller prints it --
def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    from tests.security import conftest as security

    security.add_to_totals(report)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from tests.security import conftest as security

    security.print_summary(terminalreporter)


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
def browser() -> Iterator[Browser]:
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1500}, accept_downloads=True)
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


# -- one trained AutoML job per session -----------------------------------------------------------------------------
SHARED_JOB = "demo-job"
# 20 s: under a shared machine's load, 10 s can measure only the best candidate, and tests/lib/test_automl.py reads
# the others
SHARED_JOB_BUDGET_S = 20
SCORED_TABLE = "demo.reviews_scored"
AUTOML_GROUP = "automl"  # the xdist group of every module using the shared job: one worker trains it once


@dataclass(frozen=True)
class TrainedLake:
    """A demo lake with ``job`` completed in it; ``before`` is every file's sha256 before the job trained."""

    root: Path
    job: str
    before: dict[str, str]


def copy_lake(source: Path, target: Path) -> Path:
    """A private copy of a lake folder (jobs, tables and all) for a test or a module that writes."""
    shutil.copytree(source, target)
    return target


@pytest.fixture(scope="session")
def trained_lake_dir(demo_lake_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> TrainedLake:
    """The session's one trained job (read-only: copy it with ``copy_lake`` to write)."""
    root = copy_lake(demo_lake_dir, tmp_path_factory.mktemp("trained") / "lake")
    before = lake_checksums(root)
    backend = LocalBackend(local_settings(root))
    try:
        train_demo_job(backend, SHARED_JOB, budget_s=SHARED_JOB_BUDGET_S)
    finally:
        backend.close()
    return TrainedLake(root, SHARED_JOB, before)


@pytest.fixture(scope="session")
def scored_lake_dir(trained_lake_dir: TrainedLake, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The trained lake with the demo reviews scored by its job into ``SCORED_TABLE`` (read-only)."""
    from lib.automl import predict

    root = copy_lake(trained_lake_dir.root, tmp_path_factory.mktemp("scored") / "lake")
    backend = LocalBackend(local_settings(root))
    try:
        predict.run(backend, predict.plan(backend, SHARED_JOB, "demo.reviews", SCORED_TABLE))
    finally:
        backend.close()
    return root
