"""A finished query: what it cost, its rows (at most ``max_rows``), and the whole result as a download.

The grid shows the rows the backend handed over, never more than ``max_rows``. Downloads do not go through
that frame: the backend writes the whole result to a temporary file (``backend.export``) when the analyst
clicks, and the file is what is sent.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import streamlit as st

from components.metrics import metric_row
from lib import data
from lib import sql as sqlmod
from lib.backends.base import Backend, QueryResult, QueryStats
from lib.errors import LakeLensError
from lib.paths import human_bytes
from lib.settings import Settings

log = logging.getLogger("lakelens")
# The whole-result downloads a backend with ``export`` offers: (format, MIME type), one button each.
_FORMATS: tuple[tuple[Literal["csv", "parquet"], str], ...] = (
    ("csv", "text/csv"),
    ("parquet", "application/vnd.apache.parquet"),
)


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
    st.caption((":material/info: " if stats.truncated else "") + truncation_note(stats))
    if stats.rows == 0:
        st.info("The query returned no rows.", icon=":material/info:")
        return
    st.dataframe(result.frame, hide_index=True, width="stretch", key=f"grid.{key}")


def download_buttons(
    sql: str, stats: QueryStats, settings: Settings, *, key: str, params: dict[str, str] | None = None
) -> None:
    """CSV and Parquet of the whole result, written by the backend to a temporary file when clicked.

    A backend without ``export`` (the aws backend until it has one) offers Athena's own result object instead:
    the CSV Athena wrote for this query, read from the lake when clicked.
    """
    backend = data.backend(settings)
    stem = _file_stem(sql, settings)
    help_text = "Every row of the result, not only the rows shown; the backend writes the file."
    if not _exports(backend):
        if type(backend).result_location is Backend.result_location:  # the engine keeps no result file
            st.caption("Whole-result downloads are not available on this backend.")
            return
        st.download_button(
            "Whole result as CSV",
            data=_athena_result(backend, stats.query_id),
            file_name=f"{stem}.csv",
            mime="text/csv",
            icon=":material/download:",
            key=f"download.csv.{key}",
            on_click="ignore",
            help="Every row of the result: the CSV file Athena wrote for this query.",
        )
        return
    left, right, _ = st.columns([2, 2, 3])
    for column, (fmt, mime) in zip((left, right), _FORMATS, strict=True):
        column.download_button(
            f"Whole result as {'CSV' if fmt == 'csv' else 'Parquet'}",
            data=_exporter(backend, sql, settings.database, fmt, params),
            file_name=f"{stem}.{fmt}",
            mime=mime,
            icon=":material/download:",
            key=f"download.{fmt}.{key}",
            on_click="ignore",
            help=help_text,
        )


def _exports(backend: Backend) -> bool:
    return type(backend).export is not Backend.export


def _exporter(
    backend: Backend, sql: str, database: str, fmt: Literal["csv", "parquet"], params: dict[str, str] | None = None
) -> Callable[[], bytes]:
    """Runs on Streamlit's download thread when clicked: export to a temporary file, send the file's bytes."""

    def build() -> bytes:
        with tempfile.TemporaryDirectory(prefix="lakelens-export-") as folder:
            path = Path(folder) / f"result.{fmt}"
            try:
                backend.export(sql, path, fmt, database=database, params=params or None)
            except LakeLensError as exc:
                log.warning("Export failed: %s", exc)
                raise
            return path.read_bytes()

    return build


def _athena_result(backend: Backend, query_id: str) -> Callable[[], bytes]:
    def build() -> bytes:
        location = backend.result_location(query_id)
        if location is None:
            raise LakeLensError(f"The {backend.engine_name} engine kept no result file for the query {query_id}.")
        key = backend.location_key(location)
        if key is None:
            raise LakeLensError(f"Athena wrote the result to {location}, outside the lake; download it from there.")
        return backend.read(key.rstrip("/"))

    return build


def _file_stem(sql: str, settings: Settings) -> str:
    """A file name from the first table the query reads, e.g. ``demo_reviews-result``."""
    try:
        tables = sqlmod.check(sql, allow_writes=True, default_database=settings.database).tables
    except LakeLensError:
        tables = []
    name = f"{tables[0].database}_{tables[0].table}" if tables else "query"
    return f"{name[:60]}-result"
