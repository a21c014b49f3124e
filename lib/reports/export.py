"""One self-contained HTML file: pinned charts and results, or a saved report's blocks (``lib.reports``).

The file carries plotly.js inline, each chart's figure as JSON and each table as escaped HTML, with the SQL
behind every item, the engine, rows, bytes scanned, when it ran and against which lake. It opens offline in any
browser: no request leaves the page. Printed, each item is a page of its own (a print stylesheet), so the browser's
Print makes a PDF with one block per page.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import pandas as pd

from lib.paths import human_bytes

MAX_TABLE_ROWS = 1000


@dataclass(frozen=True)
class ReportItem:
    kind: Literal["chart", "table", "metric", "text"]
    title: str
    page: str
    lake: str
    figure_json: str | None = None
    table: list[dict[str, Any]] | None = None
    columns: list[str] = field(default_factory=list)
    sql: str | None = None
    engine: str | None = None
    rows: int | None = None
    bytes_scanned: int | None = None
    bytes_estimated: bool = False
    context: str = ""
    intro_html: str = ""  # trusted HTML (lib.reports.markdown escapes everything first) shown above the item
    metric: str = ""  # kind "metric": the number, already formatted
    error: str = ""  # why the item shows no result
    run_at: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))


def chart_item(title: str, page: str, lake: str, figure: Any, **details: Any) -> ReportItem:
    """A pinned chart; ``figure`` is a plotly figure."""
    return ReportItem(kind="chart", title=title, page=page, lake=lake, figure_json=figure.to_json(), **details)


def table_item(title: str, page: str, lake: str, frame: pd.DataFrame, **details: Any) -> ReportItem:
    """A pinned result; at most :data:`MAX_TABLE_ROWS` rows are kept."""
    shown = frame.head(MAX_TABLE_ROWS)
    records = json.loads(shown.to_json(orient="records", date_format="iso", default_handler=str))
    return ReportItem(
        kind="table",
        title=title,
        page=page,
        lake=lake,
        table=records,
        columns=[str(c) for c in shown.columns],
        **details,
    )


_STYLE = """
body { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; margin: 0; color: #1f2937; background: #fff; }
header { padding: 24px 40px 8px; border-bottom: 1px solid #e5e7eb; }
header h1 { margin: 0 0 4px; font-size: 28px; }
header p { margin: 0; color: #6b7280; }
main { padding: 8px 40px 40px; }
section { border: 1px solid #e5e7eb; border-radius: 8px; padding: 16px 20px; margin: 20px 0; }
section h2 { margin: 0 0 4px; font-size: 20px; }
.meta { color: #6b7280; font-size: 13px; margin: 0 0 12px; }
.chart { width: 100%; min-height: 440px; }
details { margin-top: 10px; }
pre { background: #f3f4f6; padding: 12px; border-radius: 6px; overflow-x: auto; font-size: 13px; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid #e5e7eb; padding: 4px 8px; text-align: left; }
th { background: #f9fafb; }
.tablewrap { max-height: 480px; overflow: auto; }
.intro { margin: 0 0 12px; } .intro p { margin: 6px 0; }
.metric { font-size: 56px; font-weight: 600; margin: 8px 0 4px; }
.error { color: #b91c1c; background: #fef2f2; border-radius: 6px; padding: 8px 12px; }
.tail { margin: 20px 0; }
@media print {
  header { padding: 0 0 8px; } main { padding: 0; }
  section { border: none; padding: 0; margin: 0; break-after: page; page-break-after: always; break-inside: avoid; }
  section:last-of-type { break-after: auto; page-break-after: auto; }
  .tablewrap { max-height: none; overflow: visible; }
  details { display: none; }
  .chart { min-height: 0; }
}
@media (prefers-color-scheme: dark) {
  body { background: #0e1117; color: #e5e7eb; }
  header { border-color: #374151; } section { border-color: #374151; }
  pre { background: #1f2937; } th { background: #1f2937; } th, td { border-color: #374151; }
}
"""


def _meta(item: ReportItem) -> str:
    if not item.page:  # a report block: its context is its snapshot's line
        return html.escape(" · ".join(p for p in (item.context, f"lake {item.lake}") if p))
    parts = [f"From the {item.page} page", f"run {item.run_at}", f"lake {item.lake}"]
    if item.engine:
        parts.append(f"engine {item.engine}")
    if item.rows is not None:
        parts.append(f"{item.rows:,} rows")
    if item.bytes_scanned is not None:
        size = human_bytes(item.bytes_scanned)
        parts.append(f"{'about ' if item.bytes_estimated else ''}{size} scanned")
    return " · ".join(html.escape(p) for p in parts)


def render_html(
    items: list[ReportItem],
    title: str = "LakeLens report",
    *,
    description: str = "",
    author: str = "",
    tail_html: str = "",
) -> str:
    """One HTML document, plotly.js inline, that renders every item offline."""
    import plotly.offline

    made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    sections: list[str] = []
    scripts: list[str] = []
    for index, item in enumerate(items):
        body = ""
        if item.kind == "chart" and item.figure_json:
            div = f"chart-{index}"
            body = f'<div id="{div}" class="chart"></div>'
            figure = item.figure_json.replace("</", "<\\/")
            scripts.append(
                f"(function(){{var f={figure};f.layout=f.layout||{{}};f.layout.autosize=true;"
                "f.layout.margin={l:90,r:40,t:60,b:90};"
                "['xaxis','yaxis'].forEach(function(a){f.layout[a]=f.layout[a]||{};f.layout[a].automargin=true;});"
                f"Plotly.newPlot('{div}',f.data,f.layout,{{responsive:true,displaylogo:false}});}})();"
            )
        elif item.kind == "table" and item.table is not None:
            frame = pd.DataFrame(item.table, columns=item.columns or None)
            body = f'<div class="tablewrap">{frame.to_html(index=False, escape=True, na_rep="")}</div>'
        elif item.kind == "metric":
            body = f'<p class="metric">{html.escape(item.metric)}</p>'
        if item.error:
            body = f'<p class="error">{html.escape(item.error)}</p>' + body
        context = f'<p class="meta">{html.escape(item.context)}</p>' if item.context and item.page else ""
        intro = f'<div class="intro">{item.intro_html}</div>' if item.intro_html else ""
        sql = (
            f"<details><summary>SQL behind this</summary><pre>{html.escape(item.sql)}</pre></details>"
            if item.sql
            else ""
        )
        sections.append(
            f'<section data-kind="{item.kind}">{intro}<h2>{html.escape(item.title)}</h2>'
            f'<p class="meta">{_meta(item)}</p>{context}{body}{sql}</section>'
        )
    plotly_js = plotly.offline.get_plotlyjs() if scripts else ""
    byline = "".join(f"<p>{html.escape(text)}</p>" for text in (description, f"by {author}" if author else "") if text)
    tail = f'<div class="tail">{tail_html}</div>' if tail_html else ""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{html.escape(title)}</title>'
        f"<style>{_STYLE}</style>"
        + (f"<script>{plotly_js}</script>" if plotly_js else "")
        + f"</head><body><header><h1>{html.escape(title)}</h1>{byline}"
        + f"<p>{len(items)} item(s) · made with LakeLens {made}</p></header>"
        + f"<main>{''.join(sections) or '<p>Nothing was pinned.</p>'}{tail}</main>"
        + (f"<script>{''.join(scripts)}</script>" if scripts else "")
        + "</body></html>"
    )
