"""The Sentiment page's figures and tables: one colour per sentiment on every chart.

Colours come from the Okabe-Ito palette, which stays distinguishable with the common colour-vision deficiencies
and keeps enough contrast on Streamlit's light and dark backgrounds: negative vermillion, neutral grey,
positive blue. Charts are drawn with ``theme="streamlit"`` so text and grid follow the viewer's theme.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from components.reports.pins import pin_chart, pin_table
from lib.sentiment import MISSING_SENTIMENT, SMALL_CATEGORY_MAX, WORD_BINS, WORD_CAP, bias, bin_label, sentiment_order

if TYPE_CHECKING:
    from streamlit.elements.lib.column_types import ColumnConfig

SENTIMENT_COLOURS: dict[str, str] = {
    "negative": "#D55E00",
    "neutral": "#8C8C8C",
    "positive": "#0072B2",
    MISSING_SENTIMENT: "#CC79A7",
}
_OTHER_COLOURS = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#882255", "#44AA99")
AVERAGE_COLOUR = "#9467BD"  # a line that is not one sentiment (average over all of them)
# Shading of the bias table: a translucent orange reads on white and on Streamlit's dark background alike.
_SHADE_RGB = (230, 159, 0)


def colour_map(names: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    others = iter(_OTHER_COLOURS * 4)
    for name in sentiment_order(list(dict.fromkeys(names))):
        out[name] = SENTIMENT_COLOURS.get(name) or next(others)
    return out


LegendPlace = Literal["top", "right", "none"]


def _layout(fig: go.Figure, *, height: int | None = None, legend: LegendPlace = "top") -> go.Figure:
    """Title on top; the legend in a row under the title (vertical bars) or in a column on the right (horizontal
    bars, whose long category labels leave the plot too narrow for a row), never over the title or the bars."""
    fig.update_layout(
        margin={"l": 8, "r": 8, "t": 84 if legend == "top" else 56, "b": 8},
        title={"y": 0.99, "yanchor": "top", "x": 0, "xanchor": "left", "font": {"size": 16}},
        showlegend=legend != "none",
    )
    if legend == "top":
        fig.update_layout(
            legend={"orientation": "h", "yanchor": "bottom", "y": 1.01, "xanchor": "left", "x": 0, "title_text": ""}
        )
    elif legend == "right":
        fig.update_layout(legend={"orientation": "v", "yanchor": "top", "y": 1, "xanchor": "left", "x": 1.02})
    if height:
        fig.update_layout(height=height)
    return fig


def _bar_height(categories: int) -> int:
    return max(260, 26 * categories + 120)


def per_sentiment(frame: pd.DataFrame) -> go.Figure:
    """frame: name, reviews, share."""
    data = frame.assign(label=[f"{r:,} ({s:.0%})" for r, s in zip(frame["reviews"], frame["share"], strict=True)])
    fig = px.bar(
        data,
        x="name",
        y="reviews",
        color="name",
        text="label",
        color_discrete_map=colour_map(list(data["name"])),
        category_orders={"name": list(data["name"])},
        title="Reviews per sentiment",
        labels={"name": "sentiment", "reviews": "reviews (count)"},
    )
    fig.update_traces(textposition="outside", cliponaxis=False)
    return _layout(fig, legend="none")


def per_category(cells: pd.DataFrame, small: Sequence[str]) -> go.Figure:
    """cells: category, name, reviews, category_total. Horizontal bars stacked by sentiment, largest on top."""
    data = cells.assign(category=[_flag(c, small) for c in cells["category"]])
    order = list(dict.fromkeys(data.sort_values("category_total", ascending=False)["category"]))
    names = sentiment_order(list(data["name"].unique()))
    fig = px.bar(
        data,
        y="category",
        x="reviews",
        color="name",
        orientation="h",
        color_discrete_map=colour_map(names),
        category_orders={"category": order, "name": names},
        title="Reviews per category, by sentiment",
        labels={"category": "", "reviews": "reviews (count)", "name": "sentiment"},
    )
    fig.update_layout(barmode="stack")
    return _layout(fig, height=_bar_height(len(order)), legend="right")


def _flag(category: str, small: Sequence[str]) -> str:
    return f"{category} (≤{SMALL_CATEGORY_MAX})" if category in small else str(category)


def average_per_category(frame: pd.DataFrame, low: float, high: float) -> go.Figure:
    """frame: category, average, reviews; sorted highest first. Bars coloured negative → neutral → positive."""
    order = list(frame["category"])
    fig = px.bar(
        frame,
        y="category",
        x="average",
        orientation="h",
        color="average",
        color_continuous_scale=[
            (0.0, SENTIMENT_COLOURS["negative"]),
            (0.5, SENTIMENT_COLOURS["neutral"]),
            (1.0, SENTIMENT_COLOURS["positive"]),
        ],
        range_color=(low, high),
        category_orders={"category": order},
        hover_data={"reviews": ":,"},
        title="Average sentiment per category",
        labels={"category": "", "average": "average sentiment"},
    )
    fig.update_xaxes(range=[low, high])
    fig.update_coloraxes(showscale=False)
    return _layout(fig, height=_bar_height(len(order)), legend="none")


def share_per_category(cells: pd.DataFrame) -> go.Figure:
    """cells: category, name, share. 100% stacked bars, categories ordered by their positive share."""
    data = cells.assign(percent=cells["share"] * 100)
    positive = data[data["name"] == "positive"].set_index("category")["share"]
    categories = list(dict.fromkeys(data["category"]))
    order = sorted(categories, key=lambda c: (-float(positive.get(c, 0.0)), str(c)))
    names = sentiment_order(list(data["name"].unique()))
    fig = px.bar(
        data,
        y="category",
        x="percent",
        color="name",
        orientation="h",
        color_discrete_map=colour_map(names),
        category_orders={"category": order, "name": names},
        hover_data={"reviews": ":,", "percent": ":.1f"},
        title="Sentiment share per category",
        labels={"category": "", "percent": "share of the category's reviews (%)", "name": "sentiment"},
    )
    fig.update_layout(barmode="stack")
    fig.update_xaxes(range=[0, 100], dtick=25)
    return _layout(fig, height=_bar_height(len(order)), legend="right")


def words_histogram(histogram: pd.DataFrame) -> go.Figure:
    """histogram: bin, bin_label, name, reviews, share. Grouped bars on log2 bins (… 16, 32, 64, 128, 256 …)."""
    data = histogram.assign(percent=histogram["share"] * 100)
    names = sentiment_order(list(data["name"].unique()))
    labels = [bin_label(b) for b in WORD_BINS if b in set(data["bin"])]
    fig = px.bar(
        data,
        x="bin_label",
        y="percent",
        color="name",
        barmode="group",
        color_discrete_map=colour_map(names),
        category_orders={"bin_label": labels, "name": names},
        hover_data={"reviews": ":,", "percent": ":.1f"},
        title="Words per review, by sentiment",
        labels={
            "bin_label": "words per review (doubling bins)",
            "percent": "share of the sentiment's reviews (%)",
            "name": "sentiment",
        },
    )
    return _layout(fig)


def monthly_counts(by_name: pd.DataFrame) -> go.Figure:
    names = sentiment_order(list(by_name["name"].unique()))
    fig = px.bar(
        by_name,
        x="month",
        y="reviews",
        color="name",
        color_discrete_map=colour_map(names),
        category_orders={"name": names},
        title="Reviews per month, by sentiment",
        labels={"month": "month", "reviews": "reviews (count)", "name": "sentiment"},
    )
    fig.update_layout(barmode="stack", bargap=0.1)
    return _layout(fig)


def monthly_average(monthly: pd.DataFrame, low: float, high: float) -> go.Figure:
    fig = px.line(
        monthly,
        x="month",
        y="average",
        markers=True,
        hover_data={"reviews": ":,"},
        title="Average sentiment per month",
        labels={"month": "month", "average": f"average sentiment ({low:g} … {high:g})"},
    )
    fig.update_traces(line_color=AVERAGE_COLOUR, marker_color=AVERAGE_COLOUR)
    fig.update_yaxes(range=[low, high])
    if low < 0 < high:
        fig.add_hline(y=0, line_dash="dot", line_color=SENTIMENT_COLOURS["neutral"])
    return _layout(fig, legend="none")


def balance_cells(before: pd.DataFrame, after: pd.DataFrame, label_names: dict[str, str]) -> go.Figure:
    """Reviews per category before and after balancing (before as outlines, after filled)."""
    rows = []
    for stage, frame in (("before", before), ("after", after)):
        totals = frame.groupby("category")["reviews"].sum()
        rows += [{"category": c, "stage": stage, "reviews": int(n)} for c, n in totals.items()]
    data = pd.DataFrame(rows)
    order = list(before.groupby("category")["reviews"].sum().sort_values(ascending=False).index)
    fig = px.bar(
        data,
        y="category",
        x="reviews",
        color="stage",
        barmode="group",
        orientation="h",
        color_discrete_map={"before": "#C5B0D5", "after": AVERAGE_COLOUR},
        category_orders={"category": order, "stage": ["before", "after"]},
        title="Reviews per category, before and after",
        labels={"category": "", "reviews": "reviews (count)", "stage": ""},
    )
    return _layout(fig, height=_bar_height(len(order)), legend="right")


# -- tables -------------------------------------------------------------------------------------------------------
def _number(value: object, digits: int = 3) -> str:
    """A metric's value with ``digits`` decimals; missing (None, NaN) as a dash, infinite as ∞."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "−∞"
    return f"{value:.{digits}f}"


def _percent(value: object) -> str:
    """A share (0..1) in percent with one decimal, as :func:`_number` writes it."""
    return _number(value * 100 if isinstance(value, numbers.Real) else value, 1) + "%"


def _metric_format(metric: str) -> Callable[[object], str]:
    """The bias table's formatter for one metric: 4 decimals for the divergences (KL, JS), 3 for the others."""
    digits = 4 if metric in ("KL", "JS") else 3
    return lambda v: _number(v, digits)


def _shade_css(metric: str, value: float) -> str:
    strength = bias.shade(metric, value)
    if strength < 0.05:
        return ""
    alpha = 0.10 + 0.45 * strength
    return f"background-color: rgba({_SHADE_RGB[0]}, {_SHADE_RGB[1]}, {_SHADE_RGB[2]}, {alpha:.2f})"


def bias_table(metrics: pd.DataFrame, facet_title: str = "category", *, sql: str = "", context: str = "") -> None:
    """The seven metrics per facet value, shaded by magnitude, with each metric's meaning as the column help."""
    shown = metrics.rename(columns={"facet": facet_title})
    styler = shown.style.format(
        {
            "share": lambda v: f"{v:.1%}",
            "positive_share": _percent,
            "reviews": "{:,}",
            **{m: _metric_format(m) for m in bias.METRICS},
        }
    )
    for metric in bias.METRICS:
        styler = styler.map(lambda v, _m=metric: _shade_css(_m, v), subset=[metric])
    config: dict[str, ColumnConfig] = {
        "share": st.column_config.Column("share", help="This category's share of all reviews"),
        "positive_share": st.column_config.Column(
            "positive", help="Share of this category's reviews with the label of interest (q_d)"
        ),
        **{m: st.column_config.Column(m, help=f"{bias.METRIC_NAMES[m]}: {bias.METRIC_HELP[m]}") for m in bias.METRICS},
    }
    st.dataframe(styler, hide_index=True, column_config=config, width="stretch", height=35 * (len(shown) + 1) + 3)
    pin_table(
        "Pre-training bias metrics per category", "Sentiment", shown, key="sentiment.bias", sql=sql, context=context
    )


def readings_table(row: dict[str, object]) -> None:
    """One sentence per metric for one facet value, as a static table that wraps (it is read, not sorted)."""
    rows = [
        {
            "metric": f"{metric} · {bias.METRIC_NAMES[metric]}",
            "value": _number(row[metric], 4),
            "what it says": bias.reading(metric, row),
        }
        for metric in bias.METRICS
    ]
    st.table(pd.DataFrame(rows).set_index("metric"))


def percentile_table(percentiles: pd.DataFrame) -> None:
    """Statistics as rows, sentiments as columns: compact enough to sit beside the histogram."""
    stats = percentiles.set_index("sentiment").T
    labels = {"reviews": "reviews with text", "mean": "mean", "max": "max"}
    for column in percentiles.columns:
        if column.startswith("p") and column[1:].isdigit():
            labels[column] = "median" if column == "p50" else f"{column[1:]}th pct"
    percentile_rows = [labels[c] for c in percentiles.columns if c.startswith("p") and c[1:].isdigit()]
    stats.index = [labels.get(i, i) for i in stats.index]

    def cell(value: float | None, capped: bool) -> str:
        if value is None or pd.isna(value):
            return "–"
        number = float(value)
        if capped and number >= WORD_CAP:  # counts past the cap share one group: the percentile is at least this
            return f"{WORD_CAP:,}+"
        return f"{number:,.1f}" if not number.is_integer() else f"{int(number):,}"

    shown = pd.DataFrame(
        {column: [cell(v, row in percentile_rows) for row, v in stats[column].items()] for column in stats.columns},
        index=stats.index,
    )
    st.table(shown)


def before_after_table(comparison: pd.DataFrame) -> None:
    shown = pd.DataFrame(
        {
            "metric": [f"{m} · {n}" for m, n in zip(comparison["metric"], comparison["name"], strict=True)],
            "before": [_number(v, 4) for v in comparison["largest before"]],
            "after": [_number(v, 4) for v in comparison["largest after"]],
        }
    ).set_index("metric")
    st.table(shown)


def show(fig: go.Figure, sql: str | Sequence[str], *, key: str, context: str = "") -> None:
    """A chart, a button that pins it to the report, and the SQL that computed its data one click away."""
    st.plotly_chart(fig, theme="streamlit", key=key, config={"displaylogo": False})
    statements = [sql] if isinstance(sql, str) else list(sql)
    title = str(fig.layout.title.text or "Sentiment chart")
    pin_chart(title, "Sentiment", fig, key=f"sentiment.{key}", sql="\n\n".join(statements), context=context)
    sql_expander(statements)


def sql_expander(sql: str | Sequence[str]) -> None:
    with st.expander("SQL behind this chart", icon=":material/code:"):
        for text in [sql] if isinstance(sql, str) else sql:
            st.code(text, language="sql")
