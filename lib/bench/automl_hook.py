"""What the AutoML page reads to render a finished job, for ``python -m lib bench``.

It follows ``pages/automl.py``'s ``local_job`` through ``lib.data`` (the page's cached path): the job list, the
status, the summary and candidate records, every candidate's metrics and explainability, and the best candidate's
model only when its "Try it" tab is opened (not part of rendering the job).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

JOB = "bench-finished-job"


def ensure_finished_job(backend: Any, budget_s: int = 15) -> None:
    """Train a small job in the bench lake once (not timed), so there is a finished job to render."""
    from lib.automl import jobs

    if jobs.job_exists(backend, JOB) and jobs.read_status(backend, JOB).status == "Completed":
        return
    config = jobs.JobConfig(
        name=JOB, database="demo", table="reviews", text_column="review_body", label_column="star_rating",
        label_source="rating", budget_s=budget_s, max_rows=5_000,
    )  # fmt: skip
    jobs.start_job(backend, config)
    status = jobs.wait(backend, JOB, timeout_s=budget_s * 6 + 120)
    if status.status != "Completed":
        raise RuntimeError(f"the bench AutoML job ended {status.status}: {status.failure_reason}")


def render_finished_job_data(lake: Path) -> dict[str, Any]:
    from lib import data
    from lib.automl import jobs

    summaries = data.automl_jobs()
    status = jobs.read_status(data.backend(), JOB)
    stamp = status.updated
    data.automl_record(JOB, "job.json", "")
    summary = data.automl_record(JOB, "data.json", stamp)
    candidates = data.automl_record(JOB, "candidates.json", stamp)
    done = [c for c in candidates if c.get("status") == "Completed"]
    for candidate in done:
        data.automl_record(JOB, f"candidates/{candidate['name']}/metrics.json", stamp)
        data.automl_record(JOB, f"candidates/{candidate['name']}/explainability.json", stamp)
    return {"jobs_listed": len(summaries), "candidates": len(done), "classes": len(summary["classes"])}


SCORED = "reviews_scored_bench"
LABELS = 200


def ensure_scored_table(backend: Any, lake: Path) -> None:
    """A scored copy of demo.reviews for the review queue (not timed): the job's columns with a prediction and a
    confidence made from a hash of the review id (scoring 10M reviews with the model would take minutes and
    measure the model, not the queue), registered as ``automl predict`` registers its tables, and 200 answers."""
    import duckdb

    from lib.automl import jobs, review
    from lib.catalog import Column, arrow_type_to_glue, parquet_table
    from lib.errors import NotFound

    try:
        backend.get_table("demo", SCORED)
        return
    except NotFound:
        pass
    source = backend.get_table("demo", "reviews")
    folder = f"curated/demo/{SCORED}/"
    target = lake / folder
    target.mkdir(parents=True, exist_ok=True)
    files = sorted(str(p) for p in (lake / "curated" / "reviews").rglob("*.parquet"))
    con = duckdb.connect()
    con.execute(
        f"""COPY (SELECT *, CASE hash(review_id) % 3 WHEN 0 THEN 'negative' WHEN 1 THEN 'neutral'
        ELSE 'positive' END AS predicted_sentiment, 0.34 + (hash(review_id) % 6600) / 10000.0 AS confidence
        FROM read_parquet({files!r}, hive_partitioning = true)) TO '{target / "part-0.parquet"}' (FORMAT parquet)"""
    )
    con.close()
    import pyarrow.parquet as pq

    schema = pq.read_schema(target / "part-0.parquet")
    status = jobs.read_status(backend, JOB)
    backend.register_table(
        parquet_table(
            "demo",
            SCORED,
            [Column(f.name, arrow_type_to_glue(f.type)) for f in schema],
            backend.location(folder),
            parameters={
                "lakelens.source": source.qualified_name,
                "lakelens.automl_job": JOB,
                "lakelens.automl_candidate": status.best_candidate or "",
                "lakelens.text_column": "review_body",
            },
        )
    )
    queue = review.open_queue(backend, f"demo.{SCORED}")
    for row in review.next_reviews(backend, queue, who="bench", limit=LABELS):
        queue, _ = review.label(
            backend, queue, row["review_id"], row["predicted_sentiment"], who="bench",
            predicted=row["predicted_sentiment"], confidence=row["confidence"],
        )  # fmt: skip


def review_queue_data(lake: Path) -> dict[str, Any]:
    """What the review queue reads for one screen: the queue's progress through lib.data (cached) and the next 20
    reviews of another analyst (never cached), on the 200-answer scored table."""
    from lib import data
    from lib.automl import review

    queue = review.open_queue(data.backend(), f"demo.{SCORED}")
    state = data.review_state(queue.scored.qualified_name, None, "doubt", "analyst", 0)
    batch = review.next_reviews(data.backend(), queue, who="analyst")
    return {"labelled": state["labelled"], "left_in_queue": state["left_in_queue"], "batch": len(batch)}
