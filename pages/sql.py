"""SQL: tabs of Athena SQL with parameters, run without freezing the page; rows, profiles, plans, charts, links."""

from __future__ import annotations

import streamlit as st

from components.feedback import friendly_errors
from components.reports import view as report_view
from components.routing import require_app
from components.sql import completions as sql_completions
from components.sql import editor as sql_editor
from components.sql import memory as sql_memory
from components.sql import params as sql_params
from components.sql import plan_panel
from components.sql import results as sql_results
from components.sql import tabs as sql_tabs
from components.sql.chart_builder import chart_builder
from components.sql.schema_sidebar import load_schema, schema_sidebar
from lib import data
from lib.charts import decode
from lib.sql import week1_queries

require_app()
st.title("SQL")
st.caption(
    "Athena (Trino) SQL on the lake; Ctrl/Cmd+Enter in the editor runs it. Write :name for a parameter, several "
    "statements separated by ; for a script. Read-only unless LAKELENS_ALLOW_WRITES is on."
)

with friendly_errors(stop=True):
    settings = data.settings()
    schema = load_schema()

starters = week1_queries() if any(t.qualified_name == "demo.reviews" for t in schema.tables) else []
sql_editor.init_from_url(settings, starters[0].sql if starters else "SHOW TABLES")
report_view.sql_page_return()  # opened from a report's block: its SQL in the editor, and the way back
if "sql.linked_chart" not in st.session_state:
    st.session_state["sql.linked_chart"] = decode(st.query_params.get("chart", ""))
sql_editor.collect()

schema_sidebar(schema, on_insert=sql_editor.insert)
tab_bar, inputs = st.container(), st.container()  # drawn once the editor has handed over its text
submitted = sql_editor.editor(sql_completions.completions(schema.databases, schema.tables))
with tab_bar:
    sql_tabs.bar(running=sql_editor.running() is not None)
    if starters:
        sql_memory.starter_picker(starters)
with inputs:
    sql_params.inputs(sql_editor.text(), schema.tables, settings)
sql_editor.run_controls(settings, submitted)
plan_panel.panel(settings)

results, chart, history, saved = st.tabs(
    [
        ":material/table: Results",
        ":material/bar_chart: Chart",
        ":material/history: History",
        ":material/bookmark: Saved",
    ]
)
outcome = sql_editor.outcome()
with results:
    sql_results.show(outcome, settings)
with chart:
    if outcome is None or outcome.result is None:
        st.caption("Run a query to chart its result here.")
    else:
        chart_builder(
            outcome.result.frame,
            st.session_state["sql.linked_chart"],
            key=str(outcome.number),
            pin_details=sql_results.pin_details(outcome.sql, outcome.result),
        )
with history:
    sql_memory.history_panel()
with saved:
    sql_memory.saved_panel()
