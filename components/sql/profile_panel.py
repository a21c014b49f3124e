"""Column profiles on screen: of a query's whole result (SQL page) and of a table (Lake page, Catalog).

Each column is one row: its type, nulls, distinct values, min/max/mean or string lengths, top values with their
counts and a ten-bucket histogram drawn in the cell (``BarChartColumn``). The numbers come from lib/sql/profile.py,
computed on the engine over every row, never over the rows on screen; only those aggregates reach the browser.

A table profile is stored with the table (with the time it was computed) and shown until it is recomputed; on
Athena its scan estimate is shown first and the analyst starts it. A top value is a link to the SQL page
filtered on it (Datasette's facets).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import streamlit as st

from components.plain import inert_errors, plain
from components.result_grid import format_usd
from lib import data
from lib.catalog import TableDef
from lib.errors import LakeLensError
from lib.settings import Settings
from lib.sql import profile as profilemod
from lib.sql.estimate import estimate_scan


def _number(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return f"{value:,.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def frame(profile: profilemod.Profile) -> pd.DataFrame:
    """The profile as one row per column, in words an analyst reads."""
    rows = []
    for column in profile.columns:
        if column.kind == "text":
            spread = f"length {column.min_length}–{column.max_length}, mean {_number(column.avg_length)}"
            spread = spread if column.max_length is not None else ""
        elif column.kind == "boolean":
            spread = f"true {column.trues:,} · false {column.falses:,}" if column.trues is not None else ""
        elif column.kind == "number":
            spread = f"{_number(column.minimum)} – {_number(column.maximum)}, mean {_number(column.mean)}"
            spread = spread if column.minimum is not None else ""
        else:
            spread = f"{_number(column.minimum)} – {_number(column.maximum)}" if column.minimum is not None else ""
        top = " · ".join(f"{'NULL' if v is None else v} ({n:,})" for v, n in column.top)
        rows.append(
            {
                "Column": column.name,
                "Type": column.type,
                "Nulls": column.nulls,
                "Null %": round(100 * column.null_share, 1),
                "Distinct": column.distinct,
                "Range / lengths / counts": spread,
                "Top values": top,
                "Histogram": [n for _, _, n in column.histogram] or None,
            }
        )
    return pd.DataFrame(rows)


def show(profile: profilemod.Profile, *, key: str) -> None:
    st.dataframe(
        frame(profile),
        hide_index=True,
        width="stretch",
        key=f"profile.{key}",
        column_config={
            "Type": st.column_config.TextColumn("Type", width="small"),
            "Nulls": st.column_config.NumberColumn("Nulls", format="localized", width="small"),
            "Null %": st.column_config.NumberColumn("Null %", format="%.1f %%", width="small"),
            "Distinct": st.column_config.NumberColumn(
                "Distinct", format="localized", help="approx_distinct: HyperLogLog, within a few percent", width="small"
            ),
            "Range / lengths / counts": st.column_config.TextColumn("Range / lengths / counts", width="medium"),
            "Top values": st.column_config.TextColumn("Top values (count)", width="medium"),
            "Histogram": st.column_config.BarChartColumn(
                "Histogram", help=f"{profilemod.BUCKETS} equal-width buckets from min to max", y_min=0
            ),
        },
    )


# -- result profile ---------------------------------------------------------------------------------------------
@st.cache_data(ttl=600, show_spinner="Profiling the whole result on the engine…", max_entries=50)
def _result_profile(
    key: str, sql: str, params: tuple[tuple[str, str], ...], columns: tuple[str, ...], _frame: pd.DataFrame
) -> profilemod.Profile:
    values = dict(params)
    return profilemod.profile_result(
        sql, _frame, lambda text: data.backend().run_query(text, max_rows=10_000, params=values or None).frame
    )


def result_profile(
    sql: str, result_frame: pd.DataFrame, params: dict[str, str], settings: Settings, *, key: str
) -> None:
    """A button, then the profile of the whole result (cached: a second look costs nothing)."""
    state_key = f"sql.profile.{key}"
    if not st.session_state.get(state_key):
        st.button(
            "Profile columns",
            icon=":material/query_stats:",
            key=f"sql.profile_button.{key}",
            on_click=lambda: st.session_state.__setitem__(state_key, True),
            help="Type, nulls, distinct values, range or top values and a histogram of every column, computed on "
            "the engine over the whole result (on Athena this runs the query again, twice)",
        )
        return
    with inert_errors():
        signature = tuple(f"{c}:{result_frame[c].dtype}" for c in result_frame.columns)
        found = _result_profile(
            data.settings_key(settings), sql, tuple(sorted(params.items())), signature, result_frame
        )
        st.markdown(f"**Profile of all {found.rows:,} rows**")
        show(found, key=key)


# -- table profile ----------------------------------------------------------------------------------------------
def _compute_table(table: TableDef) -> None:
    backend = data.backend()
    try:
        found = profilemod.profile_table(table, lambda sql: backend.run_query(sql, max_rows=10_000).frame)
        backend.save_column_statistics(table.database, table.name, found.to_json())
    except LakeLensError as exc:  # shown by the panel on the next run; a callback cannot draw
        st.session_state["lake.profile_error"] = str(exc)


def table_profile(table: TableDef, settings: Settings) -> None:
    """Glue-style column statistics of the table: the stored ones with their time, and a button to compute."""
    st.markdown("##### Column statistics")
    backend = data.backend()
    problem = st.session_state.pop("lake.profile_error", None)
    if problem:
        st.error(problem, icon=":material/error:")
    stored = None
    with inert_errors():
        body = backend.column_statistics(table.database, table.name)
        stored = profilemod.Profile.from_json(body) if body else None
    label = "Recompute statistics" if stored else "Compute statistics"
    help_text = "One aggregate query over the whole table (and one for top values); stored with the table"
    if backend.bills_scans:
        with inert_errors():
            scan = estimate_scan(backend, profilemod.first_pass_sql(table), default_database=table.database)
            st.caption(
                f":material/database: Computing them scans {scan.describe()} · about {format_usd(scan.cost_usd)} on "
                "Athena."
                if scan.bytes
                else ":material/database: Computing them scans the table once."
            )
        help_text += ". Athena charges for the scan shown above."
    st.button(
        label,
        icon=":material/query_stats:",
        key=f"lake.profile.{table.qualified_name}",
        on_click=_compute_table,
        args=(table,),
        help=help_text,
    )
    if stored is None:
        st.caption("No statistics yet for this table.")
        return
    when = stored.computed_at.strftime("%Y-%m-%d %H:%M UTC")
    stale = table.update_time is not None and table.update_time > stored.computed_at
    st.caption(
        f"{stored.rows:,} rows · computed {when}"
        + (" · :orange[the table changed since: recompute]" if stale else "")
        + (f" · {backend.statistics_note}" if backend.statistics_note else "")
    )
    show(stored, key=f"table.{table.qualified_name}")
    facets(table, stored)


def facets(table: TableDef, stored: profilemod.Profile) -> None:
    """Each top value as a link to the SQL page filtered on it."""
    with_top = [c for c in stored.columns if c.top]
    if not with_top:
        return
    st.caption("Open the rows with one value (the SQL page, filtered on it):")
    for column in with_top:
        with st.container(horizontal=True):
            st.markdown(plain(column.name))
            for value, count in column.top:
                st.page_link(
                    "pages/sql.py",
                    label=f"{'NULL' if value is None else plain(value)} ({count:,})",
                    query_params={"sql": profilemod.filter_sql(table, column.name, value)},
                )
