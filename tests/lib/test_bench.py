"""The benchmark keeps working: CI runs it once, at a small size, with --quick. Its numbers are not asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lib.bench import INGEST_MEASUREMENTS, MEASUREMENTS

pytestmark = pytest.mark.slow  # left out of `make unit`

ROOT = Path(__file__).resolve().parents[2]


def test_quick_benchmark_runs_every_measurement(tmp_path: Path) -> None:
    out = tmp_path / "benchmarks.md"
    done = subprocess.run(
        [sys.executable, "-m", "lib", "bench", "--quick", "--sizes", "3000", "--lakes", str(tmp_path / "lakes"),
         "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(out.with_suffix(".json").read_text())
    names = {r["name"] for r in report["results"]}
    assert names == set(MEASUREMENTS) | set(INGEST_MEASUREMENTS)
    failed = {r["name"]: r["error"] for r in report["results"] if r["error"]}
    assert not failed
    by_name = {r["name"]: r for r in report["results"]}
    assert by_name["sql_1m_rows"]["extra"]["rows_to_page"] <= 1000  # the page never gets more than max_rows
    assert by_name["list_50k_first_page"]["extra"]["entries"] == 1000
    assert by_name["list_50k_first_page"]["extra"]["has_next_page"] is True
    assert by_name["describe_1000_partitions"]["extra"]["partitions_first_page"] == 100
    assert by_name["sentiment_page"]["extra"]["reviews"] == 3000
    # the ingested-table path: same reviews, word counts from the text rather than the precomputed column
    assert by_name["sentiment_page_text"]["extra"]["reviews"] == 3000
    assert by_name["sentiment_page_text"]["extra"]["words_from"] == "text"
    assert by_name["sentiment_page"]["extra"]["words_from"] == "column"
    # ingest at scale (a 20 MB TSV in the quick run): LakeLens, DuckDB's COPY and the course's pandas way agree
    rows = {by_name[n]["extra"]["rows"] for n in INGEST_MEASUREMENTS}
    assert len(rows) == 1 and rows.pop() == by_name["ingest_lakelens"]["rows"]
    assert "ingest: LakeLens / DuckDB COPY" in json.dumps(report["ratios"])
    assert "| sentiment_page |" in out.read_text() and out.with_suffix(".svg").exists()
