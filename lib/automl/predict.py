"""Score a lake table with a finished job's candidate and write the answers back as a registered Parquet table.

The course's "deploy and predict" step, without an endpoint: ``python -m lib automl predict`` and the AutoML page's
*Score a table* both call :func:`plan` (every refusal, before anything is read or written) and then :func:`run`.

The table is never loaded whole. ``backend.export`` streams ``SELECT *`` to a temporary Parquet file (DuckDB's Arrow
batches locally; Athena's result object on aws), which is read back ``batch_rows`` rows at a time; each batch is
scored and appended to a second temporary file through one ``ParquetWriter``, so memory holds one batch of the source
and its scores, whatever the table's size. Only then is the file put in the curated zone
(``curated/<db>/<table>/``, streamed) and the table registered; a failure at any step removes what was written and
leaves a replaced table as it was.

A review without text (NULL, '' or only white space, the rule of the Sentiment page and the training query) is not
given to the model: its row is kept with NULL ``predicted_sentiment``, ``confidence`` and probabilities, so the
output has exactly the source's rows and a NULL says "no prediction" rather than inventing one.
"""

from __future__ import annotations

import re
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlglot import exp

from lib.automl import jobs
from lib.backends.base import Backend
from lib.catalog import Column, TableDef, arrow_type_to_glue, parquet_table, validate_identifier
from lib.errors import AutoMLError, LakeLensError, NotFound
from lib.lake.objects import objects_under

BATCH_ROWS = 10_000  # rows scored at a time: a batch of texts, its TF-IDF matrix and its scores fit in a few MB
PREDICTED = "predicted_sentiment"
CONFIDENCE = "confidence"
_HAS_TEXT = re.compile(r"\S")

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class PredictPlan:
    """What will be scored and written, checked."""

    job: str
    candidate: str
    candidate_label: str
    model_sha256: str | None
    source: TableDef
    text_column: str
    database: str
    name: str
    classes: tuple[str, ...]
    probability_columns: tuple[str, ...]
    old: TableDef | None  # the table being replaced, if any
    stale: tuple[str, ...]  # its files, removed once the new table is registered

    @property
    def qualified_name(self) -> str:
        return f"{self.database}.{self.name}"

    @property
    def folder(self) -> str:
        return f"curated/{self.database}/{self.name}/"


@dataclass(frozen=True)
class PredictResult:
    table: TableDef
    key: str
    rows: int
    scored: int  # rows with a text, given to the model
    without_text: int  # rows kept with a NULL prediction
    seconds: float

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


def probability_column(name: str) -> str:
    """``p_negative`` for class ``negative``; other labels made Glue-safe (lower case, digits, underscores)."""
    safe = re.sub(r"[^a-z0-9]+", "_", str(name).lower()).strip("_") or "class"
    return f"p_{safe}"


def _probability_columns(classes: list[str]) -> tuple[str, ...]:
    out: list[str] = []
    for name in classes:
        column = probability_column(name)
        while column in out:
            column += "_"
        out.append(column)
    return tuple(out)


def _split_table(qualified: str, default_database: str, what: str) -> tuple[str, str]:
    database, _, table = qualified.strip().rpartition(".")
    database = database or default_database
    if not table:
        raise AutoMLError(f"Name the {what} as database.table.")
    return validate_identifier(database, "database"), validate_identifier(table, "table")


def finished_candidates(backend: Backend, job: str) -> tuple[jobs.JobStatus, list[dict[str, Any]]]:
    """The job's status and its measured candidates; refuses an unknown or unfinished job."""
    jobs.validate_name(job)
    if not jobs.job_exists(backend, job):
        raise AutoMLError(f"There is no AutoML job {job} in this lake; `python -m lib automl list` shows the jobs.")
    status = jobs.read_status(backend, job)
    if status.status != "Completed":
        state = "is still running" if not status.terminal else f"ended {status.status}"
        raise AutoMLError(
            f"Job {job} {state} ({status.stage}); only a completed job has a model to score with. "
            "Wait for it, or choose a completed job."
        )
    candidates = [c for c in jobs.read_json(backend, job, "candidates.json") if c.get("status") == "Completed"]
    if not candidates:
        raise AutoMLError(f"Job {job} has no candidate that was measured; start the job again.")
    return status, candidates


def plan(
    backend: Backend,
    job: str,
    table: str,
    out_table: str,
    *,
    candidate: str | None = None,
    replace: bool = False,
) -> PredictPlan:
    """Check the job, the candidate, the source table and its text column, and the output name: every refusal here,
    before any row is read or any object written."""
    status, candidates = finished_candidates(backend, job)
    chosen = candidate or status.best_candidate or candidates[0]["name"]
    record = next((c for c in candidates if c["name"] == chosen), None)
    if record is None:
        names = ", ".join(c["name"] for c in candidates)
        raise AutoMLError(f"Job {job} has no completed candidate {chosen!r}; choose one of {names}.")
    config = jobs.read_config(backend, job)
    database, name = _split_table(table, config.database, "table to score")
    out_database, out_name = _split_table(out_table, database, "output table")
    source = backend.get_table(database, name)
    text = next((c for c in source.all_columns if c.name == config.text_column), None)
    if text is None:
        raise AutoMLError(
            f"Table {source.qualified_name} has no column {config.text_column}, the text job {job} was trained on; "
            "choose a table with that column."
        )
    from lib import sentiment

    if not sentiment.is_string(text.type):
        raise AutoMLError(
            f"Column {text.name} of {source.qualified_name} holds {text.type} values, not text; choose another table."
        )
    classes = [str(c) for c in jobs.read_json(backend, job, "data.json")["classes"]]
    probabilities = _probability_columns(classes)
    taken = {c.name for c in source.all_columns} & {PREDICTED, CONFIDENCE, *probabilities}
    if taken:
        raise AutoMLError(
            f"Table {source.qualified_name} already has column(s) {', '.join(sorted(taken))}, which the scores would "
            "write; score the table they came from instead."
        )
    if (out_database, out_name) == (database, name):
        raise AutoMLError("The scores need a table of their own; the output must not replace the table it scores.")
    try:
        old: TableDef | None = backend.get_table(out_database, out_name)
    except NotFound:
        old = None
    folder = f"curated/{out_database}/{out_name}/"
    if old is not None and not replace:
        raise AutoMLError(
            f"Table {out_database}.{out_name} already exists; choose another name, or replace it "
            "(--replace; on the page: tick 'Replace it')."
        )
    if old is not None and backend.location_key(old.location) != folder:
        raise AutoMLError(
            f"Table {out_database}.{out_name} lives at {old.location}, not {folder}; choose another name."
        )
    stale, subfolders = objects_under(backend, folder)
    if subfolders or (stale and old is None):
        raise AutoMLError(f"The lake folder {folder} already holds other files; choose another table name.")
    return PredictPlan(
        job=job,
        candidate=record["name"],
        candidate_label=record.get("label", record["name"]),
        model_sha256=record.get("model_sha256"),
        source=source,
        text_column=text.name,
        database=out_database,
        name=out_name,
        classes=tuple(classes),
        probability_columns=probabilities,
        old=old,
        stale=tuple(stale),
    )


def source_sql(table: TableDef) -> str:
    """Every column of every row: the output keeps the source's columns (partition keys become plain columns)."""
    return exp.select("*").from_(exp.table_(table.name, db=table.database, quoted=True)).sql(dialect="athena")


def has_text(value: Any) -> bool:
    return isinstance(value, str) and _HAS_TEXT.search(value) is not None


def score_batch(model: Any, batch: Any, text_column: str, plan_: PredictPlan) -> tuple[Any, int]:
    """The batch with the prediction columns appended, and how many of its rows had a text."""
    import numpy as np
    import pyarrow as pa

    texts = batch.column(batch.schema.get_field_index(text_column)).to_pylist()
    keep = [i for i, t in enumerate(texts) if has_text(t)]
    n = batch.num_rows
    proba = np.full((n, len(plan_.classes)), np.nan)
    if keep:
        proba[keep] = np.asarray(model.predict_proba([texts[i] for i in keep]), dtype=float)
    mask = np.ones(n, dtype=bool)
    mask[keep] = False
    best = np.nan_to_num(proba, nan=-1.0).argmax(axis=1)
    names = np.asarray(plan_.classes, dtype=object)[best]
    predicted = pa.array(names.tolist(), type=pa.string(), mask=mask)
    confidence = pa.array(np.nanmax(np.where(mask[:, None], 0.0, proba), axis=1), type=pa.float64(), mask=mask)
    arrays = [*batch.columns, predicted, confidence]
    arrays += [pa.array(proba[:, i], type=pa.float64(), mask=mask) for i in range(len(plan_.classes))]
    names_out = [*batch.schema.names, PREDICTED, CONFIDENCE, *plan_.probability_columns]
    return pa.RecordBatch.from_arrays(arrays, names=names_out), len(keep)


def run(
    backend: Backend,
    plan_: PredictPlan,
    *,
    progress: Progress | None = None,
    batch_rows: int = BATCH_ROWS,
    model: Any = None,
) -> PredictResult:
    """Score the planned table in batches and register the output, all or nothing."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tell = progress or (lambda fraction, message: None)
    started = time.perf_counter()
    model = model or jobs.load_model(backend, plan_.job, plan_.candidate, plan_.model_sha256)
    key = f"{plan_.folder}part-{uuid.uuid4().hex[:8]}.parquet"
    written = False
    registered = False
    try:
        with tempfile.TemporaryDirectory(prefix="lakelens-predict-") as scratch:
            source_path = Path(scratch) / "source.parquet"
            out_path = Path(scratch) / "scored.parquet"
            tell(0.0, f"Reading {plan_.source.qualified_name}")
            total = backend.export(source_sql(plan_.source), source_path, "parquet", database=plan_.source.database)
            reader = pq.ParquetFile(source_path)
            done = scored = 0
            schema: pa.Schema | None = None
            writer: pq.ParquetWriter | None = None
            try:
                for batch in reader.iter_batches(batch_size=max(1, batch_rows)):
                    out, with_text = score_batch(model, batch, plan_.text_column, plan_)
                    if writer is None:
                        schema = out.schema
                        writer = pq.ParquetWriter(out_path, schema)
                    writer.write_batch(out)
                    done += batch.num_rows
                    scored += with_text
                    tell(0.05 + 0.85 * done / max(total, 1), f"Scored {done:,} of {total:,} rows")
                if writer is None:  # an empty table: an empty output with the right columns
                    empty = pa.RecordBatch.from_pylist([], schema=reader.schema_arrow)
                    out, _ = score_batch(model, empty, plan_.text_column, plan_)
                    schema = out.schema
                    writer = pq.ParquetWriter(out_path, schema)
                    writer.write_batch(out)
            finally:
                if writer is not None:
                    writer.close()
                reader.close()
            source_path.unlink(missing_ok=True)
            tell(0.92, f"Writing {plan_.qualified_name}")
            backend.write_file(key, out_path, content_type="application/vnd.apache.parquet", move=True)
            written = True
        assert schema is not None
        table = _table_def(backend, plan_, schema, total)
        if not any(db.name == plan_.database for db in backend.list_databases()):
            backend.create_database(plan_.database, "Created by LakeLens AutoML predictions")
        tell(0.97, f"Registering {plan_.qualified_name}")
        stored = backend.register_table(table, replace=plan_.old is not None)
        registered = True
        for old_key in plan_.stale:
            if old_key != key:
                backend.delete(old_key)
    except BaseException as exc:
        problems = _undo(backend, plan_, key if written else None, registered)
        if not isinstance(exc, Exception):
            raise
        reason = str(exc) if isinstance(exc, LakeLensError) else f"{type(exc).__name__}: {exc}"
        message = (
            f"Scoring {plan_.source.qualified_name} failed ({reason.rstrip('.')}); everything it wrote was removed."
        )
        if problems:
            message = (
                f"Scoring {plan_.source.qualified_name} failed ({reason.rstrip('.')}), and undoing it failed too "
                f"({'; '.join(problems)}); check {plan_.folder} by hand."
            )
        raise AutoMLError(message) from exc
    tell(1.0, f"Wrote {total:,} rows to {plan_.qualified_name}")
    return PredictResult(stored, key, total, scored, total - scored, time.perf_counter() - started)


def _undo(backend: Backend, plan_: PredictPlan, key: str | None, registered: bool) -> list[str]:
    problems: list[str] = []
    steps: list[tuple[str, Callable[[], Any]]] = []
    if registered:
        if plan_.old is not None:
            old = plan_.old
            steps.append((f"restore {plan_.qualified_name}", lambda: backend.register_table(old, replace=True)))
        else:
            steps.append((f"drop {plan_.qualified_name}", lambda: backend.drop_table(plan_.database, plan_.name)))
    if key is not None:
        steps.append((f"delete {key}", lambda: backend.delete(key)))
    for what, step in steps:
        try:
            step()
        except Exception as exc:  # keep undoing the rest
            problems.append(f"{what}: {exc}")
    return problems


def _table_def(backend: Backend, plan_: PredictPlan, schema: Any, rows: int) -> TableDef:

    comments = {
        PREDICTED: f"Class predicted by {plan_.candidate_label} of AutoML job {plan_.job}; NULL when the review has "
        "no text",
        CONFIDENCE: "Probability of the predicted class",
        **{
            column: f"Probability of class {name}"
            for column, name in zip(plan_.probability_columns, plan_.classes, strict=True)
        },
    }
    source_comments = {c.name: c.comment for c in plan_.source.all_columns}
    columns = [
        Column(f.name, arrow_type_to_glue(f.type), comments.get(f.name, source_comments.get(f.name, "")))
        for f in schema
    ]
    return parquet_table(
        plan_.database,
        plan_.name,
        columns,
        backend.location(plan_.folder),
        description=(
            f"{plan_.source.qualified_name} scored by {plan_.candidate_label} (AutoML job {plan_.job}): {rows:,} rows"
        ),
        parameters={
            "lakelens.source": plan_.source.qualified_name,
            "lakelens.automl_job": plan_.job,
            "lakelens.automl_candidate": plan_.candidate,
            "lakelens.text_column": plan_.text_column,
            "lakelens.label_column": PREDICTED,
        },
    )


def disagreement_sql(table: TableDef, rating_column: str) -> str:
    """Where the model and the stars disagree: reviews per star rating and predicted sentiment, for the rows whose
    prediction is not the sentiment their rating gives (1–2 negative, 3 neutral, 4–5 positive)."""
    from lib import sentiment

    spec = sentiment.Spec(table, sentiment.ColumnMapping(rating=rating_column), "three_class")
    stars = sentiment.sentiment_expr(spec)
    from_stars = exp.Case(
        ifs=[
            exp.If(this=exp.EQ(this=stars.copy(), expression=exp.Literal.number(v)), true=exp.Literal.string(n))
            for v, n in ((-1, "negative"), (0, "neutral"), (1, "positive"))
        ]
    )
    rating = exp.column(rating_column, quoted=True)
    predicted = exp.column(PREDICTED, quoted=True)
    query = (
        exp.select(
            exp.alias_(rating.copy(), rating_column, quoted=True),
            exp.alias_(predicted.copy(), PREDICTED, quoted=True),
            exp.alias_(exp.Count(this=exp.Star()), "reviews", quoted=True),
            exp.alias_(exp.func("round", exp.Avg(this=exp.column(CONFIDENCE, quoted=True)), 3), "mean_confidence"),
        )
        .from_(exp.table_(table.name, db=table.database, quoted=True))
        .where(
            exp.and_(
                exp.Not(this=exp.Is(this=predicted.copy(), expression=exp.Null())),
                exp.Not(this=exp.Is(this=stars.copy(), expression=exp.Null())),
                exp.NEQ(this=predicted.copy(), expression=from_stars),
            )
        )
        .group_by(exp.Literal.number(1), exp.Literal.number(2))
        .order_by(exp.Ordered(this=exp.column("reviews"), desc=True), exp.Literal.number(1), exp.Literal.number(2))
    )
    return query.sql(dialect="athena")
