"""The SQL page as a workbench (AppTest): parameters, tabs, scripts, Format, Plan and profiles, on both backends.

Expected numbers are worked out with pandas on the demo lake's Parquet files (pyarrow reads them directly); on
aws, moto runs no SQL, so the test queues Athena's answers and checks what the page sent.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from components.sql import tabs as sql_tabs
from tests.aws_fixtures import aws_settings, column, moto_server, seed_athena_results  # noqa: F401  (fixtures)
from tests.pages.test_sql_page import (  # noqa: F401  (fixtures)
    ROOT,
    athena_executions,
    aws_lake,
    history_keys,
    lake,
    reviews,
    run,
    set_sql,
    sql_page,
    wait_done,
)

PARAM_SQL = (
    "-- :cat values from SELECT DISTINCT product_category FROM demo.reviews ORDER BY 1\n"
    "SELECT count(*) AS n FROM demo.reviews WHERE product_category = :cat AND star_rating >= :stars"
)


def texts(at: AppTest) -> str:
    return " ".join(c.value for c in at.caption) + " " + " ".join(m.value for m in at.markdown)


def test_parameters_get_typed_inputs_and_filter(lake: Path) -> None:  # noqa: F811
    at = sql_page()
    set_sql(at, PARAM_SQL)
    at.run()
    frame = reviews(lake)
    assert at.selectbox(key="sql.param.cat").options == sorted(frame.product_category.dropna().unique())  # no NULL
    at.selectbox(key="sql.param.cat").select("Books").run()
    at.text_input(key="sql.param.stars").input("4").run()
    run(at)
    expected = int(((frame.product_category == "Books") & (frame.star_rating >= 4)).sum())
    assert at.dataframe[0].value["n"].tolist() == [expected]
    assert at.query_params["p_cat"] == "Books" and at.query_params["p_stars"] == "4"
    # The partition filter prunes the estimate even though the value is a parameter.
    assert any("from 1 of" in c.value for c in at.caption)


def test_a_missing_or_wrong_value_is_one_message(lake: Path) -> None:  # noqa: F811
    at = sql_page()
    set_sql(at, PARAM_SQL)
    at.run()
    run(at)
    assert [e.value for e in at.error] == ["Give a value for :cat, :stars in the inputs above the editor, then run."]
    at.selectbox(key="sql.param.cat").select("Books").run()
    at.text_input(key="sql.param.stars").input("four").run()
    assert any(":stars must be a number" in c.value for c in at.caption)  # said as it is typed
    run(at)
    assert len(at.error) == 1 and ":stars must be a number" in at.error[0].value


def test_a_link_with_parameter_values_runs_with_them(lake: Path) -> None:  # noqa: F811
    frame = reviews(lake)
    at = sql_page({"sql": PARAM_SQL, "p_cat": "Toys", "p_stars": "5"})
    wait_done(at)
    assert at.selectbox(key="sql.param.cat").value == "Toys"
    expected = int(((frame.product_category == "Toys") & (frame.star_rating >= 5)).sum())
    assert at.dataframe[0].value["n"].tolist() == [expected]


def test_history_and_saved_queries_keep_the_values(lake: Path) -> None:  # noqa: F811
    at = sql_page({"sql": PARAM_SQL, "p_cat": "Toys", "p_stars": "5"})
    wait_done(at)
    from lib.backends.local import LocalBackend
    from lib.sql.history import History, SavedQueries
    from tests.conftest import local_settings

    backend = LocalBackend(local_settings(lake))
    (entry,) = History(backend).recent()
    assert entry.params == {"cat": "Toys", "stars": "5"}
    next(t for t in at.text_input if t.label == "Name").input("Toys five stars")
    at.button[[b.label for b in at.button].index("Save query")].click().run()
    assert SavedQueries(backend).get("Toys five stars").params == {"cat": "Toys", "stars": "5"}
    other = sql_page()
    other.button(key="saved.open.Toys five stars").click().run()
    assert other.session_state["sql.text"] == PARAM_SQL
    assert other.selectbox(key="sql.param.cat").value == "Toys"
    assert other.text_input(key="sql.param.stars").value == "5"


def test_a_script_shows_each_result_and_stops_at_the_refused_statement(lake: Path) -> None:  # noqa: F811
    frame = reviews(lake)
    at = sql_page()
    run(
        at,
        "SELECT count(*) AS n FROM demo.reviews;\n"
        "SELECT max(star_rating) AS top FROM demo.reviews;\n"
        "DROP TABLE demo.reviews;\n"
        "SELECT 1 AS never",
    )
    grids = [d.value for d in at.dataframe if "Column" not in d.value.columns]
    assert grids[0]["n"].tolist() == [len(frame)] and grids[1]["top"].tolist() == [frame.star_rating.max()]
    assert len(grids) == 2
    assert len(at.error) == 1 and "read-only" in at.error[0].value
    assert "Script of 4 statements · 2 ran · statement 3 stopped it" in texts(
        at
    ) and "1 statement(s) after it did not run" in texts(at)
    assert "Statement 2" in texts(at)
    assert (lake / "_lakelens/catalog/demo/reviews.json").is_file()


def test_prepare_and_execute_on_the_page(lake: Path) -> None:  # noqa: F811
    frame = reviews(lake)
    at = sql_page()
    run(
        at,
        "PREPARE by_cat FROM SELECT count(*) AS n FROM demo.reviews WHERE product_category = ?;\n"
        "EXECUTE by_cat USING 'Books'",
    )
    grids = [d.value for d in at.dataframe if "Column" not in d.value.columns]
    assert grids[0]["n"].tolist() == [int((frame.product_category == "Books").sum())]
    assert "Prepared by_cat" in texts(at)


def test_format_rewrites_the_editor(lake: Path) -> None:  # noqa: F811
    at = sql_page()
    set_sql(at, "select product_category, count(*) n from demo.reviews -- per category\ngroup by 1")
    at.button(key="sql.format_button").click().run()
    assert at.session_state["sql.text"].splitlines() == [
        "SELECT",
        "  product_category,",
        "  COUNT(*) AS n",
        "FROM demo.reviews /* per category */",
        "GROUP BY",
        "  1",
    ]
    set_sql(at, "SELECT (1")
    at.button(key="sql.format_button").click().run()
    assert at.session_state["sql.text"] == "SELECT (1" and "Format left the SQL as it is" in at.error[0].value


def test_plan_shows_the_files_read_next_to_the_estimate(lake: Path) -> None:  # noqa: F811
    files = len(list((lake / "curated" / "reviews").glob("product_category=*/*.parquet")))
    at = sql_page()
    set_sql(at, "SELECT count(*) AS n FROM demo.reviews WHERE product_category = 'Books'")
    at.run()
    at.button(key="sql.plan_button").click().run()
    assert not at.exception
    shown = texts(at)
    assert f"reads `1/{files}`" in shown and "filters `(product_category = 'Books')`" in shown
    assert "estimate: about" in shown and "from 1 of" in shown


def test_result_profile_covers_the_whole_result(lake: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setenv("LAKELENS_MAX_ROWS", "5")
    frame = reviews(lake)
    at = sql_page()
    run(at, "SELECT star_rating, product_category FROM demo.reviews")
    at.button(key="sql.profile_button.1").click().run()
    profile = next(d.value for d in at.dataframe if "Histogram" in d.value.columns)
    stars = profile.set_index("Column").loc["star_rating"]
    assert stars["Distinct"] == frame.star_rating.nunique() and stars["Nulls"] == 0
    assert f"{frame.star_rating.min()} – {frame.star_rating.max()}" in stars["Range / lengths / counts"]
    assert sum(stars["Histogram"]) == len(frame)  # every row, not the five on screen
    assert f"Profile of all {len(frame):,} rows" in texts(at)


def test_tabs_keep_their_own_query_and_result_and_travel_in_the_link(lake: Path) -> None:  # noqa: F811
    frame = reviews(lake)
    at = sql_page()
    run(at, "SELECT count(*) AS n FROM demo.reviews")
    at.button(key="sql.tab_new").click().run()
    run(at, "-- Best ratings\nSELECT max(star_rating) AS top FROM demo.reviews")
    assert at.dataframe[0].value["top"].tolist() == [frame.star_rating.max()]
    control = at.button_group(key="sql.tab_choice")
    assert control.options == ["demo.reviews", "Best ratings"]
    link = {name: at.query_params[name] for name in at.query_params}
    assert link["tab"] == "1"
    control.set_value(0).run()
    assert at.session_state["sql.text"] == "SELECT count(*) AS n FROM demo.reviews"
    assert at.dataframe[0].value["n"].tolist() == [len(frame)]  # its own result, kept
    colleague = sql_page({k: str(v) for k, v in link.items()})
    wait_done(colleague)
    assert [t.sql for t in colleague.session_state["sql.tabs"]] == [
        "SELECT count(*) AS n FROM demo.reviews",
        "-- Best ratings\nSELECT max(star_rating) AS top FROM demo.reviews",
    ]
    assert colleague.session_state["sql.text"].startswith("-- Best ratings")
    assert colleague.dataframe[0].value["top"].tolist() == [frame.star_rating.max()]


def test_a_broken_tabs_link_opens_one_tab() -> None:
    assert sql_tabs.decode("not-a-link") == [] and sql_tabs.decode("") == []
    tabs = [sql_tabs.QueryTab("SELECT 1", "one", {"x": "1"}), sql_tabs.QueryTab("SELECT 2")]
    assert [(t.sql, t.name, t.params) for t in sql_tabs.decode(sql_tabs.encode(tabs))] == [
        ("SELECT 1", "one", {"x": "1"}),
        ("SELECT 2", "", {}),
    ]


# -- aws ---------------------------------------------------------------------------------------------------------
def test_aws_parameters_go_to_athena_as_execution_parameters(aws_lake, moto_server: str) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    seed_athena_results(moto_server, [([column("n", "bigint")], [["n"], ["0"]])])
    at = sql_page(
        {"sql": "SELECT count(*) AS n FROM demo.reviews WHERE product_category = :cat", "p_cat": "x' OR 'a'='a"}
    )
    assert any("has not run yet" in i.value for i in at.info) and athena_executions(aws_lake) == []
    at.button(key="sql.run_button").click().run()
    wait_done(at)
    assert at.dataframe[0].value["n"].tolist() == [0]
    (execution_id,) = athena_executions(aws_lake)
    sent = aws_lake._client("athena").get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
    assert sent["Query"].endswith("product_category = ?")
    assert sent["ExecutionParameters"] == ["'x'' OR ''a''=''a'"]


def test_aws_script_runs_each_statement_on_athena(aws_lake, moto_server: str) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    seed_athena_results(
        moto_server,
        [([column("a", "integer")], [["a"], ["1"]]), ([column("b", "varchar")], [["b"], ["two"]])],
    )
    at = sql_page()
    run(at, "SELECT 1 AS a; SELECT 'two' AS b; DELETE FROM demo.reviews")
    grids = [d.value for d in at.dataframe if "Column" not in d.value.columns]
    assert [g.columns[0] for g in grids] == ["a", "b"] and grids[1]["b"].tolist() == ["two"]
    assert len(at.error) == 1 and "read-only" in at.error[0].value
    assert len(athena_executions(aws_lake)) == 2  # the refused DELETE never reached Athena
    assert len(history_keys(aws_lake)) == 3


def test_a_tab_can_be_renamed_and_closed(lake: Path) -> None:  # noqa: F811
    at = sql_page()
    run(at, "SELECT 1 AS one")
    at.button(key="sql.tab_new").click().run()
    at.text_input(key="sql.tab_name").input("Scratch").run()
    assert at.button_group(key="sql.tab_choice").options[1] == "Scratch"
    assert [t.name for t in sql_tabs.decode(at.query_params["tabs"])] == ["", "Scratch"]
    at.button(key="sql.tab_close").click().run()
    assert len(at.session_state["sql.tabs"]) == 1 and at.dataframe[0].value["one"].tolist() == [1]
    assert "tabs" not in at.query_params


def test_aws_plan_panel_shows_athenas_tree(aws_lake, moto_server: str) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    import json

    plan = {
        "name": "Output",
        "descriptor": {},
        "children": [
            {
                "name": "TableScan",
                "descriptor": {"table": "awsdatacatalog:demo:reviews"},
                "details": [":: [[Books]]"],
                "children": [],
            }
        ],
    }
    lines = [[line] for line in json.dumps(plan, indent=1).splitlines()]
    seed_athena_results(moto_server, [([column("Query Plan", "varchar")], [["Query Plan"], *lines])])
    at = sql_page({"sql": "SELECT count(*) AS n FROM demo.reviews WHERE product_category = 'Books'"})
    at.button(key="sql.plan_button").click().run()
    assert not at.exception and not at.error
    shown = texts(at)
    assert "Athena · reads demo.reviews" in shown and "reads `awsdatacatalog:demo:reviews`" in shown
    (execution_id,) = athena_executions(aws_lake)
    sent = aws_lake._client("athena").get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
    assert sent["Query"].startswith("EXPLAIN (FORMAT JSON)")


def test_aws_values_list_runs_only_when_asked(aws_lake, moto_server: str) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    at = sql_page({"sql": PARAM_SQL})
    assert athena_executions(aws_lake) == []  # opening the page scanned nothing
    seed_athena_results(
        moto_server, [([column("product_category", "varchar")], [["product_category"], ["Books"], ["Toys"]])]
    )
    at.button(key="sql.param.cat.load").click().run()
    assert at.selectbox(key="sql.param.cat").options == ["Books", "Toys"]
    assert len(athena_executions(aws_lake)) == 1
