"""The SQL page through AppTest on the local backend: run, read, chart, link, confirm, cancel, remember.

Expected numbers come from reading the demo lake's Parquet files with pyarrow, not from the engine under test.
Each test gets its own copy of the demo lake because the page writes history into the lake.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from components.sentiment.charts import SENTIMENT_COLOURS
from lib.charts import ChartSpec, encode
from lib.paths import human_bytes
from lib.sql import week1_queries
from lib.sql.history import History
from tests.aws_fixtures import aws_settings, column, moto_server, seed_athena_results  # noqa: F401  (fixtures)
from tests.conftest import lake_checksums, local_settings, read_curated

ROOT = Path(__file__).resolve().parents[2]
# 2,000⁴ rows to count: it never ends by itself, so only a cancel or the timeout can stop it (and the lake
# fixture interrupts whatever is still running when a test ends, so a failure cannot leave it behind).
SLOW_SQL = "SELECT count(*) AS n FROM demo.reviews a, demo.reviews b, demo.reviews c, demo.reviews d"


@pytest.fixture
def lake(demo_lake_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = tmp_path / "lake"
    shutil.copytree(demo_lake_dir, root)
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("LAKELENS_LAKE_ROOT", str(root))
    monkeypatch.setenv("LAKELENS_BACKEND", "local")
    yield root
    from lib import data

    backend = data.backend()
    for cursor in list(getattr(backend, "_running", {}).values()):
        cursor.interrupt()


def reviews(root: Path) -> pd.DataFrame:
    return read_curated(root)


def sql_page(query_params: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for name, value in (query_params or {}).items():
        at.query_params[name] = value
    at.run()
    at.switch_page("pages/sql.py").run()
    assert not at.exception
    return at


def wait_done(at: AppTest, timeout: float = 60) -> None:
    """Rerun until the worker thread's result has been collected (the fragment's timer does not tick here)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        assert not at.exception
        if not is_running(at):
            return
        time.sleep(0.2)
    raise AssertionError("the query did not finish")


def is_running(at: AppTest) -> bool:
    return "sql.run" in at.session_state and at.session_state["sql.run"] is not None


def set_sql(at: AppTest, sql: str) -> None:
    """What the editor does when the analyst leaves it: the page's copy of the SQL changes."""
    at.session_state["sql.text"] = sql
    at.session_state["sql.code"] = sql


def run(at: AppTest, sql: str | None = None) -> None:
    if sql is not None:
        set_sql(at, sql)
    at.button(key="sql.run_button").click().run()
    wait_done(at)


def test_starter_query_runs_and_matches_the_files(lake: Path) -> None:
    at = sql_page()
    assert at.session_state["sql.text"] == week1_queries()[0].sql
    assert any("Will scan about" in c.value for c in at.caption)
    run(at)
    frame = at.dataframe[0].value
    ratings = reviews(lake).star_rating
    expected = {-1: int((ratings <= 2).sum()), 0: int((ratings == 3).sum()), 1: int((ratings >= 4).sum())}
    assert dict(zip(frame["sentiment"], frame["count_sentiment"], strict=True)) == expected
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Rows"] == "3"
    assert metrics["Scanned (est.)"].endswith("KB") and metrics["Athena cost (est.)"] == "$0.00005"
    captions = " ".join(c.value for c in at.caption)
    assert "3 rows" in captions and "query id" in captions
    assert at.query_params["sql"] == week1_queries()[0].sql


def test_every_week1_starter_runs_unchanged(lake: Path) -> None:
    at = sql_page()
    data = reviews(lake)
    for starter in week1_queries():
        at.selectbox(key="sql.starter").select(starter.title).run()
        assert at.session_state["sql.text"] == starter.sql
        run(at)
        assert not at.error, starter.title
        frame = at.dataframe[0].value
        if starter.title == "Reviews per category":
            counts = data.product_category.fillna("<none>").value_counts()  # reviews without a category: a group
            got = dict(zip(frame.product_category.fillna("<none>"), frame.count_reviews, strict=True))
            assert got == counts.to_dict()
        if starter.title == "Average sentiment per category":
            sentiment = data.star_rating.map(lambda r: -1 if r <= 2 else 0 if r == 3 else 1)
            expected = sentiment.groupby(data.product_category.fillna("<none>")).mean()
            got = dict(zip(frame.product_category.fillna("<none>"), frame.avg_sentiment, strict=True))
            assert got == pytest.approx(expected.to_dict())
        if starter.title == "Words per review":
            words = data.review_body.dropna().str.split(" ").map(len).value_counts()
            got = {k: v for k, v in zip(frame.num_words, frame.count_reviews, strict=True) if pd.notna(k)}
            assert got == words.to_dict()
            without_text = [v for k, v in zip(frame.num_words, frame.count_reviews, strict=True) if pd.isna(k)]
            assert without_text == [data.review_body.isna().sum()]  # NULL text: one NULL group, as on Athena


def test_a_repeated_run_comes_from_the_cache_until_run_fresh(lake: Path) -> None:
    at = sql_page()
    run(at, "SELECT count(*) AS n FROM demo.reviews")
    first_id = at.session_state["sql.outcome"].result.stats.query_id
    run(at)
    assert at.session_state["sql.outcome"].status == "cached"
    assert at.session_state["sql.outcome"].result.stats.query_id == first_id
    assert any("from the cache" in c.value for c in at.caption)
    at.button(key="sql.fresh_button").click().run()
    wait_done(at)
    fresh = at.session_state["sql.outcome"]
    assert fresh.status == "succeeded" and fresh.result.stats.query_id != first_id
    assert fresh.result.frame["n"][0] == len(reviews(lake))
    assert [e.status for e in History(_backend(lake)).recent()] == ["succeeded", "cached", "succeeded"]


def test_result_is_truncated_with_the_setting_named(lake: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKELENS_MAX_ROWS", "50")
    at = sql_page()
    run(at, "SELECT review_id FROM demo.reviews")
    total = len(reviews(lake))
    assert len(at.dataframe[0].value) == 50
    assert any(
        c.value.endswith(f"showing 50 of {total:,} rows — raise LAKELENS_MAX_ROWS to see more") for c in at.caption
    )


def test_chart_is_suggested_and_editable(lake: Path) -> None:
    at = sql_page()
    run(at, "SELECT product_category, count(*) AS n FROM demo.reviews GROUP BY 1")
    (chart,) = at.get("plotly_chart")
    spec = json.loads(chart.proto.spec)
    assert spec["data"][0]["type"] == "bar"
    assert spec["layout"]["title"]["text"] == "N by product category"
    assert at.selectbox(key="chart.1.x").value == "product_category"
    at.selectbox(key="chart.1.kind").select("line").run()
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["data"][0]["mode"] == "lines+markers"
    assert at.query_params["chart"] == encode(ChartSpec("line", "product_category", "n", None, "none"))


def test_sentiment_chart_uses_the_sentiment_colours(lake: Path) -> None:
    at = sql_page()
    run(at, week1_queries()[0].sql)
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    colours = {trace["name"]: trace["marker"]["color"] for trace in spec["data"]}
    assert colours == {name: SENTIMENT_COLOURS[name] for name in ("negative", "neutral", "positive")}


def test_a_link_fills_the_editor_runs_locally_and_draws_its_chart(lake: Path) -> None:
    sql = "SELECT star_rating, count(*) AS reviews FROM demo.reviews GROUP BY 1 ORDER BY 1"
    chart = encode(ChartSpec("scatter", "star_rating", "reviews"))
    at = sql_page({"sql": sql, "chart": chart})
    wait_done(at)
    assert at.session_state["sql.text"] == sql
    frame = at.dataframe[0].value
    expected = reviews(lake).star_rating.value_counts().sort_index()
    assert frame["reviews"].tolist() == expected.tolist()
    assert at.selectbox(key="chart.1.kind").value == "scatter"
    assert json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]["type"] == "scatter"


def test_errors_are_one_message_with_the_place(lake: Path) -> None:
    at = sql_page()
    run(at, "SELECT star_rating\nFROM demo.reviews\nWHERE star_rating = = 1")
    assert len(at.error) == 1 and "line 3, column" in at.error[0].value
    assert not at.dataframe
    set_sql(at, "SELECT colour FROM demo.reviews")
    run(at)
    assert len(at.error) == 1 and "colour" in at.error[0].value


def test_a_write_is_refused_and_the_lake_is_unchanged(lake: Path) -> None:
    data_before = {k: v for k, v in lake_checksums(lake).items() if not k.startswith("_lakelens/history")}
    at = sql_page()
    run(at, "DROP TABLE demo.reviews")
    assert len(at.error) == 1 and "read-only" in at.error[0].value
    after = {k: v for k, v in lake_checksums(lake).items() if not k.startswith("_lakelens/history")}
    assert after == data_before


def test_big_scans_ask_first(lake: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKELENS_SCAN_WARN_BYTES", "1000")
    at = sql_page()
    set_sql(at, "SELECT count(*) AS n FROM demo.reviews")
    at.button(key="sql.run_button").click().run()
    assert not is_running(at)
    assert any("warning limit" in w.value for w in at.warning)
    at.button(key="sql.confirm_yes").click().run()
    wait_done(at)
    assert at.dataframe[0].value["n"][0] == len(reviews(lake))


def test_a_partition_filter_lowers_the_estimate(lake: Path) -> None:
    at = sql_page()
    set_sql(at, "SELECT * FROM demo.reviews WHERE product_category = 'Books'")
    at.run()
    partitions = len(list((lake / "curated" / "reviews").glob("product_category=*")))
    assert any(f"1 of {partitions} partitions" in c.value for c in at.caption)


def test_cancel_stops_the_query(lake: Path) -> None:
    at = sql_page()
    set_sql(at, SLOW_SQL)
    at.button(key="sql.run_button").click().run()
    assert is_running(at)
    assert any("Running" in m.value for m in at.markdown)
    at.button(key="sql.cancel_button").click().run()
    wait_done(at, timeout=30)
    assert len(at.error) == 1 and "cancelled" in at.error[0].value
    (entry,) = History(_backend(lake)).recent()
    assert entry.status == "cancelled" and entry.sql == SLOW_SQL


def test_timeout_names_the_setting(lake: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKELENS_QUERY_TIMEOUT_S", "1")
    at = sql_page()
    run(at, SLOW_SQL)
    assert len(at.error) == 1 and "LAKELENS_QUERY_TIMEOUT_S" in at.error[0].value


def _backend(root: Path):  # type: ignore[no-untyped-def]
    from lib.backends.local import LocalBackend

    return LocalBackend(local_settings(root))


def test_history_records_every_run_and_reruns(lake: Path) -> None:
    at = sql_page()
    run(at, "SELECT 1 AS one")
    run(at, "SELECT nope FROM demo.reviews")
    entries = History(_backend(lake)).recent()
    assert [(e.sql, e.status) for e in entries] == [
        ("SELECT nope FROM demo.reviews", "failed"),
        ("SELECT 1 AS one", "succeeded"),
    ]
    # A restart (a new session) still shows them, and one click runs an old query again.
    at = sql_page()
    at.text_input(key="sql.history_search").input("one").run()
    run_buttons = [b for b in at.button if b.key and b.key.startswith("history.run.")]
    assert len(run_buttons) == 1
    run_buttons[0].click().run()
    wait_done(at)
    assert at.session_state["sql.text"] == "SELECT 1 AS one"
    assert at.dataframe[0].value["one"].tolist() == [1]


def test_saved_queries_are_shared_through_the_lake(lake: Path) -> None:
    at = sql_page()
    set_sql(at, "SELECT count(*) FROM demo.reviews")
    form_inputs = [t for t in at.text_input if t.label == "Name"]
    form_inputs[0].input("Review count")
    at.text_area[0].input("How many reviews there are")
    at.button[[b.label for b in at.button].index("Save query")].click().run()
    assert any("Saved" in s.value for s in at.success)
    other = sql_page()  # another analyst's session
    open_buttons = [b for b in other.button if b.key == "saved.open.Review count"]
    open_buttons[0].click().run()
    assert other.session_state["sql.text"] == "SELECT count(*) FROM demo.reviews"
    assert any("How many reviews there are" in m.value for m in other.markdown)


def test_schema_sidebar_lists_columns_and_inserts_names(lake: Path) -> None:
    at = sql_page()
    labels = [b.label for b in at.sidebar.button]
    assert "`star_rating` :gray[int]" in labels
    assert "`product_category` :gray[string] :gray[· partition]" in labels
    set_sql(at, "SELECT ")
    at.session_state["sql.cursor"] = {"row": 0, "column": 7}
    at.button(key="schema.demo.reviews.star_rating").click().run()
    assert at.session_state["sql.text"] == "SELECT star_rating"
    at.button(key="schema.demo.reviews").click().run()
    assert at.session_state["sql.text"] == "SELECT star_rating demo.reviews"


# -- the aws backend, against moto --------------------------------------------------------------------------------
# moto runs no SQL: each query SUCCEEDS with the next seeded result. FAILED, CANCELLED and a query that keeps
# RUNNING until StopQueryExecution are made by wrapping the backend's Athena client (GetQueryExecution's answer
# is rewritten; every other call, StopQueryExecution included, goes to moto).

COUNT_SQL = "SELECT product_category, count(*) AS reviews FROM demo.reviews GROUP BY 1 ORDER BY 2 DESC"
COUNT_RESULT = (
    [column("product_category", "varchar"), column("reviews", "bigint")],
    [["product_category", "reviews"], ["Books", "7"], ["Toys", "3"]],
)


@pytest.fixture
def aws_lake(aws_settings, moto_server: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]  # noqa: F811
    """An S3 lake with demo.reviews in Glue (two partitions), and the app pointed at it."""

    import streamlit as st

    from lib.backends.aws import AwsBackend

    backend = AwsBackend(aws_settings)
    from tests.aws_fixtures import seed_small_reviews

    seed_small_reviews(backend)
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("LAKELENS_BACKEND", "aws")
    monkeypatch.setenv("LAKELENS_S3_LAKE", aws_settings.s3_lake)
    monkeypatch.setenv("LAKELENS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("LAKELENS_AWS_REGION", aws_settings.aws_region)
    st.cache_data.clear()  # results and listings cached by earlier tests on the same bucket name
    st.cache_resource.clear()
    yield backend
    st.cache_data.clear()
    st.cache_resource.clear()
    backend.close()


def athena_executions(backend) -> list[str]:  # type: ignore[no-untyped-def]
    return list(backend._client("athena").list_query_executions().get("QueryExecutionIds", []))


def history_keys(backend) -> list[str]:  # type: ignore[no-untyped-def]
    return [o.key for o in backend.list_objects("_lakelens/history/").objects]


class ScriptedAthena:
    """The backend's Athena client with GetQueryExecution's state chosen by the test."""

    def __init__(self, real, state: str, reason: str = "") -> None:  # type: ignore[no-untyped-def]
        self.real, self.state, self.reason = real, state, reason
        self.stopped: list[str] = []

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.real, name)

    def get_query_execution(self, **kwargs):  # type: ignore[no-untyped-def]
        answer = self.real.get_query_execution(**kwargs)
        status = answer["QueryExecution"]["Status"]
        if kwargs["QueryExecutionId"] in self.stopped:
            status["State"] = "CANCELLED"
        else:
            status["State"] = self.state
            if self.reason:
                status["StateChangeReason"] = self.reason
        return answer

    def stop_query_execution(self, **kwargs):  # type: ignore[no-untyped-def]
        self.stopped.append(kwargs["QueryExecutionId"])
        return self.real.stop_query_execution(**kwargs)


@pytest.fixture
def scripted_athena(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    from lib.backends.aws import AwsBackend

    scripts: dict[str, ScriptedAthena] = {}
    original = AwsBackend._client

    def client(self, service):  # type: ignore[no-untyped-def]
        real = original(self, service)
        if service != "athena" or "state" not in scripts:
            return real
        if "client" not in scripts:
            scripted = scripts["state"]
            scripts["client"] = ScriptedAthena(real, scripted.state, scripted.reason)  # type: ignore[arg-type]
        return scripts["client"]

    monkeypatch.setattr(AwsBackend, "_client", client)

    def script(state: str, reason: str = "") -> dict[str, ScriptedAthena]:
        scripts["state"] = ScriptedAthena(None, state, reason)
        return scripts

    return script


def test_aws_link_fills_the_editor_but_waits_for_run(aws_lake, moto_server: str) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    at = sql_page({"sql": COUNT_SQL})
    assert at.session_state["sql.text"] == COUNT_SQL
    assert any("has not run yet" in i.value for i in at.info)
    assert not is_running(at) and not at.dataframe
    assert athena_executions(aws_lake) == [] and history_keys(aws_lake) == []
    # The estimate comes from Glue and S3: both partitions' objects.
    sizes = sum(
        o.size
        for p in ("Books", "Toys")
        for o in aws_lake.list_objects(f"curated/reviews/product_category={p}/").objects
    )
    assert any(f"about {human_bytes(sizes)} from 2 of 2 partitions" in c.value for c in at.caption)
    seed_athena_results(moto_server, [COUNT_RESULT])
    at.button(key="sql.run_button").click().run()
    wait_done(at)
    frame = at.dataframe[0].value
    assert frame["product_category"].tolist() == ["Books", "Toys"] and frame["reviews"].tolist() == [7, 3]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Scanned"] == "0 B" and metrics["Athena cost"] == "$0.00005"  # moto reports 0 B: 10 MB billed
    assert any("engine Athena" in c.value for c in at.caption)
    assert len(athena_executions(aws_lake)) == 1 and len(history_keys(aws_lake)) == 1
    downloads = [b.proto.label for b in at.get("download_button")]
    assert downloads == ["Whole result as CSV", "Whole result as Parquet"]


def test_aws_link_to_a_cached_result_runs_without_a_new_scan(aws_lake, moto_server: str) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    seed_athena_results(moto_server, [COUNT_RESULT])
    first = sql_page()
    run(first, COUNT_SQL)
    assert len(athena_executions(aws_lake)) == 1
    colleague = sql_page({"sql": COUNT_SQL})  # a new session opening the shared link
    wait_done(colleague)
    assert colleague.dataframe[0].value["reviews"].tolist() == [7, 3]
    assert any("from the cache" in c.value for c in colleague.caption)
    assert len(athena_executions(aws_lake)) == 1


def test_aws_failed_query_is_one_message(aws_lake, scripted_athena) -> None:  # type: ignore[no-untyped-def]
    scripted_athena("FAILED", "SYNTAX_ERROR: line 1:8: Column 'colour' cannot be resolved")
    at = sql_page()
    run(at, "SELECT colour FROM demo.reviews")
    assert len(at.error) == 1
    assert "colour" in at.error[0].value and "Traceback" not in at.error[0].value
    assert not at.exception


def test_aws_cancelled_query_is_one_message(aws_lake, scripted_athena) -> None:  # type: ignore[no-untyped-def]
    scripted_athena("CANCELLED")
    at = sql_page()
    run(at, COUNT_SQL)
    assert [e.value for e in at.error] == ["The query was cancelled."]


def test_aws_cancel_button_stops_the_athena_query(aws_lake, scripted_athena) -> None:  # type: ignore[no-untyped-def]
    scripts = scripted_athena("RUNNING")
    at = sql_page()
    set_sql(at, COUNT_SQL)
    at.button(key="sql.run_button").click().run()
    deadline = time.monotonic() + 20
    while "client" not in scripts or not athena_executions(aws_lake):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    at.run()
    assert is_running(at) and any("Running" in m.value for m in at.markdown)
    at.button(key="sql.cancel_button").click().run()
    wait_done(at, timeout=30)
    (execution_id,) = athena_executions(aws_lake)
    assert set(scripts["client"].stopped) == {execution_id}  # StopQueryExecution for the query the page started
    assert [e.value for e in at.error] == ["The query was cancelled."]
