"""``python -m lib bench``: every page's data path, from 100k to 10M reviews, against what users do otherwise.

What it holds (the method is told in :mod:`lib.bench.runner`):

* ``measurement`` — the :class:`Measurement` record and what a measurement asks of its process;
* ``pages`` — the pages' data paths through lib.data, and the pandas, SQLite and hand-written DuckDB baselines;
* ``ingest`` — ingesting a multi-GB TSV: LakeLens, DuckDB's COPY, the course's pandas way;
* ``lakes`` — the demo lakes, built once per size and cached in ``bench-lakes/<rows>/``;
* ``report`` — ``benchmarks.md``, its ``.json`` and its log-log ``.svg``;
* ``runner`` — ``main`` (the command), ``worker`` (one measurement in a fresh process) and the process around it;
* ``automl_hook`` — what the AutoML page reads, measured by ``pages``.
"""

from __future__ import annotations

from lib.bench.ingest import INGEST_MEASUREMENTS
from lib.bench.lakes import prepare_lake
from lib.bench.measurement import Measurement
from lib.bench.pages import MEASUREMENTS
from lib.bench.report import write_report
from lib.bench.runner import main, run_in_fresh_process, worker

__all__ = [
    "INGEST_MEASUREMENTS",
    "MEASUREMENTS",
    "Measurement",
    "main",
    "prepare_lake",
    "run_in_fresh_process",
    "worker",
    "write_report",
]
