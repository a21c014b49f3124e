"""Every page through Streamlit's AppTest: it renders, shows what the analyst expects, and no exception."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app_env(demo_lake_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("LAKELENS_LAKE_ROOT", str(demo_lake_dir))
    monkeypatch.setenv("LAKELENS_BACKEND", "local")
    yield demo_lake_dir


def new_app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)


def test_home_shows_backend_numbers_and_tables(app_env: Path) -> None:
    at = new_app().run()
    assert not at.exception
    assert at.title[0].value == "LakeLens"
    labels = {m.label: m.value for m in at.metric}
    assert labels["Databases"] == "1" and labels["Tables"] == "2"
    tables = at.dataframe[0].value
    assert set(tables["table"]) == {"demo.reviews", "demo.reviews_raw"}
    text = " ".join(md.value for md in at.markdown)
    assert "local (embedded)" in text and str(app_env) in text


@pytest.mark.parametrize(
    "page, title",
    [
        ("pages/lake.py", "Lake"),
        ("pages/sql.py", "SQL"),
        ("pages/sentiment.py", "Sentiment"),
        ("pages/automl.py", "AutoML"),
        ("pages/reports.py", "Reports"),
    ],
)
def test_every_page_renders(app_env: Path, page: str, title: str) -> None:
    at = new_app().run()
    at.switch_page(page).run()
    assert not at.exception
    assert at.title[0].value == title


def test_empty_lake_gets_the_demo_built_on_first_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("LAKELENS_LAKE_ROOT", str(tmp_path / "empty-lake"))
    monkeypatch.setenv("LAKELENS_DEMO_ROWS", "400")
    at = new_app().run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Tables"] == "2"
    assert (tmp_path / "empty-lake" / "curated" / "reviews").is_dir()


def test_bad_setting_is_one_message_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("LAKELENS_MAX_ROWS", "many")
    at = new_app().run()
    assert not at.exception
    assert len(at.error) == 1 and "LAKELENS_MAX_ROWS" in at.error[0].value


def test_unreachable_lake_is_one_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    monkeypatch.setenv("LAKELENS_LAKE_ROOT", str(not_a_folder))
    at = new_app().run()
    assert not at.exception
    assert len(at.error) == 1 and "not a folder" in at.error[0].value
