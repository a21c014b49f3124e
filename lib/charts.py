"""A chart for a query result: suggested from the column types, editable, and built with plotly express.

No Streamlit here: :func:`suggest` and :func:`build_figure` take a DataFrame (the ≤ ``max_rows`` rows the page
holds) and return plain values, so tests and the CLI can call them. A :class:`ChartSpec` round-trips through a
compact URL parameter (:func:`encode` / :func:`decode`) so a shared link redraws the same chart.

Suggestions: a category and a number give a bar chart, a time and a number a line chart, a single number a
histogram; a second category, or a column named like ``sentiment``, becomes the colour. Sentiment always has
the same three colours on every chart.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from lib.errors import LakeLensError

ChartKind = Literal["bar", "line", "scatter", "histogram"]
Aggregation = Literal["none", "sum", "mean", "count", "min", "max"]

CHART_KINDS: tuple[ChartKind, ...] = ("bar", "line", "scatter", "histogram")
AGGREGATIONS: tuple[Aggregation, ...] = ("none", "sum", "mean", "count", "min", "max")

# One colour per sentiment on every chart in LakeLens: the Okabe-Ito colours the Sentiment page uses
# (components/sentiment/charts.py; a test keeps the two equal), readable with colour-vision deficiencies and on
# light and dark backgrounds.
SENTIMENT_COLORS = {"negative": "#D55E00", "neutral": "#8C8C8C", "positive": "#0072B2"}
_SENTIMENT_VALUES = {-1: "negative", 0: "neutral", 1: "positive"}


@dataclass(frozen=True)
class ChartSpec:
    kind: ChartKind
    x: str
    y: str | None = None
    color: str | None = None
    agg: Aggregation = "none"

    def describe(self) -> str:
        if self.kind == "histogram":
            return f"histogram of {self.x}"
        measure = self.y if self.agg == "none" else f"{self.agg} of {self.y}" if self.y else "count"
        by = f" by {self.color}" if self.color else ""
        return f"{self.kind} chart of {measure} per {self.x}{by}"


def column_kind(series: pd.Series) -> Literal["number", "time", "category", "other"]:
    if pd.api.types.is_bool_dtype(series):
        return "category"
    if pd.api.types.is_numeric_dtype(series):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "time"
    if series.dtype == object or pd.api.types.is_string_dtype(series):
        sample = series.dropna().head(50)
        if len(sample) and all(hasattr(v, "isoformat") and not isinstance(v, str) for v in sample):
            return "time"  # Python dates from DATE columns
        if len(sample) and all(isinstance(v, str) for v in sample):
            return "category"
    return "other"


def _is_sentiment(name: str, series: pd.Series) -> bool:
    if "sentiment" not in name.lower():
        return False
    values = set(series.dropna().unique().tolist())
    return bool(values) and values <= {-1, 0, 1, "negative", "neutral", "positive", "-1", "0", "1"}


def suggest(frame: pd.DataFrame) -> ChartSpec | None:
    """The chart an analyst most likely wants for this result, or ``None`` when nothing fits."""
    if frame.empty or len(frame.columns) == 0:
        return None
    frame = frame.rename(columns=str)
    names: list[str] = [str(name) for name in frame.columns]
    kinds = {name: column_kind(frame[name]) for name in names}
    numbers = [n for n in names if kinds[n] == "number"]
    times = [n for n in names if kinds[n] == "time"]
    sentiment = [n for n in names if _is_sentiment(str(n), frame[n])]
    categories = [n for n in names if kinds[n] == "category" and n not in sentiment]
    measures = [n for n in numbers if n not in sentiment]

    if times and measures:
        color = sentiment[0] if sentiment else categories[0] if categories else None
        return ChartSpec("line", times[0], measures[-1], color, _agg_for(frame, times[0], color))
    if categories and measures:
        color = sentiment[0] if sentiment else categories[1] if len(categories) > 1 else None
        return ChartSpec("bar", categories[0], measures[-1], color, _agg_for(frame, categories[0], color))
    if sentiment and measures:
        return ChartSpec("bar", sentiment[0], measures[-1], sentiment[0], _agg_for(frame, sentiment[0], None))
    if len(measures) >= 2:
        # A small integer first column (num_words, star_rating) with a count reads as a bar chart.
        first = frame[measures[0]]
        if pd.api.types.is_integer_dtype(first) and first.is_unique:
            return ChartSpec("bar", measures[0], measures[1], None, "none")
        return ChartSpec("scatter", measures[0], measures[1], categories[0] if categories else None, "none")
    if len(measures) == 1:
        return ChartSpec("histogram", measures[0], None, categories[0] if categories else None, "count")
    if categories or sentiment:
        column = (categories or sentiment)[0]
        return ChartSpec("bar", column, None, None, "count")
    return None


def _agg_for(frame: pd.DataFrame, x: str, color: str | None) -> Aggregation:
    """``none`` when every (x, colour) pair appears once (the query already aggregated), else ``sum``."""
    keys = [x] + ([color] if color and color != x else [])
    return "none" if not frame.duplicated(subset=keys).any() else "sum"


def validate(spec: ChartSpec, frame: pd.DataFrame) -> ChartSpec | None:
    """``spec`` if its columns exist in ``frame`` (a link's chart on a changed query may not fit)."""
    columns = set(map(str, frame.columns))
    needed = [spec.x, spec.y, spec.color]
    if any(name is not None and name not in columns for name in needed):
        return None
    if spec.kind != "histogram" and spec.y is None and spec.agg != "count":
        return replace(spec, agg="count")
    return spec


def prepare(frame: pd.DataFrame, spec: ChartSpec) -> pd.DataFrame:
    """The rows to draw: aggregated by x (and colour) when the spec asks for it."""
    data = frame.copy()
    data.columns = [str(c) for c in data.columns]
    if spec.color and _is_sentiment(spec.color, data[spec.color]):
        data[spec.color] = data[spec.color].map(lambda v: _SENTIMENT_VALUES.get(_as_int(v), v))
    if spec.kind == "histogram" or spec.agg == "none":
        return data
    keys = [spec.x] + ([spec.color] if spec.color and spec.color != spec.x else [])
    if spec.agg == "count" or spec.y is None:
        out = data.groupby(keys, dropna=False, sort=False).size().reset_index(name="count")
        return out
    if not pd.api.types.is_numeric_dtype(data[spec.y]):
        raise LakeLensError(
            f"Column {spec.y} is not a number, so it cannot be summed or averaged; pick a number for y."
        )
    return data.groupby(keys, dropna=False, sort=False)[spec.y].agg(spec.agg).reset_index()


def _as_int(value: Any) -> Any:
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def title_for(spec: ChartSpec) -> str:
    if spec.kind == "histogram":
        return f"Distribution of {_words(spec.x)}" + (f" by {_words(spec.color)}" if spec.color else "")
    if spec.agg == "count" or spec.y is None:
        measure = "Number of rows"
    elif spec.agg == "none":
        measure = _words(spec.y).capitalize()
    else:
        measure = f"{_AGG_WORDS[spec.agg]} {_words(spec.y)}"
    colour = f" and {_words(spec.color)}" if spec.color and spec.color != spec.x else ""
    return f"{measure} by {_words(spec.x)}{colour}"


_AGG_WORDS = {"sum": "Total", "mean": "Average", "min": "Lowest", "max": "Highest", "count": "Number of", "none": ""}


def _words(name: str | None) -> str:
    return re.sub(r"_+", " ", name or "").strip()


def build_figure(frame: pd.DataFrame, spec: ChartSpec) -> go.Figure:
    """A plotly figure for ``spec`` over the rows of ``frame``."""
    data = prepare(frame, spec)
    y = "count" if spec.kind != "histogram" and (spec.agg == "count" or spec.y is None) else spec.y
    colors: dict[str, Any] = {}
    if spec.color:
        if set(data[spec.color].dropna().unique().tolist()) <= set(SENTIMENT_COLORS):
            colors = {
                "color_discrete_map": SENTIMENT_COLORS,
                "category_orders": {spec.color: list(SENTIMENT_COLORS)},
            }
        elif not pd.api.types.is_numeric_dtype(data[spec.color]):
            data[spec.color] = data[spec.color].astype("string")
    labels = {name: _words(name) for name in map(str, data.columns)}
    if y == "count":
        labels["count"] = "number of rows"
    elif y and spec.agg not in ("none", "count"):
        labels[y] = f"{_AGG_WORDS[spec.agg].lower()} {_words(y)}"
    common: dict[str, Any] = {"color": spec.color, "labels": labels, "title": title_for(spec), **colors}
    if spec.kind == "histogram":
        figure = px.histogram(data, x=spec.x, **common)
        figure.update_yaxes(title_text="number of rows")
    elif spec.kind == "line":
        figure = px.line(data.sort_values(spec.x), x=spec.x, y=y, markers=True, **common)
    elif spec.kind == "scatter":
        figure = px.scatter(data, x=spec.x, y=y, **common)
    else:
        if spec.color is None and not pd.api.types.is_numeric_dtype(data[spec.x]):
            data = data.sort_values(y, ascending=False)  # type: ignore[arg-type]
        stacked = spec.agg in ("sum", "count", "none") and spec.color != spec.x
        figure = px.bar(data, x=spec.x, y=y, barmode="relative" if stacked else "group", **common)
        if not pd.api.types.is_numeric_dtype(data[spec.x]):
            figure.update_xaxes(type="category")
    figure.update_layout(margin={"l": 10, "r": 10, "t": 50, "b": 10}, legend_title_text=_words(spec.color))
    return figure


def encode(spec: ChartSpec) -> str:
    """Compact text for the URL: base64url of a short JSON object, without padding."""
    body = {k: v for k, v in asdict(spec).items() if v not in (None, "none")}
    raw = json.dumps(body, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode(text: str) -> ChartSpec | None:
    """The spec in a URL parameter, or ``None`` if it is missing or damaged (a bad link never breaks the page)."""
    if not text:
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        body = json.loads(raw)
        kind = body["kind"]
        agg = body.get("agg", "none")
        if kind not in CHART_KINDS or agg not in AGGREGATIONS or not isinstance(body["x"], str):
            return None
        y, color = body.get("y"), body.get("color")
        if (y is not None and not isinstance(y, str)) or (color is not None and not isinstance(color, str)):
            return None
        return ChartSpec(kind=kind, x=body["x"], y=y, color=color, agg=agg)
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None
