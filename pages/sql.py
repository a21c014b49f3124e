"""SQL: write Athena SQL, run it without freezing the page, see the rows, chart them, share the link."""

from __future__ import annotations

import streamlit as st

from components import report_view, sql_editor
from components.chart_builder import chart_builder
from components.feedback import friendly_errors
from components.report_pins import pin_table
from components.result_grid import download_buttons, result_grid, stats_cards
from components.routing import require_app
from components.schema_sidebar import load_schema, schema_sidebar
from lib import data
from lib.chart_suggest import decode
from lib.sql import week1_queries

require_app()
st.title("SQL")
st.caption(
    "Athena (Trino) SQL on the lake; Ctrl/Cmd+Enter in the editor runs it. Read-only unless LAKELENS_ALLOW_WRITES "
    "is on."
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
if starters:
    sql_editor.starter_picker(starters)
submitted = sql_editor.editor(sql_editor.completions(schema.databases, schema.tables))
sql_editor.run_controls(settings, submitted)

results, chart, history, saved = st.tabs(
    [
        ":material/table: Results",
        ":material/bar_chart: Chart",
        ":material/history: History",
        ":material/bookmark: Saved",
    ]
)
outcome = sql_editor.outcome()
pin_details = (
    {
        "sql": outcome.sql,
        "engine": outcome.result.stats.engine,
        "rows": outcome.result.stats.total_rows
        if outcome.result.stats.total_rows is not None
        else outcome.result.stats.rows,
        "bytes_scanned": outcome.result.stats.bytes_scanned,
        "bytes_estimated": outcome.result.stats.bytes_estimated,
    }
    if outcome is not None and outcome.result is not None
    else {}
)
with results:
    if outcome is None:
        st.caption("Run a query to see its rows here.")
    elif outcome.result is None:
        st.error(outcome.error, icon=":material/cancel:" if outcome.status == "cancelled" else ":material/error:")
    else:
        stats_cards(outcome.result.stats, cached=outcome.cached, elapsed_s=outcome.elapsed_s)
        result_grid(outcome.result, key=str(outcome.number))
        download_buttons(outcome.sql, outcome.result.stats, settings, key=str(outcome.number))
        pin_table("Query result", "SQL", outcome.result.frame, key=f"sql.result.{outcome.number}", **pin_details)
with chart:
    if outcome is None or outcome.result is None:
        st.caption("Run a query to chart its result here.")
    else:
        chart_builder(
            outcome.result.frame, st.session_state["sql.linked_chart"], key=str(outcome.number), pin_details=pin_details
        )
with history:
    sql_editor.history_panel()
with saved:
    sql_editor.saved_panel()
