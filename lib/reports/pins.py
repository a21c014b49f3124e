"""Pinned items (``lib.reports.export.ReportItem`` from any page) become blocks of a report in the lake.

A pinned chart or table carries its SQL when the page had one: the block gets it, with the chart's kind and its
axes when the figure's axis titles name columns the SQL returns (otherwise ``chart=table``: the page computed the
chart from the rows, and a refresh shows the fresh rows rather than a wrong chart), and the pinned figure or rows
become the block's first snapshot. An item pinned without SQL (a Lake preview, an AutoML
leaderboard) becomes a block with an ``id`` and no SQL: it shows what was pinned and is kept as it is by a refresh.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

import sqlglot
from sqlglot.errors import SqlglotError

from lib.reports.document import Block, ChartKind, append_block, new_report_text, parse
from lib.reports.export import ReportItem
from lib.reports.store import ReportStore, Snapshot

_TRACE_KINDS: dict[str, ChartKind] = {"bar": "bar", "histogram": "histogram", "pie": "pie"}


def _one_statement(sql: str) -> str:
    """A block holds one statement: of several (a page that computes a chart from two queries), the first."""
    try:
        statements = [s for s in sqlglot.parse(sql, read="athena") if s is not None]
    except SqlglotError:
        return sql
    if len(statements) <= 1:
        return sql.strip().rstrip(";").strip()
    return statements[0].sql(dialect="athena", pretty=True)


def _title_text(axis: Any) -> str | None:
    if not isinstance(axis, dict):
        return None
    title = axis.get("title")
    text = title.get("text") if isinstance(title, dict) else title
    return str(text) if text else None


def output_columns(sql: str) -> list[str]:
    """The names of the columns ``sql`` returns, read from its syntax tree (no query runs); [] when unknown."""
    try:
        tree = sqlglot.parse_one(sql, read="athena")
    except SqlglotError:
        return []
    names = getattr(tree, "named_selects", None)
    return [str(name) for name in names or [] if name and name != "*"]


def _loose(name: str) -> str:
    """``reviews (count)`` and ``Reviews`` both name the column ``reviews``: axis titles carry units and spaces."""
    return re.sub(r"[\s_]+", " ", re.sub(r"\(.*?\)", "", name)).strip().lower()


def _column(title: str | None, columns: list[str]) -> str | None:
    if not title:
        return None
    return next((c for c in columns if _loose(c) == _loose(title)), None)


def _chart_attributes(figure_json: str, columns: list[str]) -> dict[str, Any]:
    """chart/x/y/color for a pinned figure, when its axes name columns of the block's SQL.

    Pages often draw a chart from their SQL's rows after some arithmetic (shares, weighted averages); then the
    axes name no column, and the block shows its rows as a table after a refresh rather than a wrong chart.
    """
    figure = json.loads(figure_json)
    traces = figure.get("data") or []
    layout = figure.get("layout") or {}
    if not traces:
        return {"chart": "table"}
    trace = traces[0]
    kind: ChartKind | None = _TRACE_KINDS.get(str(trace.get("type", "")))
    if trace.get("type") in ("scatter", "scattergl") and "lines" in str(trace.get("mode", "")):
        kind = "line"
    if kind is None:
        return {"chart": "table"}
    if kind == "pie":
        return {"chart": kind}
    x_title, y_title = _title_text(layout.get("xaxis")), _title_text(layout.get("yaxis"))
    if trace.get("orientation") == "h":
        x_title, y_title = y_title, x_title
    x = _column(x_title, columns)
    y = None if kind == "histogram" else _column(y_title, columns)
    if x is None or (kind != "histogram" and y is None):
        return {"chart": "table"}
    color = _column(_title_text(layout.get("legend")), columns) if len(traces) > 1 else None
    return {"chart": kind, "x": x, "y": y, "color": color}


def _run_at(item: ReportItem) -> str:
    try:
        return datetime.strptime(item.run_at, "%Y-%m-%d %H:%M UTC").replace(tzinfo=UTC).isoformat()
    except ValueError:
        return datetime.now(UTC).isoformat()


def block_from_item(item: ReportItem) -> tuple[Block, Snapshot, str]:
    """The block, its first snapshot and a line of Markdown for above it."""
    sql = _one_statement(item.sql) if item.sql else ""
    attributes: dict[str, Any] = {}
    if item.kind == "chart" and item.figure_json:
        attributes = _chart_attributes(item.figure_json, output_columns(sql)) if sql else {}
    elif item.kind == "table":
        attributes = {"chart": "table"}
    block = Block(
        sql=sql or f"-- pinned from the {item.page} page, without SQL: a refresh keeps it as it is",
        title=item.title,
        id=f"pin-{uuid.uuid4().hex[:10]}",
        **{k: v for k, v in attributes.items() if v},
    )
    snapshot = Snapshot(
        run_at=_run_at(item),
        engine=item.engine or "",
        rows=item.rows if item.rows is not None else (len(item.table) if item.table is not None else None),
        bytes_scanned=item.bytes_scanned,
        bytes_estimated=item.bytes_estimated,
        columns=list(item.columns),
        records=item.table,
        figure_json=item.figure_json,
        sql=block.sql,
    )
    intro = f"*From the {item.page} page*" + (f": {item.context}" if item.context else "")
    return block, snapshot, intro


def add_items(
    store: ReportStore, items: list[ReportItem], *, slug: str | None = None, title: str = "", author: str = ""
) -> str:
    """Append ``items`` as blocks to report ``slug`` (or a new report called ``title``); returns the slug."""
    text = store.text(slug) if slug else new_report_text(title or "Pinned results", author=author)
    snapshots: dict[str, Snapshot] = {}
    for item in items:
        block, snapshot, intro = block_from_item(item)
        text = append_block(text, block, intro)
        snapshots[parse(text).blocks[-1].snapshot_key] = snapshot
    if slug:
        store.save(slug, text)
    else:
        slug = store.create(text)
    store.update_snapshots(slug, snapshots)
    return slug
