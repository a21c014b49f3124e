"""Ingest at the dataset's scale: an Amazon-layout TSV of 1 GB and 5 GB into Parquet partitioned by category,
by LakeLens's streaming ingest, DuckDB's COPY and the course's pandas way. :data:`INGEST_MEASUREMENTS` names
them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from lib.bench.measurement import local_settings

DEFAULT_INGEST_SIZES = ("1GB", "5GB")
QUICK_INGEST_SIZE = "20MB"


def ingest_file(base: Path, size: int, log: Callable[[str], None]) -> Path:
    """An Amazon-layout TSV of about ``size`` bytes (the demo generator's reviews), written once and cached."""
    import pyarrow.csv as pacsv

    from lib.lake import demo

    path = base / "ingest" / f"amazon_reviews_us_Bench_{size // 10**6}MB.tsv"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    log(f"writing a {size / 10**6:,.0f} MB Amazon-layout TSV for the ingest measurements (not timed)")
    tmp = path.with_suffix(".tmp")
    options = pacsv.WriteOptions(delimiter="\t", quoting_style="none", include_header=False)
    with tmp.open("wb") as handle:
        handle.write(("\t".join(c.name for c in demo.RAW_COLUMNS) + "\n").encode())
        done = 0
        while handle.tell() < size:
            chunk = max(1000, min(500_000, (size - handle.tell()) // 220))
            pacsv.write_csv(demo.raw_table(demo.generate(chunk, first_review=done)), handle, write_options=options)
            done += chunk
    tmp.rename(path)
    return path


def _ingest_out(path: Path, name: str) -> Path:
    out = path.parent / f"out-{name}"
    import shutil

    shutil.rmtree(out, ignore_errors=True)
    return out


def ingest_lakelens(path: Path) -> Callable[[], dict[str, Any]]:
    """python -m lib ingest --partition-by product_category, as a user runs it on a multi-GB file (in-process)."""
    from lib.backends.local import LocalBackend
    from lib.lake import stream as ingest_stream

    backend = LocalBackend(local_settings(_ingest_out(path, "lakelens")))

    def run() -> dict[str, Any]:
        done = ingest_stream.ingest_large(
            backend, path, database="bench", table="ingested", partition_by="product_category"
        )
        return {"rows": done.rows, "file_mb": round(path.stat().st_size / 10**6)}

    return run


def ingest_duckdb_copy(path: Path) -> Callable[[], dict[str, Any]]:
    """DuckDB's own COPY of the same file to Parquet partitioned by category, every default (threads, memory)."""
    import duckdb

    out = _ingest_out(path, "duckdb")

    def run() -> dict[str, Any]:
        con = duckdb.connect()
        written = con.execute(
            f"COPY (SELECT * FROM read_csv('{path}', delim = '\t', header = true, quote = '')) TO '{out}' "
            "(FORMAT parquet, PARTITION_BY (product_category))"
        ).fetchone()
        con.close()
        return {"rows": int(written[0]) if written else 0}

    return run


def ingest_pandas_course(path: Path) -> Callable[[], dict[str, Any]]:
    """The course's way: pandas read_csv of the whole TSV, then awswrangler-style to_parquet(partition_cols=...)."""
    import csv

    import pandas as pd

    out = _ingest_out(path, "pandas")

    def run() -> dict[str, Any]:
        frame = pd.read_csv(path, sep="\t", quoting=csv.QUOTE_NONE)
        frame.to_parquet(out, partition_cols=["product_category"], index=False)
        return {"rows": len(frame)}

    return run


INGEST_MEASUREMENTS: dict[str, Callable[[Path], Callable[[], dict[str, Any]]]] = {
    "ingest_lakelens": ingest_lakelens,
    "ingest_duckdb_copy": ingest_duckdb_copy,
    "ingest_pandas_course": ingest_pandas_course,
}
