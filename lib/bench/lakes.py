"""The demo lakes the measurements run on, built once per size and cached under ``bench-lakes/<rows>/``."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from lib.bench.measurement import local_settings
from lib.bench.pages import MEASUREMENTS, TEXT_TABLE, build_sqlite, sqlite_path

LISTING_OBJECTS = 50_000
PARTITIONS = 1_000


def prepare_lake(base: Path, rows: int, log: Callable[[str], None], names: list[str] | None = None) -> Path:
    """The demo lake of ``rows`` reviews with what the measurements in ``names`` need (all of them by default),
    built once and cached."""
    wanted = set(names or MEASUREMENTS)
    from lib.backends.local import LocalBackend
    from lib.catalog import LAKE_SCHEME, Column, Partition, parquet_table
    from lib.lake import demo

    folder = base / str(rows)
    lake = folder / "lake"
    backend = LocalBackend(local_settings(lake))
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
