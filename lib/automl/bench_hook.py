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
