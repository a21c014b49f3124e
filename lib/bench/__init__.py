"""``python -m lib bench``: every page's data path, from 100k to 10M reviews, against what users do otherwise.

Each measurement runs in a fresh process (``python -m lib.bench worker ...``) so "cold" really is cold: no
DuckDB connection, no parsed Parquet footers, no cached result. The worker times the first call (cold), then
the same call again through the same path the page uses (warm: the page's cache), and reports its peak RSS.

Comparisons run on the same files, the same machine, in the same run:

* ``pandas``  — the notebook way: read the columns into pandas, then aggregate;
* ``sqlite``  — SQLite running the same aggregates over a copy of the table, as a Datasette user would
  (the load into SQLite is done once and not timed);
* ``duckdb``  — hand-written DuckDB SQL straight over the Parquet files: the floor for LakeLens's layers.

Lakes are cached in ``bench-lakes/<rows>/`` between runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SIZES = (100_000, 1_000_000, 10_000_000)
LISTING_OBJECTS = 50_000
PARTITIONS = 1_000


@dataclass
class Measurement:
    name: str
    rows: int
    cold_s: float | None = None
    warm_s: float | None = None
    peak_rss_mb: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def _peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM). Not ru_maxrss: that one is inherited from the parent across fork+exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _current_rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


# -- the data each page needs -----------------------------------------------------------------------------------


def _settings(lake: Path) -> Any:
    from lib.settings import load_settings

    return load_settings({"LAKELENS_LAKE_ROOT": str(lake), "LAKELENS_BACKEND": "local"}, secrets_path="/nonexistent")


def _use_lake(lake: Path) -> None:
    """Point lib.data (the pages' cached access) at this lake."""
    os.environ["LAKELENS_LAKE_ROOT"] = str(lake)
    os.environ["LAKELENS_BACKEND"] = "local"
    import logging

    logging.getLogger("streamlit").setLevel(logging.ERROR)


def sentiment_page(lake: Path, table: str = "reviews") -> Callable[[], dict[str, Any]]:
    """Every chart and the bias table of the Sentiment page, through lib.data (the page's cached path)."""
    _use_lake(lake)
    import importlib

    # The app server has these imported already (the home page ran before): importing Python modules is not part
    # of the page's data time. Still cold: no DuckDB connection, no views, no Parquet footers, no cached result.
    importlib.import_module("lib.data")
    importlib.import_module("lib.sentiment.bias")
    importlib.import_module("lib.backends.local")
    from sqlglot.dialects.dialect import Dialect

    Dialect.get_or_raise("athena")
    Dialect.get_or_raise("duckdb")
    data = importlib.import_module("lib.data")
    sentiment = importlib.import_module("lib.sentiment")

    def run() -> dict[str, Any]:
        # the page's own cached path, passed in: lib.sentiment never imports the Streamlit layer
        result: dict[str, Any] = sentiment.page_data(
            data.table("demo", table), lambda sql: data.query(sql, max_rows=sentiment.MAX_GROUPS).frame
        )
        return result

    return run


def sentiment_page_text(lake: Path) -> Callable[[], dict[str, Any]]:
    """The Sentiment page on a table without a word-count column (an ingested table): words come from the text."""
    return sentiment_page(lake, TEXT_TABLE)


TEXT_TABLE = "reviews_text"  # demo.reviews registered again without review_words, as an ingested table would be


# Hand-written equivalents of the Sentiment page's three aggregates, for the baselines: reviews by category x
# sentiment (with rating and date ranges), reviews per (sentiment, word count), reviews by month x sentiment.
_SENTIMENT = (
    "CASE WHEN star_rating IS NULL THEN NULL WHEN star_rating < 3 THEN -1 WHEN star_rating = 3 THEN 0 ELSE 1 END"
)
_TEXT_MISSING = "NOT coalesce(regexp_matches(review_body, '\\S'), false)"
HAND_SQL = {
    "missing": f"""SELECT count(*), count(*) FILTER (WHERE star_rating IS NULL), count(*) FILTER (WHERE {_TEXT_MISSING}),
        count(*) FILTER (WHERE product_category IS NULL) FROM reviews""",
    "counts": f"""SELECT product_category, {_SENTIMENT} AS sentiment, count(*), count(*) FILTER (WHERE star_rating IS NULL),
        min(star_rating), max(star_rating), min(review_date), max(review_date) FROM reviews GROUP BY 1, 2""",
    "lengths": f"""SELECT {_SENTIMENT} AS sentiment, least(review_words, 1024), count(*), sum(review_words),
        max(review_words) FROM reviews GROUP BY 1, 2""",
    "monthly": f"""SELECT date_trunc('month', review_date), {_SENTIMENT} AS sentiment, count(*) FROM reviews
        WHERE review_date IS NOT NULL GROUP BY 1, 2""",
}
SQLITE_SQL = {
    "counts": f"""SELECT product_category, {_SENTIMENT} AS sentiment, count(*), sum(star_rating IS NULL),
        min(star_rating), max(star_rating), min(review_date), max(review_date) FROM reviews GROUP BY 1, 2""",
    "lengths": f"""SELECT {_SENTIMENT} AS sentiment, min(review_words, 1024), count(*), sum(review_words),
        max(review_words) FROM reviews GROUP BY 1, 2""",
    "monthly": f"""SELECT substr(review_date, 1, 7), {_SENTIMENT} AS sentiment, count(*) FROM reviews
        WHERE review_date IS NOT NULL GROUP BY 1, 2""",
}


# Words from the text, as Athena's cardinality(split(review_body, ' ')) counts them (spaces + 1), for a table
# without a word-count column.
_TEXT_WORDS = (
    f"CASE WHEN NOT ({_TEXT_MISSING}) THEN length(review_body) - length(replace(review_body, ' ', '')) + 1 END"
)
HAND_SQL_TEXT = dict(HAND_SQL) | {
    "lengths": f"""SELECT sentiment, least(words, 1024), count(*), sum(words), max(words) FROM (SELECT {_SENTIMENT} AS
        sentiment, {_TEXT_WORDS} AS words FROM reviews) GROUP BY 1, 2""",
}


def duckdb_baseline(lake: Path, queries: dict[str, str] | None = None) -> Callable[[], dict[str, Any]]:
    import duckdb

    files = str(lake / "curated" / "reviews" / "*" / "*.parquet")
    chosen = queries or HAND_SQL

    def run() -> dict[str, Any]:
        con = duckdb.connect()
        con.execute(f"CREATE VIEW reviews AS SELECT * FROM read_parquet('{files}', hive_partitioning = true)")
        out = {name: con.execute(sql).fetchall() for name, sql in chosen.items()}
        con.close()
        return {"groups": sum(len(v) for v in out.values())}

    return run


def pandas_baseline(lake: Path) -> Callable[[], dict[str, Any]]:
    import pandas as pd

    folder = lake / "curated" / "reviews"

    def to_sentiment(rating: int) -> int:
        return -1 if rating < 3 else 0 if rating == 3 else 1

    def run() -> dict[str, Any]:
        # The course's notebook: every row into a DataFrame (wr.athena.read_sql_query("SELECT * ...") does this),
        # the sentiment with .apply, the words per review by splitting the text, then pandas group-bys.
        import pyarrow as pa
        import pyarrow.dataset as ds

        # the category as plain strings: pyarrow cannot yet merge the folders' dictionaries once one value is NULL
        hive = ds.partitioning(pa.schema([("product_category", pa.string())]), flavor="hive")
        frame = pd.read_parquet(folder, partitioning=hive)
        frame["sentiment"] = frame["star_rating"].apply(to_sentiment)
        frame["num_words"] = frame["review_body"].str.split().str.len()  # type: ignore[misc]
        counts = frame.groupby(["product_category", "sentiment"], observed=True).agg(
            reviews=("star_rating", "size"), min_rating=("star_rating", "min"), max_rating=("star_rating", "max"),
            first=("review_date", "min"), last=("review_date", "max"),
        )  # fmt: skip
        lengths = frame.groupby(["sentiment", frame["num_words"].clip(upper=1024)]).agg(
            reviews=("num_words", "size"), total=("num_words", "sum"), longest=("num_words", "max")
        )
        months = pd.to_datetime(frame["review_date"]).dt.to_period("M")
        monthly = frame.groupby([months, "sentiment"]).size()
        return {"groups": len(counts) + len(lengths) + len(monthly)}

    return run


def sqlite_path(lake: Path) -> Path:
    return lake.parent / "reviews.sqlite"


def build_sqlite(lake: Path) -> Path:
    """Load the curated table into SQLite once (not timed), as `sqlite-utils insert` would for Datasette."""
    import pyarrow.dataset as ds

    path = sqlite_path(lake)
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    con = sqlite3.connect(tmp)
    con.execute(
        "CREATE TABLE reviews (product_category TEXT, star_rating INTEGER, review_body TEXT, review_date TEXT, "
        "review_words INTEGER)"
    )
    dataset = ds.dataset(lake / "curated" / "reviews", format="parquet", partitioning="hive")
    columns = ["product_category", "star_rating", "review_body", "review_date", "review_words"]
    for batch in dataset.to_batches(columns=columns, batch_size=200_000):
        rows = zip(*(batch.column(c).to_pylist() for c in columns), strict=True)
        con.executemany("INSERT INTO reviews VALUES (?, ?, ?, ?, ?)", ((a, b, c, str(d), e) for a, b, c, d, e in rows))
    con.commit()
    con.close()
    tmp.rename(path)
    return path


def sqlite_baseline(lake: Path) -> Callable[[], dict[str, Any]]:
    path = sqlite_path(lake)

    def run() -> dict[str, Any]:
        con = sqlite3.connect(path)
        out = {name: con.execute(sql).fetchall() for name, sql in SQLITE_SQL.items()}
        con.close()
        return {"groups": sum(len(v) for v in out.values())}

    return run


def sql_typical(lake: Path) -> Callable[[], dict[str, Any]]:
    _use_lake(lake)
    from lib import data

    sql = (
        "SELECT product_category, count(*) AS reviews, avg(star_rating) AS avg_rating "
        "FROM demo.reviews WHERE review_date >= DATE '2014-01-01' GROUP BY 1 ORDER BY 2 DESC"
    )

    def run() -> dict[str, Any]:
        result = data.query(sql)
        return {"rows_to_page": len(result.frame)}

    return run


def sql_million(lake: Path) -> Callable[[], dict[str, Any]]:
    _use_lake(lake)
    from lib import data

    sql = "SELECT review_id, product_category, star_rating, review_headline FROM demo.reviews LIMIT 1000000"
    baseline = _current_rss_mb()

    def run() -> dict[str, Any]:
        result = data.query(sql)
        return {
            "rows_to_page": len(result.frame),
            "rows_in_result": result.stats.total_rows,
            "rss_growth_mb": round(_peak_rss_mb() - baseline, 1),
        }

    return run


def sql_million_download(lake: Path) -> Callable[[], dict[str, Any]]:
    from lib.backends.local import LocalBackend

    backend = LocalBackend(_settings(lake))
    sql = "SELECT review_id, product_category, star_rating, review_headline FROM demo.reviews LIMIT 1000000"
    out = lake.parent / "download.csv"
    baseline = _current_rss_mb()

    def run() -> dict[str, Any]:
        rows = backend.export(sql, out, "csv")
        size = out.stat().st_size
        out.unlink()
        return {"rows_written": rows, "bytes_written": size, "rss_growth_mb": round(_peak_rss_mb() - baseline, 1)}

    return run


def listing(lake: Path) -> Callable[[], dict[str, Any]]:
    _use_lake(lake)
    from lib import data

    def run() -> dict[str, Any]:
        page = data.objects("bench/many/")
        return {"entries": len(page.objects) + len(page.folders), "has_next_page": page.next_token is not None}

    return run


def describe_partitions(lake: Path) -> Callable[[], dict[str, Any]]:
    _use_lake(lake)
    from lib import data

    def run() -> dict[str, Any]:
        table = data.table("bench", "partitioned")
        page = data.backend().list_partitions("bench", "partitioned", page_size=100)
        return {"columns": len(table.all_columns), "partitions_first_page": len(page.partitions)}

    return run


def automl_hook(function: str) -> Callable[[Path], Callable[[], dict[str, Any]]]:
    """A measurement made by a function of lib/bench/automl_hook.py (the AutoML page's reads), through lib.data."""

    def measurement(lake: Path) -> Callable[[], dict[str, Any]]:
        _use_lake(lake)
        import importlib

        read = getattr(importlib.import_module("lib.bench.automl_hook"), function)

        def run() -> dict[str, Any]:
            result: dict[str, Any] = read(lake)
            return result

        return run

    return measurement


MEASUREMENTS: dict[str, Callable[[Path], Callable[[], dict[str, Any]]]] = {
    "sentiment_page": sentiment_page,
    "sentiment_duckdb_hand": duckdb_baseline,
    "sentiment_page_text": sentiment_page_text,
    "sentiment_duckdb_hand_text": lambda lake: duckdb_baseline(lake, HAND_SQL_TEXT),
    "sentiment_pandas_notebook": pandas_baseline,
    "sentiment_sqlite": sqlite_baseline,
    "sql_typical": sql_typical,
    "sql_1m_rows": sql_million,
    "sql_1m_download": sql_million_download,
    "list_50k_first_page": listing,
    "describe_1000_partitions": describe_partitions,
    "automl_finished_job": automl_hook("render_finished_job_data"),
    "automl_review_queue": automl_hook("review_queue_data"),
}
# -- ingest at the dataset's scale: an Amazon-layout TSV of 1 GB and 5 GB into Parquet partitioned by category --------
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
            pacsv.write_csv(demo._raw_table(demo.generate(chunk, first_review=done)), handle, write_options=options)
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

    backend = LocalBackend(_settings(_ingest_out(path, "lakelens")))

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
MEMORY_CAPPED = {"sentiment_pandas_notebook", "ingest_pandas_course"}
NOTEBOOK_MEMORY_CAP = 16 * 2**30
NO_WARM = {
    "sentiment_duckdb_hand",
    "sentiment_duckdb_hand_text",
    "sentiment_pandas_notebook",
    "sentiment_sqlite",
    "sql_1m_download",
}


def worker(name: str, lake: Path, rows: int) -> Measurement:
    """Run one measurement in this (fresh) process."""
    measurement = Measurement(name, rows)
    if name in MEMORY_CAPPED:
        # the notebook way holds every row (and every word) in memory: cap it, so it fails with MemoryError
        # instead of taking the machine down
        resource.setrlimit(resource.RLIMIT_AS, (NOTEBOOK_MEMORY_CAP, NOTEBOOK_MEMORY_CAP))
    try:
        run = (INGEST_MEASUREMENTS.get(name) or MEASUREMENTS[name])(lake)
        started = time.perf_counter()
        measurement.extra = run()
        measurement.cold_s = time.perf_counter() - started
        if name not in NO_WARM and name not in INGEST_MEASUREMENTS:
            # warm: the same call answered again by the page's caches; the median of three repeats, as a page
            # rerun sees it (the first repeat also pays one-off lazy imports inside pandas)
            repeats = []
            for _ in range(3):
                started = time.perf_counter()
                run()
                repeats.append(time.perf_counter() - started)
            measurement.warm_s = sorted(repeats)[1]
    except MemoryError:
        measurement.error = f"ran out of memory (capped at {NOTEBOOK_MEMORY_CAP / 2**30:.0f} GiB)"
    except Exception as exc:  # a failed measurement is reported, not fatal to the run
        measurement.error = f"{type(exc).__name__}: {exc}"
    measurement.peak_rss_mb = round(_peak_rss_mb(), 1)
    return measurement


# -- preparing lakes ------------------------------------------------------------------------------------------------


def prepare_lake(base: Path, rows: int, log: Callable[[str], None], names: list[str] | None = None) -> Path:
    """The demo lake of ``rows`` reviews with what the measurements in ``names`` need (all of them by default),
    built once and cached."""
    wanted = set(names or MEASUREMENTS)
    from lib.backends.local import LocalBackend
    from lib.catalog import LAKE_SCHEME, Column, Partition, parquet_table
    from lib.lake import demo

    folder = base / str(rows)
    lake = folder / "lake"
    backend = LocalBackend(_settings(lake))
    marker = folder / "ready.json"
    if not marker.exists():
        log(f"building a demo lake with {rows:,} reviews in {lake}")
        demo.build(backend, rows)
        many = lake / "bench" / "many"
        many.mkdir(parents=True, exist_ok=True)
        for index in range(LISTING_OBJECTS):
            (many / f"object-{index:06d}.json").write_bytes(b"{}")
        import pyarrow as pa
        import pyarrow.parquet as pq

        parts = []
        for index in range(PARTITIONS):
            day = f"d{index:04d}"
            target = lake / "bench" / "partitioned" / f"day={day}"
            target.mkdir(parents=True, exist_ok=True)
            pq.write_table(pa.table({"id": [index], "value": [float(index)]}), target / "part-0.parquet")
            parts.append(Partition((day,), f"{LAKE_SCHEME}bench/partitioned/day={day}/"))
        backend.register_table(
            parquet_table(
                "bench", "partitioned", [Column("id", "bigint"), Column("value", "double")],
                LAKE_SCHEME + "bench/partitioned/", partition_keys=[Column("day", "string")],
            ),
            partitions=parts,
            replace=True,
        )  # fmt: skip
        curated = backend.get_table(demo.DATABASE, "reviews")
        backend.register_table(
            replace(
                curated,
                name=TEXT_TABLE,
                columns=[c for c in curated.columns if c.name != "review_words"],
                description="demo.reviews without its word-count column, as an ingested table has none",
            ),
            replace=True,
        )
        marker.write_text(json.dumps({"rows": rows}))
    if "sentiment_sqlite" in wanted and not sqlite_path(lake).exists():
        log("loading the table into SQLite for the Datasette-style baseline (not timed)")
        build_sqlite(lake)
    automl_marker = folder / "automl-ready.json"
    if {"automl_finished_job", "automl_review_queue"} & wanted and not automl_marker.exists():
        log("training a small AutoML job to render (not timed)")
        from lib.bench.automl_hook import ensure_finished_job

        ensure_finished_job(backend)
        automl_marker.write_text(json.dumps({"job": "bench-finished-job"}))
    review_marker = folder / "review-ready.json"
    if "automl_review_queue" in wanted and not review_marker.exists():
        log("scoring demo.reviews with made-up predictions and writing 200 answers for the review queue (not timed)")
        from lib.bench.automl_hook import ensure_scored_table

        ensure_scored_table(backend, lake)
        review_marker.write_text(json.dumps({"table": "demo.reviews_scored_bench"}))
    backend.close()
    return lake


def run_in_fresh_process(name: str, lake: Path, rows: int, timeout_s: int) -> Measurement:
    command = [sys.executable, "-m", "lib.bench", "worker", name, str(lake), str(rows)]
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        return Measurement(name, rows, error=f"did not finish within {timeout_s} s")
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    aborted = any(word in done.stderr for word in ("MemoryError", "bad_alloc", "terminate called"))
    if done.returncode != 0 and name in MEMORY_CAPPED and aborted:  # C++ code hitting the cap aborts instead
        return Measurement(name, rows, error=f"ran out of memory (capped at {NOTEBOOK_MEMORY_CAP / 2**30:.0f} GiB)")
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return Measurement(name, rows, error=f"worker failed: {tail}")
    return Measurement(**json.loads(lines[-1]))


# -- report -----------------------------------------------------------------------------------------------------------


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB RAM, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def _fmt_s(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def ratios(results: list[Measurement]) -> dict[int, dict[str, float]]:
    out: dict[int, dict[str, float]] = {}
    for rows in sorted({m.rows for m in results}):
        at = {m.name: m for m in results if m.rows == rows and m.cold_s}
        lake_ingest, copy = at.get("ingest_lakelens"), at.get("ingest_duckdb_copy")
        if lake_ingest and copy and lake_ingest.cold_s and copy.cold_s:
            # the other way round: LakeLens's streaming ingest ÷ DuckDB's COPY of the same file (target ≤ 1.5)
            out[rows] = {"ingest: LakeLens / DuckDB COPY": round(lake_ingest.cold_s / copy.cold_s, 2)}
        page = at.get("sentiment_page")
        if not page or not page.cold_s:
            continue
        out[rows] = {
            f"{other} / LakeLens": round(at[other].cold_s / page.cold_s, 2)  # type: ignore[operator]
            for other in ("sentiment_pandas_notebook", "sentiment_sqlite", "sentiment_duckdb_hand")
            if other in at
        }
        text, hand = at.get("sentiment_page_text"), at.get("sentiment_duckdb_hand_text")
        if text and hand and text.cold_s and hand.cold_s:
            # the other way round: LakeLens on a table whose word counts come from the text ÷ DuckDB by hand
            out[rows]["LakeLens (words from text) / sentiment_duckdb_hand_text"] = round(text.cold_s / hand.cold_s, 2)
    return out


def write_report(results: list[Measurement], out: Path, notes: str = "") -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "machine": machine(),
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "results": [asdict(m) for m in results],
        "ratios": ratios(results),
    }
    out.with_suffix(".json").write_text(json.dumps(payload, indent=2))
    svg = out.with_suffix(".svg")
    svg.write_text(loglog_svg(results))
    lines = [
        "# Benchmarks",
        "",
        f"Measured by `make bench` (`python -m lib bench`) on {payload['machine']}, {payload['when']}.",
        "Each cell is one fresh process: **cold** is the first call (no connection, no cache), **warm** the same call",
        "again through the page's cache. Peak RSS is the whole process's.",
        "",
        "| measurement | reviews | cold | warm | peak RSS | details |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for m in results:
        detail = m.error or ", ".join(f"{k}={v}" for k, v in m.extra.items())
        lines.append(
            f"| {m.name} | {m.rows:,} | {_fmt_s(m.cold_s)} | {_fmt_s(m.warm_s)} | {m.peak_rss_mb or '–'} MB | {detail} |"
        )
    lines += ["", "## Ratios (cold time of the alternative ÷ cold time of LakeLens's Sentiment page data)", ""]
    ratio_table = ratios(results)
    for rows, values in ratio_table.items():
        lines.append(f"- {rows:,} reviews: " + ", ".join(f"{k} = {v}×" for k, v in values.items()))
    lines += ["", f"![time against rows, log-log]({svg.name})", ""]
    if notes:
        lines += ["## What moved the numbers", "", notes.strip(), ""]
    out.write_text("\n".join(lines))


def loglog_svg(results: list[Measurement]) -> str:
    """A small log-log chart of cold time against rows, one line per measurement; no plotting dependency."""
    import math

    series: dict[str, list[tuple[int, float]]] = {}
    for m in results:
        if m.cold_s:
            series.setdefault(m.name, []).append((m.rows, m.cold_s))
    width, height, pad = 760, 420, 60
    xs = [r for points in series.values() for r, _ in points] or [1, 10]
    ys = [t for points in series.values() for _, t in points] or [0.01, 1]
    x0, x1 = math.log10(min(xs)) - 0.1, math.log10(max(xs)) + 0.1
    y0, y1 = math.log10(min(ys)) - 0.2, math.log10(max(ys)) + 0.2

    def px(rows: float, seconds: float) -> tuple[float, float]:
        x = pad + (math.log10(rows) - x0) / max(x1 - x0, 1e-9) * (width - 2 * pad - 170)
        y = height - pad - (math.log10(seconds) - y0) / max(y1 - y0, 1e-9) * (height - 2 * pad)
        return x, y

    colours = [
        "#2563eb",
        "#dc2626",
        "#16a34a",
        "#9333ea",
        "#ea580c",
        "#0891b2",
        "#4b5563",
        "#be185d",
        "#65a30d",
        "#a16207",
    ]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
    ]
    parts.append(f'<text x="{pad}" y="20" font-size="14">Cold time against reviews (log-log)</text>')
    for exponent in range(math.floor(y0), math.ceil(y1) + 1):
        _, y = px(10**x0, 10**exponent)
        if pad <= y <= height - pad:
            parts.append(f'<line x1="{pad}" x2="{width - pad - 170}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>')
            parts.append(f'<text x="{pad - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt_s(10**exponent)}</text>')
    for rows in sorted(set(xs)):
        x, _ = px(rows, 10**y0)
        parts.append(f'<text x="{x:.1f}" y="{height - pad + 16}" text-anchor="middle">{rows:,}</text>')
    parts.append(f'<text x="{(width - 170) / 2:.0f}" y="{height - 18}" text-anchor="middle">reviews</text>')
    for index, (name, points) in enumerate(sorted(series.items())):
        colour = colours[index % len(colours)]
        coords = [px(r, t) for r, t in sorted(points)]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>' for x, y in coords]
        ly = pad + index * 16
        parts.append(f'<rect x="{width - pad - 160}" y="{ly - 8}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{width - pad - 145}" y="{ly + 1}">{name}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lib bench", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument(
        "--sizes", default=",".join(str(s) for s in DEFAULT_SIZES), help="comma-separated review counts"
    )
    parser.add_argument(
        "--quick", action="store_true", help="smallest size only, for CI: checks the benchmark still runs"
    )
    parser.add_argument("--lakes", default=str(ROOT / "bench-lakes"), help="where lakes are built and cached")
    parser.add_argument(
        "--out", default=str(ROOT / "docs" / "benchmarks.md"), help="report path (.md; .json and .svg beside it)"
    )
    parser.add_argument("--only", help="comma-separated measurement names")
    parser.add_argument(
        "--ingest-sizes",
        default=",".join(DEFAULT_INGEST_SIZES),
        help="comma-separated TSV sizes for the ingest measurements (e.g. 1GB,5GB; 0 for none)",
    )
    parser.add_argument("--timeout", type=int, default=900, help="seconds one measurement may take")
    args = parser.parse_args(argv)
    try:
        sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        print("error: --sizes takes whole numbers separated by commas, e.g. 100000,1000000", file=sys.stderr)
        return 2
    if args.quick:
        sizes = [min(sizes)]
    everything = [*MEASUREMENTS, *INGEST_MEASUREMENTS]
    names = everything if not args.only else [n.strip() for n in args.only.split(",")]
    unknown = [n for n in names if n not in everything]
    if unknown:
        print(
            f"error: unknown measurement(s) {', '.join(unknown)}; choose from {', '.join(everything)}",
            file=sys.stderr,
        )
        return 2
    base = Path(args.lakes)
    results: list[Measurement] = []
    if not any(n in MEASUREMENTS for n in names):
        sizes = []  # only the ingest measurements: no demo lake is needed
    for rows in sizes:

        def log(message: str, rows: int = rows) -> None:
            print(f"[{rows:,}] {message}", file=sys.stderr)

        lake = prepare_lake(base, rows, log, [n for n in names if n in MEASUREMENTS])
        for name in [n for n in names if n in MEASUREMENTS]:
            measurement = run_in_fresh_process(name, lake, rows, args.timeout)
            results.append(measurement)
            status = (
                measurement.error
                or f"cold {_fmt_s(measurement.cold_s)}, warm {_fmt_s(measurement.warm_s)}, {measurement.peak_rss_mb} MB"
            )
            print(f"[{rows:,}] {name}: {status}", file=sys.stderr)
    from lib.settings import _size

    ingest_sizes = [QUICK_INGEST_SIZE] if args.quick else [t for t in args.ingest_sizes.split(",") if t.strip()]
    for text in ingest_sizes:
        if text.strip().lower() in ("0", "none"):
            continue
        try:
            size = _size(text.strip())
        except ValueError:
            print(f"error: --ingest-sizes takes sizes such as 1GB,5GB; got {text!r}", file=sys.stderr)
            return 2
        if size <= 0:
            continue
        path = ingest_file(base, size, lambda message: print(f"[ingest] {message}", file=sys.stderr))
        rows = sum(1 for _ in path.open("rb")) - 1
        for name in [n for n in names if n in INGEST_MEASUREMENTS]:
            measurement = run_in_fresh_process(name, path, rows, args.timeout)
            measurement.extra.setdefault("file_mb", round(path.stat().st_size / 10**6))
            results.append(measurement)
            status = measurement.error or f"{_fmt_s(measurement.cold_s)}, {measurement.peak_rss_mb} MB"
            print(f"[ingest {text}] {name}: {status}", file=sys.stderr)
    notes_file = Path(args.out).with_name(f"{Path(args.out).stem}-notes.md")  # benchmarks.md: benchmarks-notes.md
    write_report(results, Path(args.out), notes_file.read_text() if notes_file.exists() else "")
    print(f"wrote {args.out}", file=sys.stderr)
    failed = [m for m in results if m.error and m.name not in MEMORY_CAPPED]
    return 1 if args.quick and failed else 0
