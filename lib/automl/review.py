"""The review queue: people label the reviews a scored table's model is least sure of, and a new job trains on them.

The human-in-the-loop step of the course's path. A table written by ``automl predict`` (it records its job and
candidate) is the queue's source; its reviews come one at a time, lowest ``confidence`` first, either all of them
(``doubt``) or only those where the model's answer is not the sentiment the star rating gives (``disagree``).

Labels are their own registered Parquet table, ``<scored>_labels`` beside the scored table, with one row per answer:
``review_id, label, labelled_by, labelled_at``, the prediction the analyst saw, and a sortable ``label_id``. Every
answer is a new object with a unique name (``label-<time>-<random>.parquet``), written whole, and nothing is ever
read, changed and written back, so two analysts labelling at once cannot lose each other's answers (append-only, on
a local folder and on S3 alike). A correction is one more answer: a review's label is its latest non-skip answer
(``max_by(label, label_id)``); ``skip`` takes a review out of the skipper's own queue only.

:func:`retrain_config` makes a new job from the scored table's job: the same table, columns and budget, with
``labels_table`` and ``id_column`` set, so the training query (lib/automl/engine.py) takes a review's human label
instead of the one from its stars wherever a person gave one.
"""

from __future__ import annotations

import contextlib
import getpass
import io
import re
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

from lib import sentiment
from lib.automl import jobs
from lib.backends.base import Backend
from lib.catalog import Column, TableDef, parquet_table, validate_identifier
from lib.errors import AutoMLError, CatalogError, NotFound
from lib.sql import quote_identifier, quote_literal
from lib.values import plain

Mode = Literal["doubt", "disagree"]
MODES: dict[str, str] = {
    "doubt": "Least confident first",
    "disagree": "Disagrees with the stars",
}
SKIP = "skip"
LABELS_SUFFIX = "_labels"
BATCH = 20  # reviews fetched at a time; the page shows them one by one
MAX_ID_CHARS = 512
MAX_WHO_CHARS = 120
ID_GUESSES = ("review_id", "id", "reviewid", "_col0")
RATING_GUESSES = ("star_rating", "rating", "reviews_rating", "stars")
_LABEL_COLUMNS = (
    Column("review_id", "string", "The reviewed row's id (its id column as text)"),
    Column("label", "string", "The analyst's answer: a class of the job, or skip"),
    Column("labelled_by", "string", "Who answered"),
    Column("labelled_at", "timestamp", "When, UTC"),
    Column("predicted_sentiment", "string", "What the model predicted, as the analyst saw it"),
    Column("confidence", "double", "The model's probability of that prediction"),
    Column("label_id", "string", "Time and a random suffix: orders the answers, the latest one counts"),
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _table_sql(database: str, name: str) -> str:
    return f"{quote_identifier(database)}.{quote_identifier(name)}"


def key_for(label: str, classes: tuple[str, ...]) -> str:
    """The keyboard key of an answer: 1–4 for negative / neutral / positive / skip (the same keys whatever classes
    a three-class job has); other class names are numbered in order, skip after them."""
    fixed = {"negative": "1", "neutral": "2", "positive": "3", SKIP: "4"}
    if set(classes) <= set(fixed):
        return fixed[label]
    order = [*classes, SKIP]
    return str(order.index(label) + 1)


def who_default() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in this environment (some containers)
        return "analyst"


def clean_who(who: str) -> str:
    value = _CONTROL.sub(" ", str(who or "")).strip()
    if not value:
        raise AutoMLError("Say who is labelling (a name or an email address), so colleagues can tell answers apart.")
    if len(value) > MAX_WHO_CHARS:
        raise AutoMLError(f"A labeller's name has at most {MAX_WHO_CHARS} characters.")
    return value


@dataclass(frozen=True)
class Queue:
    """A scored table's review queue, checked: where the reviews and the labels are, and which columns matter."""

    scored: TableDef
    job: str
    candidate: str
    model_sha256: str | None
    text_column: str
    id_column: str
    rating_column: str | None
    classes: tuple[str, ...]
    labels_database: str
    labels_name: str
    labels: TableDef | None  # None until the first answer registers it

    @property
    def labels_qualified(self) -> str:
        return f"{self.labels_database}.{self.labels_name}"

    @property
    def labels_folder(self) -> str:
        return f"curated/{self.labels_database}/{self.labels_name}/"

    @property
    def answers(self) -> tuple[str, ...]:
        return (*self.classes, SKIP)


def scored_tables(tables: list[TableDef], job: str | None = None) -> list[TableDef]:
    """The tables ``automl predict`` wrote (of one job, when given): the sources a review queue can use."""
    return [
        t
        for t in tables
        if t.parameters.get("lakelens.automl_job")
        and not t.parameters.get("lakelens.labels_for")  # a labels table names its job too
        and (job is None or t.parameters.get("lakelens.automl_job") == job)
    ]


def _split(qualified: str, what: str) -> tuple[str, str]:
    database, _, name = str(qualified or "").strip().rpartition(".")
    if not database or not name:
        raise AutoMLError(f"Name the {what} as database.table.")
    return validate_identifier(database, "database"), validate_identifier(name, "table")


def _column(table: TableDef, name: str) -> Column | None:
    return next((c for c in table.all_columns if c.name == name), None)


def _id_type_ok(column: Column) -> bool:
    kind = column.type.strip().lower()
    return sentiment.is_string(kind) or kind in ("tinyint", "smallint", "int", "integer", "bigint")


def open_queue(
    backend: Backend,
    scored_table: str,
    *,
    id_column: str | None = None,
    rating_column: str | None = None,
    labels_table: str | None = None,
) -> Queue:
    """Check a scored table and its labels table; every refusal here, before anything is read or written."""
    database, name = _split(scored_table, "scored table")
    scored = backend.get_table(database, name)
    job = scored.parameters.get("lakelens.automl_job", "")
    candidate = scored.parameters.get("lakelens.automl_candidate", "")
    if scored.parameters.get("lakelens.labels_for"):
        raise AutoMLError(
            f"Table {scored.qualified_name} holds the labels of {scored.parameters['lakelens.labels_for']}; review "
            "that table instead."
        )
    if not job or _column(scored, "predicted_sentiment") is None or _column(scored, "confidence") is None:
        raise AutoMLError(
            f"Table {scored.qualified_name} holds no predictions; score a table first (`python -m lib automl predict`, "
            "or Score a table on the AutoML page) and review that one."
        )
    if not jobs.job_exists(backend, job):
        raise AutoMLError(f"Table {scored.qualified_name} was scored by job {job}, which is no longer in this lake.")
    config = jobs.read_config(backend, job)
    record: dict[str, Any] = next(
        (c for c in jobs.read_json(backend, job, "candidates.json") if c.get("name") == candidate), {}
    )
    classes = tuple(str(c) for c in jobs.read_json(backend, job, "data.json")["classes"])
    text_column = scored.parameters.get("lakelens.text_column") or config.text_column
    if _column(scored, text_column) is None:
        raise AutoMLError(f"Table {scored.qualified_name} has no text column {text_column}.")
    labels_database, labels_name = (
        _split(labels_table, "labels table") if labels_table else (database, f"{name}{LABELS_SUFFIX}"[:255])
    )
    try:
        labels: TableDef | None = backend.get_table(labels_database, labels_name)
    except NotFound:
        labels = None
    if labels is not None:
        meant = labels.parameters.get("lakelens.labels_for")
        if meant != scored.qualified_name or _column(labels, "label_id") is None:
            raise AutoMLError(
                f"Table {labels_database}.{labels_name} is not the labels table of {scored.qualified_name}; "
                "choose another labels table name."
            )
        stored_id = labels.parameters.get("lakelens.id_column", "")
        if id_column and id_column != stored_id:
            raise AutoMLError(
                f"The labels of {scored.qualified_name} name reviews by {stored_id}; keep that id column, or start "
                "another labels table."
            )
        id_column = stored_id
    if not id_column:
        names = [c.name for c in scored.all_columns]
        id_column = next((g for g in ID_GUESSES if g in names), None) or next(
            (n for n in names if n.endswith("_id") and _id_type_ok(_column(scored, n))),  # type: ignore[arg-type]
            None,
        )
    if not id_column:
        raise AutoMLError(
            f"Table {scored.qualified_name} has no review id column (such as review_id); choose the column that names "
            "each review (--id-col)."
        )
    found = _column(scored, id_column)
    if found is None:
        raise AutoMLError(f"Table {scored.qualified_name} has no column {id_column}.")
    if not _id_type_ok(found):
        raise AutoMLError(
            f"Column {id_column} holds {found.type} values; a review id is text or a whole number. Choose another."
        )
    if rating_column is None and config.label_source == "rating" and _column(scored, config.label_column):
        rating_column = config.label_column
    if rating_column is None:
        rating_column = next((g for g in RATING_GUESSES if _column(scored, g)), None)
    if rating_column is not None:
        rated = _column(scored, rating_column)
        if rated is None:
            raise AutoMLError(f"Table {scored.qualified_name} has no column {rating_column}.")
        if not (sentiment.is_numeric(rated.type) or sentiment.is_string(rated.type)):
            raise AutoMLError(f"Column {rating_column} is not a star rating; choose another.")
    return Queue(
        scored=scored,
        job=job,
        candidate=candidate,
        model_sha256=record.get("model_sha256"),
        text_column=text_column,
        id_column=id_column,
        rating_column=rating_column,
        classes=classes,
        labels_database=labels_database,
        labels_name=labels_name,
        labels=labels,
    )


# -- SQL ------------------------------------------------------------------------------------------------------------
def _id_text(queue: Queue) -> str:
    return f"CAST({quote_identifier(queue.id_column)} AS varchar)"


def stars_sentiment(queue: Queue) -> str:
    """The class the star rating gives (negative / neutral / positive) as SQL, NULL without a rating."""
    if queue.rating_column is None:
        raise AutoMLError(
            f"Table {queue.scored.qualified_name} has no star rating column to disagree with; choose the rating "
            "column, or review the least confident reviews."
        )
    spec = sentiment.Spec(queue.scored, sentiment.ColumnMapping(rating=queue.rating_column), "three_class")
    stars = sentiment.sentiment_expr(spec).sql(dialect="athena")
    return f"(CASE {stars} WHEN -1 THEN 'negative' WHEN 0 THEN 'neutral' WHEN 1 THEN 'positive' END)"


def _in_queue(queue: Queue, mode: Mode) -> list[str]:
    """The rows the queue is made of, answered or not: a prediction and an id (and, for ``disagree``, stars that
    give another sentiment)."""
    parts = [
        f"{quote_identifier('predicted_sentiment')} IS NOT NULL",
        f"{quote_identifier(queue.id_column)} IS NOT NULL",
    ]
    if mode == "disagree":
        stars = stars_sentiment(queue)
        parts.append(f"{stars} IS NOT NULL AND {quote_identifier('predicted_sentiment')} <> {stars}")
    elif mode != "doubt":
        raise AutoMLError(f"The queue shows {' or '.join(MODES)} reviews, not {mode!r}.")
    return parts


def _answered(queue: Queue, who: str | None) -> str:
    """The ids that leave ``who``'s queue: labelled by anyone, or skipped by ``who``."""
    answered = f"{quote_identifier('label')} <> {quote_literal(SKIP)}"
    if who:
        answered = f"({answered} OR {quote_identifier('labelled_by')} = {quote_literal(who)})"
    return f"SELECT {quote_identifier('review_id')} FROM {_table_sql(queue.labels_database, queue.labels_name)} WHERE {answered}"


def _where(queue: Queue, mode: Mode, who: str | None) -> str:
    parts = _in_queue(queue, mode)
    if queue.labels is not None:
        parts.append(f"{_id_text(queue)} NOT IN ({_answered(queue, who)})")
    return " AND ".join(parts)


def queue_sql(queue: Queue, mode: Mode = "doubt", *, who: str | None = None, limit: int = BATCH) -> str:
    """The next reviews to label: not yet labelled by anyone (nor skipped by ``who``), least confident first."""
    rating = f"{quote_identifier(queue.rating_column)} AS {quote_identifier('rating')}, " if queue.rating_column else ""
    stars = f"{stars_sentiment(queue)} AS {quote_identifier('stars_sentiment')}, " if queue.rating_column else ""
    return (
        f"SELECT {_id_text(queue)} AS {quote_identifier('review_id')}, {quote_identifier(queue.text_column)} AS {quote_identifier('text')}, {rating}{stars}"
        f"{quote_identifier('predicted_sentiment')}, {quote_identifier('confidence')} "
        f"FROM {_table_sql(queue.scored.database, queue.scored.name)} "
        f"WHERE {_where(queue, mode, who)} "
        f"ORDER BY {quote_identifier('confidence')} ASC, 1 ASC LIMIT {max(1, int(limit))}"
    )


def totals_sql(queue: Queue, mode: Mode = "doubt") -> str:
    """How many reviews (distinct ids) the queue is made of, answered or not: the one count that scans every id,
    the same until the scored table is replaced (the page keeps it)."""
    return (
        f"SELECT count(DISTINCT {_id_text(queue)}) AS {quote_identifier('reviews')} "
        f"FROM {_table_sql(queue.scored.database, queue.scored.name)} WHERE {' AND '.join(_in_queue(queue, mode))}"
    )


def answered_sql(queue: Queue, mode: Mode = "doubt", *, who: str | None = None) -> str:
    """How many of those reviews have left ``who``'s queue (the answered ids are the small side of the join)."""
    return (
        f"SELECT count(DISTINCT {_id_text(queue)}) AS {quote_identifier('reviews')} "
        f"FROM {_table_sql(queue.scored.database, queue.scored.name)} "
        f"WHERE {' AND '.join(_in_queue(queue, mode))} AND {_id_text(queue)} IN ({_answered(queue, who)})"
    )


def _latest(queue: Queue) -> str:
    return (
        f"SELECT {quote_identifier('review_id')}, max_by({quote_identifier('label')}, {quote_identifier('label_id')}) AS {quote_identifier('label')}, "
        f"max_by({quote_identifier('predicted_sentiment')}, {quote_identifier('label_id')}) AS {quote_identifier('predicted')}, "
        f"count(DISTINCT {quote_identifier('label')}) AS {quote_identifier('answers')} "
        f"FROM {_table_sql(queue.labels_database, queue.labels_name)} WHERE {quote_identifier('label')} <> {quote_literal(SKIP)} "
        f"GROUP BY {quote_identifier('review_id')}"
    )


def progress_sql(queue: Queue) -> str:
    """Per label: reviews whose latest answer it is, how many agree with the model, how many had other answers."""
    return (
        f"WITH latest AS ({_latest(queue)}) SELECT {quote_identifier('label')}, count(*) AS {quote_identifier('reviews')}, "
        f"count_if(coalesce({quote_identifier('label')} = {quote_identifier('predicted')}, false)) AS {quote_identifier('agree')}, "
        f"count_if({quote_identifier('answers')} > 1) AS {quote_identifier('disputed')} FROM latest GROUP BY {quote_identifier('label')} ORDER BY 1"
    )


def labellers_sql(queue: Queue) -> str:
    return (
        f"SELECT {quote_identifier('labelled_by')}, count(*) AS {quote_identifier('answers')}, count_if({quote_identifier('label')} = {quote_literal(SKIP)}) AS "
        f"{quote_identifier('skips')}, max({quote_identifier('labelled_at')}) AS {quote_identifier('last_answer')} "
        f"FROM {_table_sql(queue.labels_database, queue.labels_name)} GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 100"
    )


def recent_sql(queue: Queue, limit: int = 20) -> str:
    """The latest answers (the labels table alone; :func:`texts_sql` adds the start of each review's text)."""
    return (
        f"SELECT {quote_identifier('labelled_at')}, {quote_identifier('labelled_by')}, {quote_identifier('review_id')}, {quote_identifier('label')}, "
        f"{quote_identifier('predicted_sentiment')}, round({quote_identifier('confidence')}, 3) AS {quote_identifier('confidence')} "
        f"FROM {_table_sql(queue.labels_database, queue.labels_name)} "
        f"ORDER BY {quote_identifier('label_id')} DESC LIMIT {max(1, int(limit))}"
    )


def texts_sql(queue: Queue, review_ids: list[str]) -> str:
    """The start of the text of a few reviews, by id (a list of values: the engine skips what cannot match)."""
    values = ", ".join(quote_literal(str(i)) for i in dict.fromkeys(review_ids)) or "NULL"
    return (
        f"SELECT {_id_text(queue)} AS {quote_identifier('review_id')}, max(substr({quote_identifier(queue.text_column)}, 1, 160)) AS {quote_identifier('text')} "
        f"FROM {_table_sql(queue.scored.database, queue.scored.name)} WHERE {_id_text(queue)} IN ({values}) "
        "GROUP BY 1"
    )


def recent(backend: Backend, queue: Queue, limit: int = 20) -> list[dict[str, Any]]:
    """The latest answers with the start of each review's text."""
    if queue.labels is None:
        return []
    frame = _run(backend, recent_sql(queue, limit), queue.scored.database, max_rows=limit)
    rows = [{k: (None if _missing(v) else plain(v)) for k, v in r.items()} for r in frame.to_dict("records")]
    if rows:
        texts = _run(backend, texts_sql(queue, [str(r["review_id"]) for r in rows]), queue.scored.database)
        by_id = dict(zip(texts["review_id"].astype(str), texts["text"], strict=True))
        for row in rows:
            text = by_id.get(str(row["review_id"]))
            row["text"] = None if text is None or _missing(text) else str(text)
    return rows


# -- reading --------------------------------------------------------------------------------------------------------
def _run(backend: Backend, sql: str, database: str, max_rows: int = 1000) -> Any:
    return backend.run_query(sql, max_rows=max_rows, database=database).frame


def next_reviews(
    backend: Backend, queue: Queue, mode: Mode = "doubt", *, who: str | None = None, limit: int = BATCH
) -> list[dict[str, Any]]:
    """The next ``limit`` rows of the queue, one per review id: an exact duplicate row (same id) is one review, and
    its answer takes all its copies out of the queue."""
    frame = _run(backend, queue_sql(queue, mode, who=who, limit=limit), queue.scored.database, max_rows=limit)
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for record in frame.to_dict("records"):
        if str(record["review_id"]) in seen:
            continue
        seen.add(str(record["review_id"]))
        rows.append({k: (None if _missing(v) else plain(v)) for k, v in record.items()})
    return rows


def _missing(value: Any) -> bool:
    try:
        import pandas as pd

        return bool(pd.isna(value)) if not isinstance(value, (list, dict, str)) else False
    except (TypeError, ValueError):
        return False


def totals(backend: Backend, queue: Queue, mode: Mode = "doubt") -> dict[str, int]:
    """Reviews with a prediction, and reviews in this mode's queue (answered or not)."""
    database = queue.scored.database
    counts = {"reviews_with_prediction": int(_run(backend, totals_sql(queue, "doubt"), database)["reviews"].iloc[0])}
    counts["in_queue"] = (
        counts["reviews_with_prediction"]
        if mode == "doubt"
        else int(_run(backend, totals_sql(queue, mode), database)["reviews"].iloc[0])
    )
    return counts


def progress(
    backend: Backend,
    queue: Queue,
    mode: Mode = "doubt",
    *,
    who: str | None = None,
    counted: dict[str, int] | None = None,
) -> dict[str, Any]:
    """What the CLI prints and the page shows: reviews in the queue, labelled so far, agreement with the model,
    answers per label and per analyst, and the jobs retrained with these labels. ``counted`` is :func:`totals`, when
    the caller keeps it."""
    database = queue.scored.database
    counted = counted or totals(backend, queue, mode)
    answered = 0
    if queue.labels is not None:
        answered = int(_run(backend, answered_sql(queue, mode, who=who), database)["reviews"].iloc[0])
    out: dict[str, Any] = {
        "table": queue.scored.qualified_name,
        "labels_table": queue.labels_qualified,
        "job": queue.job,
        "candidate": queue.candidate,
        "id_column": queue.id_column,
        "mode": mode,
        "reviews_with_prediction": counted["reviews_with_prediction"],
        "in_queue": counted["in_queue"],
        "left_in_queue": counted["in_queue"] - answered,
        "labelled": 0,
        "agree_with_model": 0,
        "agreement": None,
        "disputed": 0,
        "by_label": {},
        "labellers": [],
        "retrained": retrained(backend, queue),
    }
    if queue.labels is None:
        return out
    per_label = _run(backend, progress_sql(queue), database)
    for record in per_label.to_dict("records"):
        out["by_label"][str(record["label"])] = int(record["reviews"])
        out["labelled"] += int(record["reviews"])
        out["agree_with_model"] += int(record["agree"])
        out["disputed"] += int(record["disputed"])
    if out["labelled"]:
        out["agreement"] = out["agree_with_model"] / out["labelled"]
    people = _run(backend, labellers_sql(queue), database)
    out["labellers"] = [
        {
            "labelled_by": str(r["labelled_by"]),
            "answers": int(r["answers"]),
            "skips": int(r["skips"]),
            "last_answer": str(r["last_answer"])[:19],
        }
        for r in people.to_dict("records")
    ]
    return out


def retrained(backend: Backend, queue: Queue) -> list[dict[str, Any]]:
    """Jobs that trained with this labels table: their best test accuracy beside their parent job's."""
    out: list[dict[str, Any]] = []
    found = jobs.list_jobs(backend)
    by_name = {j.config.name: j for j in found}
    for job in found:
        if job.config.labels_table != queue.labels_qualified:
            continue
        entry: dict[str, Any] = {
            "job": job.config.name,
            "status": job.status.status,
            "parent_job": job.config.parent_job,
            "human_labels": None,
            "test_accuracy": None,
            "parent_test_accuracy": None,
            "change_pts": None,
        }
        entry["test_accuracy"] = best_accuracy(backend, job.config.name, job.status)
        parent = by_name.get(job.config.parent_job)
        if parent is not None:
            entry["parent_test_accuracy"] = best_accuracy(backend, parent.config.name, parent.status)
        if entry["test_accuracy"] is not None and entry["parent_test_accuracy"] is not None:
            entry["change_pts"] = round((entry["test_accuracy"] - entry["parent_test_accuracy"]) * 100, 2)
        if job.status.status == "Completed":
            with contextlib.suppress(NotFound):
                entry["human_labels"] = jobs.read_json(backend, job.config.name, "data.json").get("human_labels")
        out.append(entry)
    return out


def best_accuracy(backend: Backend, job: str, status: jobs.JobStatus) -> float | None:
    if status.status != "Completed" or not status.best_candidate:
        return None
    try:
        candidates = jobs.read_json(backend, job, "candidates.json")
    except NotFound:
        return None
    best = next((c for c in candidates if c.get("name") == status.best_candidate), None)
    return float(best["test_accuracy"]) if best and best.get("test_accuracy") is not None else None


# -- writing --------------------------------------------------------------------------------------------------------
def _labels_def(backend: Backend, queue: Queue) -> TableDef:
    return parquet_table(
        queue.labels_database,
        queue.labels_name,
        list(_LABEL_COLUMNS),
        backend.location(queue.labels_folder),
        description=(
            f"Human labels for {queue.scored.qualified_name} (AutoML job {queue.job}): one row per answer, "
            "append-only; a review's label is its latest answer that is not skip"
        ),
        parameters={
            "lakelens.labels_for": queue.scored.qualified_name,
            "lakelens.id_column": queue.id_column,
            "lakelens.automl_job": queue.job,
            "lakelens.label_column": "label",
        },
    )


def ensure_labels_table(backend: Backend, queue: Queue) -> Queue:
    """Register the labels table on the first answer. Two analysts doing so at once is fine: the second finds the
    table registered and checks it is this queue's."""
    if queue.labels is not None:
        return queue
    if not any(db.name == queue.labels_database for db in backend.list_databases()):
        with contextlib.suppress(CatalogError):  # created meanwhile
            backend.create_database(queue.labels_database, "Created by LakeLens for review labels")
    try:
        stored = backend.register_table(_labels_def(backend, queue))
    except CatalogError:
        stored = backend.get_table(queue.labels_database, queue.labels_name)
        if (
            stored.parameters.get("lakelens.labels_for") != queue.scored.qualified_name
            or stored.parameters.get("lakelens.id_column") != queue.id_column
        ):
            raise AutoMLError(
                f"Table {queue.labels_qualified} exists and is not the labels table of {queue.scored.qualified_name}; "
                "choose another labels table name."
            ) from None
    return replace(queue, labels=stored)


@dataclass(frozen=True)
class Answer:
    review_id: str
    label: str
    labelled_by: str
    labelled_at: str
    key: str

    def to_dict(self) -> dict[str, str]:
        return {
            "review_id": self.review_id,
            "label": self.label,
            "labelled_by": self.labelled_by,
            "labelled_at": self.labelled_at,
            "key": self.key,
        }


def check_answer(queue: Queue, answer: str) -> str:
    """An answer as stored: one of the job's classes or skip, in lower case."""
    value = str(answer or "").strip().lower()
    if value not in queue.answers:
        raise AutoMLError(f"A label is one of {', '.join(queue.answers)}, not {answer!r}.")
    return value


def label(
    backend: Backend,
    queue: Queue,
    review_id: str,
    answer: str,
    *,
    who: str,
    predicted: str | None = None,
    confidence: float | None = None,
    when: datetime | None = None,
) -> tuple[Queue, Answer]:
    """Append one answer as its own object. Returns the queue (with its labels table registered) and the answer."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    answer = check_answer(queue, answer)
    review = str(review_id if review_id is not None else "").strip()
    if not review or len(review) > MAX_ID_CHARS or _CONTROL.search(review):
        raise AutoMLError(f"{review_id!r} is not a review id of {queue.scored.qualified_name}.")
    person = clean_who(who)
    if predicted is not None and predicted not in queue.classes:
        raise AutoMLError(f"{predicted!r} is not a class of job {queue.job}.")
    if confidence is not None and not (0.0 <= float(confidence) <= 1.0):
        raise AutoMLError("A confidence is a probability, from 0 to 1.")
    stamp = (when or datetime.now(UTC)).astimezone(UTC)
    suffix = uuid.uuid4().hex[:12]
    label_id = f"{stamp.strftime('%Y%m%dT%H%M%S%f')}-{suffix}"
    queue = ensure_labels_table(backend, queue)
    table = pa.table(
        {
            "review_id": pa.array([review], pa.string()),
            "label": pa.array([answer], pa.string()),
            "labelled_by": pa.array([person], pa.string()),
            "labelled_at": pa.array([stamp.replace(tzinfo=None)], pa.timestamp("ms")),
            "predicted_sentiment": pa.array([predicted], pa.string()),
            "confidence": pa.array([None if confidence is None else float(confidence)], pa.float64()),
            "label_id": pa.array([label_id], pa.string()),
        }
    )
    sink = io.BytesIO()
    pq.write_table(table, sink)
    key = f"{queue.labels_folder}label-{label_id}.parquet"
    backend.write(key, sink.getvalue(), content_type="application/vnd.apache.parquet")
    at = stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return queue, Answer(review, answer, person, at, key)


def review_exists(backend: Backend, queue: Queue, review_id: str) -> bool:
    """Is there a row with this id in the scored table (the CLI's check before it writes an answer)?"""
    sql = (
        f"SELECT count(*) AS {quote_identifier('n')} FROM {_table_sql(queue.scored.database, queue.scored.name)} "
        f"WHERE {_id_text(queue)} = {quote_literal(str(review_id))}"
    )
    frame = _run(backend, sql, queue.scored.database)
    return bool(len(frame)) and int(frame["n"].iloc[0]) > 0


# -- retraining -----------------------------------------------------------------------------------------------------
def retrain_config(
    backend: Backend,
    queue: Queue,
    *,
    name: str | None = None,
    budget_s: int | None = None,
    parent: str | None = None,
) -> jobs.JobConfig:
    """A new job like the scored table's job (or ``parent``), training with the human labels taking precedence."""
    base_name = parent or queue.job
    if not jobs.job_exists(backend, base_name):
        raise AutoMLError(f"There is no AutoML job {base_name} in this lake.")
    base = jobs.read_config(backend, base_name)
    table = backend.get_table(base.database, base.table)
    column = _column(table, queue.id_column)
    if column is None:
        raise AutoMLError(
            f"Job {base_name} trained on {base.qualified_table}, which has no column {queue.id_column}, so the "
            f"labels of {queue.scored.qualified_name} cannot be matched to its reviews."
        )
    if queue.labels is None:
        raise AutoMLError(f"No review of {queue.scored.qualified_name} is labelled yet; label some first.")
    return replace(
        base,
        name=name or jobs.default_name(f"{base.table}-relabel"),
        budget_s=budget_s or base.budget_s,
        labels_table=queue.labels_qualified,
        id_column=queue.id_column,
        parent_job=base.name,
        created="",
    )


def prediction_of(backend: Backend, queue: Queue, review_id: str) -> dict[str, Any]:
    """The model's answer for one review, as the labels table records it beside the analyst's."""
    sql = (
        f"SELECT {quote_identifier('predicted_sentiment')}, {quote_identifier('confidence')} "
        f"FROM {_table_sql(queue.scored.database, queue.scored.name)} "
        f"WHERE {_id_text(queue)} = {quote_literal(str(review_id))} LIMIT 1"
    )
    frame = _run(backend, sql, queue.scored.database, max_rows=1)
    if not len(frame):
        return {}
    row = frame.iloc[0]
    return {
        "predicted_sentiment": None if _missing(row["predicted_sentiment"]) else str(row["predicted_sentiment"]),
        "confidence": None if _missing(row["confidence"]) else float(row["confidence"]),
    }
