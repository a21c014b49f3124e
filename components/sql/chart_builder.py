"""A chart of the result: suggested from the column types, every choice editable, saved in the URL.

The figure is plotly; its toolbar's camera button ("Download plot as png") saves a PNG of exactly what is shown,
in the browser, with no server-side image engine.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from components.feedback import friendly_errors
from components.reports.pins import pin_chart
from lib.charts import AGGREGATIONS, CHART_KINDS, ChartSpec, build_figure, encode, suggest, title_for, validate

_NONE = "—"
_KIND_LABELS = {"bar": "Bar", "line": "Line", "scatter": "Scatter", "histogram": "Histogram"}


def chart_builder(
    frame: pd.DataFrame, linked: ChartSpec | None, *, key: str, pin_details: dict[str, Any] | None = None
) -> ChartSpec | None:
    """Controls and the chart. ``linked`` (from the URL) wins over the suggestion when its columns exist."""
    if frame.empty:
        st.caption("No rows to chart.")
        return None
    initial = (validate(linked, frame) if linked else None) or suggest(frame)
    if initial is None:
        st.caption("These columns have nothing to chart: add a number or a category column to the query.")
        return None
    columns = [str(c) for c in frame.columns]
    prefix = f"chart.{key}."
    state = st.session_state
    if prefix + "kind" not in state:
        state[prefix + "kind"] = initial.kind
        state[prefix + "x"] = initial.x
        state[prefix + "y"] = initial.y or _NONE
        state[prefix + "color"] = initial.color or _NONE
        state[prefix + "agg"] = initial.agg
    kind_col, x_col, y_col, color_col, agg_col = st.columns(5)
    kind = kind_col.selectbox("Chart", CHART_KINDS, key=prefix + "kind", format_func=lambda k: _KIND_LABELS.get(k, k))
    x = x_col.selectbox("x", columns, key=prefix + "x")
    y = y_col.selectbox("y", [_NONE, *columns], key=prefix + "y", disabled=kind == "histogram")
    color = color_col.selectbox("Colour", [_NONE, *columns], key=prefix + "color")
    agg = agg_col.selectbox(
        "Aggregation",
        AGGREGATIONS,
        key=prefix + "agg",
        help="How rows with the same x (and colour) are combined: none draws every row.",
        disabled=kind == "histogram",
    )
    spec = ChartSpec(
        kind=kind,
        x=x,
        y=None if y == _NONE or kind == "histogram" else y,
        color=None if color == _NONE else color,
        agg="count" if kind == "histogram" else agg,
    )
    if spec.kind != "histogram" and spec.y is None and spec.agg != "count":
        st.caption("No y column: drawing the number of rows per x.")
        spec = ChartSpec(spec.kind, spec.x, None, spec.color, "count")
    st.query_params["chart"] = encode(spec)
    with friendly_errors():
        figure = build_figure(frame, spec)
        st.plotly_chart(
            figure,
            key=f"plot.{key}",
            config={
                "displaylogo": False,
                "toImageButtonOptions": {"format": "png", "filename": "lakelens-chart", "scale": 2},
            },
        )
        st.caption(":material/photo_camera: The camera button in the chart's toolbar saves it as a PNG.")
        pin_chart(title_for(spec), "SQL", figure, key=f"sql.chart.{key}", **(pin_details or {}))
    return spec
