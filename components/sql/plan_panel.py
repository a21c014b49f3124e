"""The query plan beside the scan estimate: DuckDB's locally, Athena's EXPLAIN on aws, as one readable tree.

Plan (next to Run) asks for it; the panel stays until it is closed or the SQL changes. Scans come first, with the
table, the files or partitions read and the filters pushed into them, then the whole tree, one operator a line.
"""

from __future__ import annotations

import streamlit as st

from components.plain import inert_errors, plain
from components.result_grid import format_usd
from lib import data
from lib.errors import SqlError
from lib.settings import Settings
from lib.sql import script
from lib.sql.plan import Plan, PlanNode


@st.cache_data(ttl=120, show_spinner="Asking the engine for its plan…", max_entries=50)
def _plan(key: str, sql: str, params: tuple[tuple[str, str], ...], database: str) -> Plan:
    return data.backend().explain(sql, params=dict(params) or None, database=database)


def _code(text: str) -> str:
    """Inline code (Markdown is not read inside it); a backtick in the text would end it, so it becomes a quote."""
    return "`" + text.replace("`", "'") + "`"


def _tree(node: PlanNode, depth: int, lines: list[str]) -> None:
    indent = "    " * depth
    lines.append(f"{indent}- **{plain(node.name)}**")
    for label, value in node.details:
        lines.append(f"{indent}    - {plain(label)}: {_code(value)}")
    for child in node.children:
        _tree(child, depth + 1, lines)


def panel(settings: Settings, estimate_text: str | None = None) -> None:
    request = st.session_state.get("sql.plan_request")
    if not isinstance(request, dict):
        return
    from components.sql import editor as sql_editor

    if request.get("sql") != sql_editor.text():
        st.session_state.pop("sql.plan_request", None)
        return
    with st.container(border=True, key="sql-plan-panel"):
        head, close = st.columns([6, 1], vertical_alignment="center")
        head.markdown("**:material/account_tree: Plan**")
        close.button("Close", key="sql.plan_close", on_click=lambda: st.session_state.pop("sql.plan_request", None))
        with inert_errors():
            statements = script.split(str(request["sql"]))
            if len(statements) != 1:
                raise SqlError("Plan works on one query at a time: select a script's statement into its own tab.")
            values = tuple(sorted(dict(request.get("params") or {}).items()))
            plan = _plan(data.settings_key(settings), statements[0], values, settings.database)
            scan = sql_editor.estimate(statements[0], settings, dict(values))
            cost = f" · about {format_usd(scan.cost_usd)} on Athena" if scan.bytes else ""
            st.caption(
                f"{plan.engine} · reads {plain(', '.join(plan.tables)) or 'no table'} · estimate: {scan.describe()}{cost}"
                if scan.tables
                else f"{plan.engine} · reads no table data"
            )
            for scan_node in plan.scans():
                details = dict(scan_node.details)
                read = details.get("Scanning Files") or details.get("table") or details.get("Table") or ""
                filters = details.get("File Filters") or details.get("Filters") or details.get("filterPredicate")
                parts = [f"**{plain(scan_node.name)}**"] + ([f"reads {_code(read)}"] if read else [])
                parts += [f"filters {_code(filters)}"] if filters else []
                st.markdown(":material/table_view: " + " · ".join(parts))
            lines: list[str] = []
            for root in plan.roots:
                _tree(root, 0, lines)
            st.markdown("\n".join(lines) if lines else "The engine returned an empty plan.")
