"""Pin any chart or result, then save what was pinned as blocks of a report in the lake (new or existing).

Pins collect in the session (``report_items``) as :class:`lib.reports.export.ReportItem`s, with the SQL behind them;
the sidebar's *Report* panel saves them to a report you pick or a new one (``lib.reports.pins.add_items``), where
they last: everyone on the lake can open, refresh, present and export it from the Reports page.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from components.feedback import friendly_errors
from components.reports import view as report_view
from lib import data
from lib.reports.export import ReportItem, chart_item, table_item
from lib.reports.pins import add_items

STATE = "report_items"
NEW = "__new__"


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


def pin_chart(title: str, page: str, figure: go.Figure, key: str, **details: Any) -> None:
    """A small "Pin to report" button for a plotly figure. ``details``: sql, engine, rows, bytes_scanned, context."""
    if st.button(
        "Pin to report",
        key=f"pin_{key}",
        icon=":material/push_pin:",
        type="tertiary",
        help="Add this chart, with its SQL, to a report: the sidebar saves what you pinned",
    ):
        _pin(chart_item(title, page, _lake(), figure, **details))


def pin_table(title: str, page: str, frame: pd.DataFrame, key: str, **details: Any) -> None:
    if st.button(
        "Pin to report",
        key=f"pin_{key}",
        icon=":material/push_pin:",
        type="tertiary",
        help="Add this result, with its SQL, to a report: the sidebar saves what you pinned",
    ):
        _pin(table_item(title, page, _lake(), frame, **details))


def sidebar_report() -> None:
    """The sidebar's Report panel: what is pinned, and where to save it (a report you pick or a new one)."""
    pinned = items()
    just_pinned = st.session_state.pop("report_just_pinned", None)
    if just_pinned:
        st.toast(f"Pinned “{just_pinned}” ({len(pinned)} item(s)); save them to a report from the sidebar.")
    saved = st.session_state.get("report_saved")
    with st.sidebar:
        st.subheader("Report", anchor=False)
        if saved:
            st.page_link(
                report_view.PAGE,
                label=f"Open “{saved[1]}”",
                icon=":material/article:",
                query_params={"report": saved[0]},
            )
        if not pinned:
            st.caption("Pin charts and results from any page, then save them to a report that lasts, in the lake.")
            return
        st.caption(
            f"{len(pinned)} item(s) pinned: "
            + ", ".join(item.title for item in pinned[:5])
            + ("…" if len(pinned) > 5 else "")
        )
        with friendly_errors():
            reports = {summary.slug: summary.title for summary in report_view.summaries() if not summary.problem}
            target = st.selectbox(
                "Save to",
                [NEW, *reports],
                key="pins.target",
                format_func=lambda slug: "A new report" if slug == NEW else reports.get(slug, slug),
            )
            if target == NEW:
                st.text_input("Title of the new report", key="pins.title", placeholder="Pinned results")
            if st.button("Save to report", key="pins.save", icon=":material/save:", type="primary"):
                title = str(st.session_state.get("pins.title") or "").strip() or "Pinned results"
                slug = add_items(report_view.store(), list(pinned), slug=None if target == NEW else target, title=title)
                report_view.forget()
                name = title if target == NEW else reports[target]
                st.session_state["report_saved"] = (slug, name)
                pinned.clear()
                st.toast(f"Saved to “{name}”.", icon=":material/save:")
                st.rerun()
        if st.button("Clear pinned items", key="clear_report", icon=":material/delete:", type="tertiary"):
            pinned.clear()
            st.rerun()
