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
import resource
import subprocess
import sys
import time
from pathlib import Path

from lib.bench.ingest import DEFAULT_INGEST_SIZES, INGEST_MEASUREMENTS, QUICK_INGEST_SIZE, ingest_file
from lib.bench.lakes import prepare_lake
from lib.bench.measurement import Measurement, peak_rss_mb
from lib.bench.pages import MEASUREMENTS
from lib.bench.report import fmt_s, write_report

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SIZES = (100_000, 1_000_000, 10_000_000)
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
    measurement.peak_rss_mb = round(peak_rss_mb(), 1)
    return measurement


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
                or f"cold {fmt_s(measurement.cold_s)}, warm {fmt_s(measurement.warm_s)}, {measurement.peak_rss_mb} MB"
            )
            print(f"[{rows:,}] {name}: {status}", file=sys.stderr)
    from lib.settings import parse_size

    ingest_sizes = [QUICK_INGEST_SIZE] if args.quick else [t for t in args.ingest_sizes.split(",") if t.strip()]
    for text in ingest_sizes:
        if text.strip().lower() in ("0", "none"):
            continue
        try:
            size = parse_size(text.strip())
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
            status = measurement.error or f"{fmt_s(measurement.cold_s)}, {measurement.peak_rss_mb} MB"
            print(f"[ingest {text}] {name}: {status}", file=sys.stderr)
    notes_file = Path(args.out).with_name(f"{Path(args.out).stem}-notes.md")  # benchmarks.md: benchmarks-notes.md
    write_report(results, Path(args.out), notes_file.read_text() if notes_file.exists() else "")
    print(f"wrote {args.out}", file=sys.stderr)
    failed = [m for m in results if m.error and m.name not in MEMORY_CAPPED]
    return 1 if args.quick and failed else 0
