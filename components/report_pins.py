"""Pin any chart or result to this session's report, and export the report as one HTML file."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd
import streamlit as st

from lib import data
from lib.report import ReportItem, chart_item, render_html, table_item

STATE = "report_items"


def items() -> list[ReportItem]:
    pinned: list[ReportItem] = st.session_state.setdefault(STATE, [])
    return pinned


def _lake() -> str:
    return data.info().lake


def _pin(item: ReportItem) -> None:
    """Add the item and rerun, so the sidebar (drawn before the page) counts it at once."""
    items().append(item)
    st.session_state["report_just_pinned"] = item.title
    st.rerun()


def pin_chart(title: str, page: str, figure: Any, key: str, **details: Any) -> None:
    """A small "Pin to report" button for a plotly figure. ``details``: sql, engine, rows, bytes_scanned, context."""
    if st.button(
        "Pin to report",
        key=f"pin_{key}",
        icon=":material/push_pin:",
        type="tertiary",
        help="Add this chart to the report you can export from the sidebar",
    ):
        _pin(chart_item(title, page, _lake(), figure, **details))


def pin_table(title: str, page: str, frame: pd.DataFrame, key: str, **details: Any) -> None:
    if st.button(
        "Pin to report",
        key=f"pin_{key}",
        icon=":material/push_pin:",
        type="tertiary",
        help="Add this result to the report you can export from the sidebar",
    ):
        _pin(table_item(title, page, _lake(), frame, **details))


def sidebar_report() -> None:
    """The report panel in the sidebar: how many items, export as HTML, clear."""
    pinned = items()
    just_pinned = st.session_state.pop("report_just_pinned", None)
    if just_pinned:
        st.toast(f"Pinned “{just_pinned}” to the report ({len(pinned)} item(s)).", icon=":material/push_pin:")
    with st.sidebar:
        st.subheader("Report", anchor=False)
        if not pinned:
            st.caption("Pin charts and results from any page, then export them as one HTML file that opens offline.")
            return
        st.caption(
            f"{len(pinned)} item(s): " + ", ".join(item.title for item in pinned[:5]) + ("…" if len(pinned) > 5 else "")
        )
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
        st.download_button(
            "Export report (HTML)",
            data=lambda: render_html(list(pinned), title="LakeLens report"),
            file_name=f"lakelens-report-{stamp}.html",
            mime="text/html",
            icon=":material/download:",
            key="export_report",
            on_click="ignore",
        )
        if st.button("Clear report", key="clear_report", icon=":material/delete:", type="tertiary"):
            pinned.clear()
            st.rerun()
