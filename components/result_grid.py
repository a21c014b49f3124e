"""A finished query: what it cost, its rows (at most ``max_rows``), and the whole result as a download.

The grid shows the rows the backend handed over, never more than ``max_rows``. Downloads do not go through
that frame: the backend writes the whole result to a temporary file (``backend.export``) when the analyst
clicks, and the file is what is sent.
"""

from __future__ import annotations

import logging
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import streamlit as st

from components.metrics import metric_row
from lib import data
from lib.backends.base import QueryResult, QueryStats
from lib.errors import LakeLensError
from lib.paths import human_bytes
from lib.settings import Settings

log = logging.getLogger("lakelens")


def format_usd(amount: float) -> str:
    """Dollars with the precision small Athena bills need: $0.00005 (the 10 MB minimum), $0.42, $1,234.50."""
    if amount >= 0.01:
        return f"${amount:,.2f}"
    return f"${amount:.5f}".rstrip("0").rstrip(".") if amount else "$0"


def truncation_note(stats: QueryStats) -> str:
    """``showing 1,000 of 48,213 rows — raise LAKELENS_MAX_ROWS to see more`` (or the plain row count)."""
    rows = f"{stats.rows:,} row{'s' if stats.rows != 1 else ''}"
    if not stats.truncated:
        return rows
    if stats.total_rows is not None:
        return f"showing {stats.rows:,} of {stats.total_rows:,} rows — raise LAKELENS_MAX_ROWS to see more"
    return f"showing {stats.rows:,} rows of more than {stats.rows:,} — raise LAKELENS_MAX_ROWS to see more"


def stats_cards(stats: QueryStats, *, cached: bool, elapsed_s: float) -> None:
    scanned = human_bytes(stats.bytes_scanned) if stats.bytes_scanned is not None else "unknown"
    scanned_help = (
        "Estimated: bytes in the files of the tables read (the local engine does not measure its reads)"
        if stats.bytes_estimated
        else "Bytes the engine reports it scanned"
    )
    cost = format_usd(stats.cost_usd) if stats.cost_usd is not None else "unknown"
    metric_row(
        [
            ("Rows", f"{stats.total_rows:,}" if stats.total_rows is not None else f"{stats.rows:,}+", None),
            ("Runtime", f"{stats.runtime_s:,.2f} s", "Time the engine spent running the query"),
            ("Queue", f"{stats.queue_s:,.2f} s", "Time the query waited before it started"),
            ("Scanned" + (" (est.)" if stats.bytes_estimated else ""), scanned, scanned_help),
            (
                "Athena cost" + (" (est.)" if stats.bytes_estimated else ""),
                cost,
                "Athena's price: $5 per TB scanned, at least 10 MB per query",
            ),
        ]
    )
    source = (
        ":material/cached: from the cache — no new scan, no new cost"
        if cached
        else f":material/timer: answered in {elapsed_s:,.2f} s"
    )
    st.caption(f"{source} · engine {stats.engine} · query id `{stats.query_id}`")


def result_grid(result: QueryResult, *, key: str) -> None:
    stats = result.stats
    st.caption(truncation_note(stats))
    if stats.rows == 0:
        st.info("The query returned no rows.", icon=":material/info:")
        return
    st.dataframe(result.frame, hide_index=True, width="stretch", key=f"grid.{key}")


def download_buttons(sql: str, settings: Settings, *, key: str) -> None:
    """CSV and Parquet of the whole result, written by the backend to a temporary file when clicked."""
    left, right, _ = st.columns([2, 2, 3])
    for column, fmt, mime, icon in (
        (left, "csv", "text/csv", ":material/download:"),
        (right, "parquet", "application/vnd.apache.parquet", ":material/download:"),
    ):
        column.download_button(
            f"Whole result as {fmt.upper()}",
            data=_exporter(sql, settings, fmt),  # type: ignore[arg-type]
            file_name=f"{_file_stem(sql)}.{fmt}",
            mime=mime,
            icon=icon,
            key=f"download.{fmt}.{key}",
            on_click="ignore",
            help="Every row of the result, not only the rows shown; the backend writes the file.",
        )


def _exporter(sql: str, settings: Settings, fmt: Literal["csv", "parquet"]) -> Callable[[], bytes]:
    """Runs on Streamlit's download thread when clicked: export to a temporary file, send the file's bytes."""
    backend = data.backend(settings)

    def build() -> bytes:
        with tempfile.TemporaryDirectory(prefix="lakelens-export-") as folder:
            path = Path(folder) / f"result.{fmt}"
            try:
                backend.export(sql, path, fmt, database=settings.database)
            except LakeLensError as exc:
                log.warning("Export failed: %s", exc)
                raise
            return path.read_bytes()

    return build


def _file_stem(sql: str) -> str:
    """A file name from the query's tables, e.g. ``demo_reviews-result``."""
    match = re.search(r"\bfrom\s+([\w.\"]+)", sql, flags=re.I)
    name = match.group(1).replace('"', "").replace(".", "_") if match else "query"
    return f"{name[:60]}-result"
