"""Load: 16 sessions at once (a minute when asked), switching pages and running queries; no errors, memory bounded.

Each session is a Streamlit ``AppTest`` in its own thread, like a browser tab with its own session state, sharing
the process's cached backend and data exactly as browser sessions share a server. A session keeps choosing a page
(home, Lake, SQL, Sentiment, AutoML) and, on the SQL page, runs a query of its own (a count with a threshold only
it uses, so the cache cannot answer for it), checking the answer against pandas reading the lake's Parquet files.
Afterwards the server process must have grown by less than ``RSS_GROWTH_LIMIT_MB`` and a fresh session must still
render the home page within AppTest's timeout.

The run's length is a parameter: 15 s by default, so that ``make test`` stays short; a minute with
``LAKELENS_LONG_TESTS=1`` (the long run, e.g. before a release), or any length with ``LAKELENS_LOAD_SECONDS=N``.
"""

from __future__ import annotations

import os
import random
import shutil
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.conftest import read_curated
from tests.security.conftest import Ledger

pytestmark = pytest.mark.slow  # left out of `make unit`

ROOT = Path(__file__).resolve().parents[2]
SESSIONS = 16
LONG = os.environ.get("LAKELENS_LONG_TESTS") == "1"
SECONDS = float(os.environ.get("LAKELENS_LOAD_SECONDS") or (60 if LONG else 15))
RSS_GROWTH_LIMIT_MB = 500
PAGES = ["home", "pages/lake.py", "pages/sql.py", "pages/sql.py", "pages/sentiment.py", "pages/automl.py"]
TITLES = {"home": "LakeLens", "pages/lake.py": "Lake", "pages/sql.py": "SQL", "pages/sentiment.py": "Sentiment"}


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


@pytest.fixture
def lake(demo_lake_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private copy of the demo lake: the SQL page writes history into it."""
    root = tmp_path / "lake"
    shutil.copytree(demo_lake_dir, root)
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("LAKELENS_BACKEND", "local")
    monkeypatch.setenv("LAKELENS_LAKE_ROOT", str(root))
    st.cache_data.clear()
    st.cache_resource.clear()
    yield root
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def one_runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """One runtime for every session, as a server has.

    AppTest installs a fresh mock ``Runtime`` before each run and removes it after, a global swap that is not
    thread-safe: one session finishing would pull the runtime from under another that is mid-run. Here every
    session sees the same mock runtime (its media, dataframe and cache managers are the real in-memory ones), which
    is what the sessions of one ``streamlit run`` server share. Two more globals are pinned to what a running
    server holds: the compiled-script cache (AppTest makes a new one per run, and CPython 3.11 can fail compiling
    in several threads at once: "AST constructor recursion depth mismatch"), and the ``pages/`` folder flag, which a
    server decides once and ``st.navigation`` turns off for good, but AppTest resets before every run.
    """
    from unittest.mock import MagicMock

    from streamlit import config
    from streamlit.components.v2.component_manager import BidiComponentManager
    from streamlit.runtime import Runtime, pages_manager
    from streamlit.runtime.caching.storage.dummy_cache_storage import MemoryCacheStorageManager
    from streamlit.runtime.dataframe_source_manager import DataframeSourceManager
    from streamlit.runtime.media_file_manager import MediaFileManager
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import app_test

    runtime = MagicMock(spec=Runtime)
    runtime.media_file_mgr = MediaFileManager(MemoryMediaFileStorage("/mock/media"))
    runtime.dataframe_source_mgr = DataframeSourceManager()
    runtime.cache_storage_manager = MemoryCacheStorageManager()
    components = BidiComponentManager()
    components.discover_and_register_components(start_file_watching=False)
    runtime.bidi_component_registry = components
    scripts = ScriptCache()
    monkeypatch.setattr(app_test, "ScriptCache", lambda: scripts)

    class NoPagesFolder(type(Path())):  # type: ignore[misc]
        def exists(self, *args: Any, **kwargs: Any) -> bool:
            return False if self.name == "pages" else super().exists(*args, **kwargs)

    monkeypatch.setattr(pages_manager, "Path", NoPagesFolder)
    monkeypatch.setattr(Runtime, "instance", classmethod(lambda cls: runtime))
    monkeypatch.setattr(Runtime, "exists", classmethod(lambda cls: True))
    app_test_flag = config.get_option("global.appTest")
    details = config.get_option("client.showErrorDetails")
    config.set_option("client.showErrorDetails", "full")  # a failure here should say what it was
    yield
    config.set_option("client.showErrorDetails", details)
    config.set_option("global.appTest", app_test_flag)  # the sessions' overlapping patches may not restore it


def new_session() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    return at


def problems_on(at: AppTest, where: str) -> list[str]:
    found = [f"{where}: exception {e.message} {' '.join(e.stack_trace)[-1500:]}" for e in at.exception]
    found += [f"{where}: error {e.value}" for e in at.error]
    return found


class Session(threading.Thread):
    def __init__(self, number: int, deadline: float, reviews: pd.DataFrame) -> None:
        super().__init__(name=f"session-{number}", daemon=True)
        self.number, self.deadline, self.reviews = number, deadline, reviews
        self.rng = random.Random(number)
        self.pages = 0
        self.queries = 0
        self.reloads = 0
        self.problems: list[str] = []

    def run(self) -> None:
        try:
            at = new_session()
            self.problems += problems_on(at, "start")
            while time.monotonic() < self.deadline and not self.problems:
                page = self.rng.choice(PAGES)
                if page == "home":
                    at = new_session()  # a reload of the home page
                else:
                    try:
                        at.switch_page(page).run()
                    except KeyError:
                        # AppTest's own bookkeeping (not the app): it serialises every widget of the last tree
                        # and can miss one a rerun dropped from session state. A browser would just send what it
                        # has; the session reloads, as an analyst would, and the page is opened again.
                        if "streamlit/testing" not in traceback.format_exc():
                            raise
                        self.reloads += 1
                        at = new_session()
                        at.switch_page(page).run()
                self.pages += 1
                self.problems += problems_on(at, page)
                title = TITLES.get(page)
                if title and not self.problems and at.title[0].value != title:
                    self.problems.append(f"{page}: title {at.title[0].value!r}")
                if page == "pages/sql.py" and not self.problems:
                    try:
                        self.query(at)
                    except KeyError:
                        # the same AppTest bookkeeping as above, on the rerun a click makes: reload, go on
                        if "streamlit/testing" not in traceback.format_exc():
                            raise
                        self.reloads += 1
                        at = new_session()
        except Exception:
            self.problems.append(traceback.format_exc(limit=3))

    def query(self, at: AppTest) -> None:
        rating = self.rng.randint(1, 5)
        words = self.number * 1_000 + self.queries  # a threshold only this session uses: never a cache hit
        sql = f"SELECT count(*) AS n FROM demo.reviews WHERE star_rating >= {rating} AND length(review_body) < {words}"
        at.session_state["sql.text"] = sql
        at.session_state["sql.code"] = sql
        at.button(key="sql.run_button").click().run()
        while "sql.run" in at.session_state and at.session_state["sql.run"] is not None:
            if time.monotonic() > self.deadline + 60:
                self.problems.append(f"query never finished: {sql}")
                return
            time.sleep(0.2)
            at.run()
        if not at.dataframe:  # the query ended after this tree was drawn: the next rerun shows its result
            at.run()
        self.queries += 1
        self.problems += problems_on(at, sql)
        if self.problems:
            return
        expected = int(((self.reviews.star_rating >= rating) & (self.reviews.review_body.str.len() < words)).sum())
        got = at.dataframe[0].value["n"].tolist()
        if got != [expected]:
            self.problems.append(f"{sql}: {got} instead of {expected}")


def test_sixteen_sessions_for_a_minute(lake: Path, one_runtime: None, ledger: Ledger) -> None:
    reviews = read_curated(lake)
    warm = new_session()  # imports and the backend are paid before the baseline, as on a server that is up
    warm.switch_page("pages/sql.py").run()
    assert not warm.exception
    baseline = rss_mb()

    deadline = time.monotonic() + SECONDS
    sessions = [Session(number, deadline, reviews) for number in range(SESSIONS)]
    for session in sessions:
        session.start()
    for session in sessions:
        session.join(SECONDS + 180)
    assert not any(s.is_alive() for s in sessions), "a session hung"
    problems = [f"{s.name}: {p}" for s in sessions for p in s.problems]
    assert problems == [], "\n\n".join(problems)
    pages = sum(s.pages for s in sessions)
    queries = sum(s.queries for s in sessions)
    assert all(s.pages >= 2 for s in sessions), [s.pages for s in sessions]
    assert queries >= SESSIONS / 2

    growth = rss_mb() - baseline
    assert growth < RSS_GROWTH_LIMIT_MB, f"memory grew by {growth:.0f} MB"

    started = time.monotonic()
    fresh = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
    fresh_s = time.monotonic() - started
    assert not fresh.exception and not fresh.error and fresh.title[0].value == "LakeLens"
    assert {m.label: m.value for m in fresh.metric}["Tables"] == "2"

    for session in sessions:
        ledger.add("sessions", session.name)
    ledger.note("sessions", "seconds", f"{SECONDS:.0f}")
    ledger.note("sessions", "pages rendered", pages)
    ledger.note("sessions", "queries checked against pandas", queries)
    ledger.note("sessions", "AppTest reloads", sum(s.reloads for s in sessions))
    ledger.note("sessions", "memory growth", f"{growth:.0f} MB (limit {RSS_GROWTH_LIMIT_MB} MB)")
    ledger.note("sessions", "fresh home page afterwards", f"{fresh_s:.1f} s")
