"""What a block shows: a chart, a table or a number, drawn from its snapshot; and the report as one HTML file.

No Streamlit here, so the page, the slides, the export and the CLI draw the same thing. A chart is built from the
snapshot's rows with the block's attributes (``chart``, ``x``, ``y``, ``color``, ``value``); an attribute that is
missing is filled in by :func:`lib.charts.suggest`, one that names no column is matched loosely
("review count" finds ``review_count``). A pinned chart shows the figure as it was pinned until the first refresh.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import plotly.io as pio

from lib.charts import SENTIMENT_COLORS, ChartSpec, build_figure, suggest
from lib.errors import LakeLensError
from lib.reports.document import Block
from lib.reports.export import ReportItem, render_html
from lib.reports.markdown import to_html
from lib.reports.run import guard
from lib.reports.store import Snapshot, StoredReport

SLIDE_HEIGHT = 620  # a 1400 x 900 screen: headline, chart and the navigation row without scrolling
SLIDE_HEIGHT_WITH_TEXT = 520  # the same with a heading and a paragraph above the chart
SLIDE_FONT = 20


def slide_height(block: Block) -> int:
    return SLIDE_HEIGHT_WITH_TEXT if block.intro.strip() else SLIDE_HEIGHT


@dataclass(frozen=True)
class View:
    kind: Literal["chart", "table", "metric", "empty", "error"]
    figure: go.Figure | None = None
    frame: pd.DataFrame | None = None
    value: str = ""
    label: str = ""
    message: str = ""


_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")


def frame_of(snapshot: Snapshot) -> pd.DataFrame:
    """The stored rows; ISO date and time text (how JSON keeps them) becomes times again, for time axes."""
    frame = pd.DataFrame(snapshot.records or [], columns=snapshot.columns or None)
    for name in frame.columns:
        values = frame[name].dropna()
        if len(values) and all(isinstance(v, str) and _ISO_TIME.match(v) for v in values.head(200)):
            try:
                frame[name] = pd.to_datetime(frame[name], utc=False, format="ISO8601")
            except (ValueError, TypeError):
                continue
    return frame


def _normal(name: str) -> str:
    return re.sub(r"[\s_]+", " ", name).strip().lower()


def resolve(name: str | None, columns: list[str]) -> str | None:
    """The column ``name`` means: the exact name, else one equal to it ignoring case, spaces and underscores."""
    if not name:
        return None
    if name in columns:
        return name
    return next((c for c in columns if _normal(c) == _normal(name)), None)


def _format(value: Any) -> str:
    if hasattr(value, "item"):  # numpy scalars from a DataFrame
        value = value.item()
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() and abs(value) >= 1000 else f"{value:,.4g}"
    return str(value)


def view(block: Block, snapshot: Snapshot | None, database: str, *, slide: bool = False) -> View:
    """What to draw for ``block``; a refused block is an error whatever its snapshot says."""
    problem = guard(block, database)
    if problem:
        return View("error", message=problem)
    if snapshot is None:
        return View("empty", message="Not run yet: refresh the report to run this block.")
    if snapshot.figure_json and snapshot.records is None:
        figure = pio.from_json(snapshot.figure_json)
        return View("chart", figure=_sized(figure, slide, slide_height(block)))
    if snapshot.records is None:
        return View("error", message=snapshot.error or "This block has no stored result.")
    frame = frame_of(snapshot)
    try:
        return _view(block, frame, slide)
    except LakeLensError as exc:
        return View("error", message=str(exc))
    except (ValueError, KeyError, TypeError) as exc:
        return View("error", message=f"The chart cannot be drawn from this result ({exc}); try chart=table.")


def _view(block: Block, frame: pd.DataFrame, slide: bool) -> View:
    columns = [str(c) for c in frame.columns]
    if block.chart == "table":
        return View("table", frame=frame)
    if block.chart == "metric":
        numbers = [c for c in columns if pd.api.types.is_numeric_dtype(frame[c])]
        fallback = (numbers or columns)[0] if columns else None
        column = resolve(block.value, columns) or resolve(block.y, columns) or fallback
        if block.value and resolve(block.value, columns) is None:
            raise LakeLensError(f"value={block.value} is not a column of the result ({', '.join(columns)}).")
        if column is None or frame.empty:
            return View("metric", value="–", label=block.heading)
        return View("metric", value=_format(frame[column].iloc[0]), label=column.replace("_", " "))
    if frame.empty:
        return View("table", frame=frame, message="The query returned no rows.")
    suggested = suggest(frame)
    x = resolve(block.x, columns) or (suggested.x if suggested else None)
    y = resolve(block.y, columns) or (suggested.y if suggested and not block.y else None)
    color = resolve(block.color, columns) if block.color else (suggested.color if suggested and not block.x else None)
    for name, given in (("x", block.x), ("y", block.y), ("color", block.color)):
        if given and resolve(given, columns) is None:
            raise LakeLensError(f"{name}={given} is not a column of the result ({', '.join(columns)}).")
    kind = block.chart or (suggested.kind if suggested else None)
    if kind is None or x is None:
        return View("table", frame=frame)
    if kind == "pie":
        figure = px.pie(
            frame,
            names=x,
            values=y,
            color=x,
            color_discrete_map=SENTIMENT_COLORS if set(frame[x].astype(str)) <= set(SENTIMENT_COLORS) else None,
            hole=0.35,
        )
        return View("chart", figure=_sized(figure, slide, slide_height(block)))
    if kind not in ("bar", "line", "histogram", "scatter"):
        return View("table", frame=frame)
    keys = [x] + ([color] if color and color != x else [])
    agg = "count" if y is None else "none" if not frame.duplicated(subset=keys).any() else "sum"
    spec = ChartSpec(kind, x, None if kind == "histogram" else y, color, "count" if kind == "histogram" else agg)  # type: ignore[arg-type]
    figure = build_figure(frame, spec)
    if kind == "bar" and color == x:
        figure.update_layout(barmode="relative")  # one bar per x, coloured by it: full-width bars, not a group
    return View("chart", figure=_sized(figure, slide, slide_height(block)))


def _sized(figure: go.Figure, slide: bool, height: int = SLIDE_HEIGHT) -> go.Figure:
    """No title in the figure (the block's title is the heading); on a slide, tall and in a large font."""
    figure.update_layout(title_text="")
    figure.update_layout(margin={"l": 10, "r": 10, "t": 30, "b": 10})
    if slide:
        figure.update_layout(height=height, font={"size": SLIDE_FONT}, legend={"font": {"size": SLIDE_FONT}})
        figure.update_xaxes(title_font={"size": SLIDE_FONT + 2}, tickfont={"size": SLIDE_FONT - 2}, automargin=True)
        figure.update_yaxes(title_font={"size": SLIDE_FONT + 2}, tickfont={"size": SLIDE_FONT - 2}, automargin=True)
    return figure


def stats_line(snapshot: Snapshot | None) -> str:
    """``run 2026-12-01 09:30 UTC · DuckDB 2.0.0 · 3 rows · about 1.2 MB scanned``."""
    from lib.paths import human_bytes

    if snapshot is None:
        return ""
    parts = [f"run {snapshot.when}"]
    if snapshot.engine:
        parts.append(snapshot.engine)
    if snapshot.rows is not None:
        kept = (
            f" (first {len(snapshot.records or []):,} kept: raise LAKELENS_MAX_ROWS to keep more)"
            if snapshot.truncated
            else ""
        )
        parts.append(f"{snapshot.rows:,} row{'' if snapshot.rows == 1 else 's'}{kept}")
    if snapshot.bytes_scanned is not None:
        parts.append(f"{'about ' if snapshot.bytes_estimated else ''}{human_bytes(snapshot.bytes_scanned)} scanned")
    return " · ".join(parts)


def export_html(stored: StoredReport, lake: str, database: str) -> str:
    """The report as one self-contained HTML file (plotly inline, escaped text and tables, print: a block a page)."""
    items: list[ReportItem] = []
    for index, block in enumerate(stored.report.blocks):
        snapshot = stored.snapshot(index)
        shown = view(block, snapshot, database)
        details: dict[str, Any] = {
            "sql": block.sql if block.has_sql else None,
            "intro_html": to_html(block.intro),
            "context": stats_line(snapshot) if shown.kind != "error" else "",
        }
        if snapshot is not None and shown.kind != "error" and snapshot.error:
            details["error"] = f"The last refresh failed: {snapshot.error}"
        if shown.kind == "chart" and shown.figure is not None:
            items.append(
                ReportItem(
                    kind="chart", title=block.heading, page="", lake=lake, figure_json=shown.figure.to_json(), **details
                )
            )
        elif shown.kind == "table" and shown.frame is not None:
            from lib.reports.export import table_item

            items.append(table_item(block.heading, "", lake, shown.frame, **details))
        elif shown.kind == "metric":
            items.append(
                ReportItem(kind="metric", title=block.heading, page="", lake=lake, metric=shown.value, **details)
            )
        else:
            details["error"] = shown.message
            items.append(ReportItem(kind="text", title=block.heading, page="", lake=lake, **details))
    report = stored.report
    return render_html(
        items,
        title=report.title,
        description=report.description,
        author=report.author,
        tail_html=to_html(report.tail),
    )
