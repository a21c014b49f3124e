"""The Reports page through AppTest: list, open from the link, refresh, slides, edit, versions, pins, aws asks."""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from lib.backends.local import LocalBackend
from lib.reports.store import ReportStore
from tests.aws_fixtures import aws_settings, column, moto_server, seed_athena_results  # noqa: F401  (fixtures)
from tests.conftest import local_settings, read_curated
from tests.lib.test_reports import HOSTILE, PER_CATEGORY

ROOT = Path(__file__).resolve().parents[2]

REPORT = f"""---
title: Weekly health
description: What the reviews say
author: ana
---

Books lead, as every week.

```sql title="Reviews per category" chart=bar x=product_category y=reviews
{PER_CATEGORY}
```

```sql title="All reviews" chart=metric value=n
SELECT count(*) AS n FROM demo.reviews
```

```sql title="Ratings" chart=table
SELECT star_rating, count(*) AS reviews FROM demo.reviews GROUP BY star_rating ORDER BY star_rating
```
"""


@pytest.fixture
def lake(demo_lake_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    import streamlit as st

    root = tmp_path / "lake"
    shutil.copytree(demo_lake_dir, root)
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("LAKELENS_LAKE_ROOT", str(root))
    monkeypatch.setenv("LAKELENS_BACKEND", "local")
    st.cache_data.clear()
    yield root
    st.cache_data.clear()


def store(root: Path) -> ReportStore:
    return ReportStore(LocalBackend(local_settings(root)))


def _key(value: object) -> str | None:
    """A category as a chart or a snapshot holds it: the name, or None for the reviews without one."""
    return None if pd.isna(value) else str(value)  # type: ignore[call-overload]


def reviews(root: Path) -> pd.DataFrame:
    return read_curated(root)


def reports_page(query_params: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for name, value in (query_params or {}).items():
        at.query_params[name] = value
    at.run()
    at.switch_page("pages/reports.py").run()
    assert not at.exception
    return at


def charts(at: AppTest) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def values(data: object) -> list:  # type: ignore[type-arg]
    """A plotly JSON array: a list, or plotly's typed array ({"dtype", "bdata"} in base64)."""
    if isinstance(data, dict) and "bdata" in data:
        return np.frombuffer(base64.b64decode(data["bdata"]), dtype=np.dtype(data["dtype"])).tolist()
    return list(data)  # type: ignore[call-overload]


def html_bodies(at: AppTest) -> str:
    return "\n".join(el.proto.body for el in at.get("html"))


def test_the_list_shows_every_report_and_a_link_opens_one(lake: Path) -> None:
    reports = store(lake)
    reports.create(REPORT)
    reports.create("---\ntitle: Another\nauthor: bo\n---\n")
    at = reports_page()
    assert at.title[0].value == "Reports"
    links = [el.proto.label for el in at.get("page_link") if el.proto.page.endswith("reports")]
    assert "Weekly health" in links and "Another" in links
    captions = " ".join(c.value for c in at.caption)
    assert "3 block(s) · last refreshed never · by ana" in captions and "0 block(s)" in captions

    at = reports_page({"report": "weekly-health"})
    assert at.title[0].value == "Weekly health"
    assert [s.value for s in at.subheader][:3] == ["Reviews per category", "All reviews", "Ratings"]
    assert "Books lead, as every week." in html_bodies(at)
    assert len(at.info) == 3 and all("Not run yet" in i.value for i in at.info)  # nothing ran on opening

    at.button(key="reports.all").click().run()
    assert "report" not in at.query_params and at.title[0].value == "Reports"

    missing = reports_page({"report": "nope"})
    assert len(missing.error) == 1 and "There is no report named 'nope'" in missing.error[0].value
    outside = reports_page({"report": "../../etc/passwd"})
    assert len(outside.error) == 1 and "is not a report name" in outside.error[0].value
    assert not outside.exception


def test_refresh_stores_results_and_the_link_reopens_them_without_a_query(
    lake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store(lake).create(REPORT)
    at = reports_page({"report": "weekly-health"})
    at.button(key="reports.refresh").click().run()
    assert not at.exception and "Refreshed 3 block(s)." in at.success[0].value

    def no_queries(*args: object, **kwargs: object) -> None:
        raise AssertionError("opening a refreshed report must not run its SQL")

    monkeypatch.setattr(LocalBackend, "run_query", no_queries)
    again = reports_page({"report": "weekly-health"})
    frame = reviews(lake)
    bars = charts(again)[0]["data"]
    drawn = {x: y for trace in bars for x, y in zip(values(trace["x"]), values(trace["y"]), strict=True)}
    assert drawn == {_key(k): int(v) for k, v in frame.groupby("product_category", dropna=False).size().items()}
    assert again.metric[0].label == "n" and again.metric[0].value == f"{len(frame):,}"
    table = again.dataframe[0].value
    assert table["reviews"].tolist() == frame.groupby("star_rating").size().sort_index().tolist()
    assert sum("· DuckDB" in c.value and " row" in c.value for c in again.caption) == 3
    assert "last refreshed 20" in " ".join(c.value for c in again.caption)


def test_a_hostile_report_shows_its_text_as_text_and_refuses_its_blocks(lake: Path) -> None:
    slug = store(lake).create(HOSTILE)
    at = reports_page({"report": slug})
    at.button(key="reports.refresh").click().run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 2 and all(e.startswith("refused: read-only") for e in errors)
    bodies = html_bodies(at)
    assert (
        "<script>" not in bodies
        and "<img" not in bodies
        and "javascript:" not in bodies.replace("[click](javascript", "")
    )
    assert "&lt;script&gt;alert('text')&lt;/script&gt;" in bodies or "&lt;script&gt;alert(&#x27;text&#x27;)" in bodies
    assert at.title[0].value == "Quarterly <script>alert('title')</script> review"  # shown as text by Streamlit


def test_slides_one_block_each_with_the_number_in_the_url(lake: Path) -> None:
    store(lake).create(REPORT)
    reports_page({"report": "weekly-health"}).button(key="reports.refresh").click().run()
    at = reports_page({"report": "weekly-health", "slide": "1"})
    assert [t.value for t in at.title] == ["Reviews per category"]
    assert "Books lead, as every week." in html_bodies(at)
    layout = charts(at)[0]["layout"]
    assert layout["height"] == 520 and layout["font"]["size"] == 20  # the figure itself is big, not only CSS
    assert at.button(key="slide_prev").disabled and not at.button(key="slide_next").disabled
    at.button(key="slide_next").click().run()
    assert at.query_params["slide"] == "2" and [t.value for t in at.title] == ["All reviews"]
    at.button(key="slide_next").click().run()
    assert at.query_params["slide"] == "3" and at.button(key="slide_next").disabled
    assert "slide 3 of 3" in " ".join(c.value for c in at.caption)
    at.button(key="slide_exit").click().run()
    assert "slide" not in at.query_params and at.title[0].value == "Weekly health"
    beyond = reports_page({"report": "weekly-health", "slide": "99"})
    assert [t.value for t in beyond.title] == ["Ratings"]  # a slide past the end opens the last one


def test_edit_with_preview_save_keeps_versions_and_restore(lake: Path) -> None:
    reports = store(lake)
    reports.create(REPORT)
    at = reports_page({"report": "weekly-health", "view": "edit"})
    assert at.text_area(key="reports.text.weekly-health").value == REPORT
    changed = REPORT.replace("Books lead, as every week.", "Toys caught up.")
    at.text_area(key="reports.text.weekly-health").set_value(changed).run()
    assert "Toys caught up." in html_bodies(at)  # the preview follows the editor
    at.button(key="reports.save").click().run()
    assert not at.exception and reports.text("weekly-health") == changed
    assert "view" not in at.query_params

    at = reports_page({"report": "weekly-health", "view": "versions"})
    assert len(at.radio[0].options) == 1
    diff = at.code[0].value
    assert "-Books lead, as every week.\n" in diff and "+Toys caught up.\n" in diff
    at.button(key="reports.restore").click().run()
    assert reports.text("weekly-health") == REPORT and len(reports.versions("weekly-health")) == 2

    broken = reports_page({"report": "weekly-health", "view": "edit"})
    broken.text_area(key="reports.text.weekly-health").set_value("no front matter").run()
    assert any("starts with front matter" in e.value for e in broken.error)
    broken.button(key="reports.save").click().run()
    assert reports.text("weekly-health") == REPORT  # nothing unreadable is saved


def test_pins_from_two_pages_are_saved_to_a_new_report_then_to_it_again(lake: Path) -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("pages/sql.py").run()
    at.session_state["sql.text"] = PER_CATEGORY
    at.session_state["sql.code"] = PER_CATEGORY
    at.button(key="sql.run_button").click().run()
    for _ in range(100):
        at.run()
        if at.session_state["sql.run"] is None:
            break
    number = at.session_state["sql.outcome"].number
    at.button(key=f"pin_sql.result.{number}").click().run()
    at.switch_page("pages/lake.py").run()
    assert len(at.session_state["report_items"]) == 1
    assert at.selectbox(key="pins.target").value == "__new__"
    at.text_input(key="pins.title").set_value("Monday numbers").run()
    at.button(key="pins.save").click().run()
    assert not at.exception and at.session_state["report_items"] == []
    stored = store(lake).load("monday-numbers")
    block = stored.report.blocks[0]
    assert (block.title, block.chart, block.sql) == ("Query result", "table", PER_CATEGORY)
    expected = reviews(lake).groupby("product_category", dropna=False).size()
    rows = {r["product_category"]: r["reviews"] for r in stored.snapshot(0).records or []}  # type: ignore[union-attr]
    assert rows == {_key(k): int(v) for k, v in expected.items()}
    links = [el.proto.label for el in at.get("page_link")]
    assert "Open “Monday numbers”" in links

    # A second pin goes to the report picked in the sidebar.
    at.switch_page("pages/sql.py").run()
    at.button(key=f"pin_sql.result.{number}").click().run()
    at.selectbox(key="pins.target").set_value("monday-numbers").run()
    at.button(key="pins.save").click().run()
    assert len(store(lake).load("monday-numbers").report.blocks) == 2
    assert len(store(lake).versions("monday-numbers")) == 1


def test_a_blocks_sql_opens_in_the_sql_page_and_comes_back(lake: Path) -> None:
    store(lake).create(REPORT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["report"] = "weekly-health"
    at.query_params["block"] = "2"
    at.query_params["sql"] = "SELECT count(*) AS n FROM demo.reviews"
    at.run()
    at.switch_page("pages/sql.py").run()
    assert not at.exception
    assert at.session_state["sql.text"] == "SELECT count(*) AS n FROM demo.reviews"
    new_sql = "SELECT count(*) AS n FROM demo.reviews WHERE star_rating >= 4"
    at.session_state["sql.text"] = new_sql
    at.session_state["sql.code"] = new_sql
    at.button(key="reports.sql_back").click().run()
    assert not at.exception
    text = store(lake).text("weekly-health")
    assert text == REPORT.replace("SELECT count(*) AS n FROM demo.reviews\n", new_sql + "\n")


# -- aws -----------------------------------------------------------------------------------------------------------
@pytest.fixture
def aws_lake(aws_settings, moto_server: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]  # noqa: F811
    import streamlit as st

    from lib.backends.aws import AwsBackend
    from tests.aws_fixtures import seed_small_reviews

    backend = AwsBackend(aws_settings)
    seed_small_reviews(backend)
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("LAKELENS_BACKEND", "aws")
    monkeypatch.setenv("LAKELENS_S3_LAKE", aws_settings.s3_lake)
    monkeypatch.setenv("LAKELENS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("LAKELENS_AWS_REGION", aws_settings.aws_region)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield backend
    st.cache_data.clear()
    st.cache_resource.clear()
    backend.close()


def test_on_athena_refresh_shows_the_estimate_and_runs_only_when_asked(aws_lake, moto_server: str) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    ReportStore(aws_lake).create(
        f"---\ntitle: S3 weekly\n---\n```sql title=Per chart=bar x=product_category y=reviews\n{PER_CATEGORY}\n```\n"
    )
    athena = aws_lake._client("athena")
    at = reports_page({"report": "s3-weekly"})
    at.button(key="reports.refresh").click().run()
    assert not at.exception
    assert "Refreshing runs 1 query that scans about" in at.warning[0].value and "$0.00005" in at.warning[0].value
    assert athena.list_query_executions()["QueryExecutionIds"] == []  # nothing ran yet
    seed_athena_results(
        moto_server,
        [
            (
                [column("product_category", "varchar"), column("reviews", "bigint")],
                [["product_category", "reviews"], ["Books", "3"], ["Toys", "2"]],
            )
        ],
    )
    at.button(key="reports.confirm_run").click().run()
    assert not at.exception and len(athena.list_query_executions()["QueryExecutionIds"]) == 1
    bars = charts(at)[0]["data"][0]
    assert values(bars["x"]) == ["Books", "Toys"] and values(bars["y"]) == [3, 2]
    assert any("Athena" in c.value for c in at.caption)


def test_a_sentiment_chart_pinned_to_a_report_is_redrawn_from_fresh_rows(lake: Path) -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("pages/sentiment.py").run()
    at.button(key="pin_sentiment.chart_per_sentiment").click().run()
    at.text_input(key="pins.title").set_value("Sentiment").run()
    at.button(key="pins.save").click().run()
    assert not at.exception
    block = store(lake).load("sentiment").report.blocks[0]
    assert (block.title, block.chart, block.x, block.y) == ("Reviews per sentiment", "bar", "sentiment", "reviews")

    page = reports_page({"report": "sentiment"})
    page.button(key="reports.refresh").click().run()
    assert not page.exception
    drawn = {name: sum(values(trace["y"])) for trace in charts(page)[0]["data"] for name in set(values(trace["x"]))}
    ratings = reviews(lake)["star_rating"]
    expected = {
        "negative": int((ratings < 3).sum()),
        "neutral": int((ratings == 3).sum()),
        "positive": int((ratings > 3).sum()),
    }
    assert drawn == expected
