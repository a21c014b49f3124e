"""The one write path: every change LakeLens makes to a lake is announced to the backend's write hooks first.

A hook records the events; the lake folder is listed before and after each action (path, size, modification
time, read off the disk, not through LakeLens), and every file that appeared, changed or went away must be
covered by an event naming it: an object key, a folder replaced, a table registered or dropped, a database, a
table's statistics. A write that went around the backend's write methods shows up as an uncovered file.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from lib.backends.base import WriteEvent
from lib.backends.local import LocalBackend
from lib.errors import LakeLensError

pytest_plugins = ("tests.aws_fixtures",)

META = "_lakelens/"


def _files(root: Path) -> dict[str, tuple[int, int]]:
    return {
        path.relative_to(root).as_posix(): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in root.rglob("*")
        if path.is_file()
    }


def _changed(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> set[str]:
    return {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}


def _covers(event: WriteEvent, path: str) -> bool:
    catalog = f"{META}catalog/"
    if event.action in ("write", "delete"):
        digest = hashlib.sha256(event.target.encode()).hexdigest()
        return path == event.target or path == f"{META}object-metadata/{digest}.json"
    if event.action == "replace_folder":
        return path.startswith(event.target)
    if event.action in ("register_table", "drop_table"):
        database, _, table = event.target.partition(".")
        return path.startswith(f"{catalog}{database}/{table}.")
    if event.action == "create_database":
        return path == f"{catalog}{event.target}/_database.json"
    if event.action == "statistics":
        database, _, table = event.target.partition(".")
        return path == f"{catalog}{database}/{table}.statistics.json"
    return False


def _watched(backend: LocalBackend, action: Callable[[], object]) -> tuple[list[WriteEvent], set[str]]:
    """Run ``action``; return the events the hooks heard and the lake files no event covers."""
    events: list[WriteEvent] = []
    backend.write_hooks.append(events.append)
    try:
        before = _files(backend.root)
        action()
        after = _files(backend.root)
    finally:
        backend.write_hooks.remove(events.append)
    uncovered = {path for path in _changed(before, after) if not any(_covers(e, path) for e in events)}
    return events, uncovered


def _reviews_csv(folder: Path) -> Path:
    """A Kaggle-clothing-shaped CSV (BOM, CRLF, a quoted line break) written by the test."""
    path = folder / "Womens Clothing E-Commerce Reviews.csv"
    rows = [
        ",Clothing ID,Age,Title,Review Text,Rating,Recommended IND,Positive Feedback Count,Division Name,"
        "Department Name,Class Name",
        '0,767,33,,"Absolutely wonderful - silky and sexy and comfortable",4,1,0,Initmates,Intimate,Intimates',
        '1,1080,34,,"Love this dress!  it\'s sooo pretty.\r\nI happened to find it",5,1,4,General,Dresses,Dresses',
        '2,1077,60,Some major design flaws,"I had such high hopes for this dress",3,0,0,General,Dresses,Dresses',
        '3,1049,50,My favorite buy!,"I love, love, love this jumpsuit.",5,1,0,General Petite,Bottoms,Pants',
    ]
    path.write_bytes(("\ufeff" + "\r\n".join(rows) + "\r\n").encode("utf-8"))
    return path


def test_every_action_that_changes_the_lake_is_heard_by_the_write_hooks(fresh_backend: LocalBackend, tmp_path: Path):
    from lib import sentiment
    from lib.lake import curate, demo, ingest
    from lib.reports.store import ReportStore
    from lib.sql.history import SavedQueries

    backend = fresh_backend
    csv_path = _reviews_csv(tmp_path)

    def run(sql: str):  # the runner the pages and the CLI hand the sentiment flows
        return backend.run_query(sql, max_rows=sentiment.MAX_GROUPS).frame

    def balance() -> None:
        table = backend.get_table("demo", "reviews")
        spec = sentiment.Spec(table, sentiment.detect_columns(table), "three_class")
        prepared = sentiment.prepare(spec, run)
        sentiment.write_balanced(backend, prepared.spec, "demo", "reviews_balanced", replace_existing=False)

    actions: dict[str, Callable[[], object]] = {
        "ingest a CSV with a curated copy": lambda: ingest.ingest_file(
            backend, csv_path, database="shop", table="clothing", fmt="auto", curated=True
        ),
        "register a prefix": lambda: ingest.register_prefix(
            backend, "curated/reviews/", database="copies", table="reviews", fmt="auto"
        ),
        "curate a raw table": lambda: curate.curate(
            backend, curate.plan_curate(backend, "demo.reviews_raw", "demo.reviews_curated")
        ),
        "balance by sentiment": balance,
        "save a report": lambda: ReportStore(backend).create("---\ntitle: Hooks\n---\n# Hello\n", slug="hooks"),
        "save a query": lambda: SavedQueries(backend).save("Stars", "SELECT star_rating FROM demo.reviews"),
        "save column statistics": lambda: backend.save_column_statistics("demo", "reviews", {"columns": []}),
        "drop a table": lambda: backend.drop_table("copies", "reviews"),
        "rebuild the demo lake": lambda: demo.build(backend, 500),
    }
    for what, action in actions.items():
        events, uncovered = _watched(backend, action)
        assert events, f"{what}: changed the lake without a write event"
        assert not uncovered, f"{what}: wrote {sorted(uncovered)[:5]} around the backend's write methods"


def test_a_hook_that_refuses_stops_the_change_before_anything_is_written(fresh_backend: LocalBackend):
    before = _files(fresh_backend.root)

    def refuse(event: WriteEvent) -> None:
        raise LakeLensError(f"{event.action} of {event.target} is not allowed here.")

    fresh_backend.write_hooks.append(refuse)
    with pytest.raises(LakeLensError, match=re.escape("write of notes/a.txt is not allowed")):
        fresh_backend.write("notes/a.txt", b"hello")
    with pytest.raises(LakeLensError, match=re.escape("drop_table of demo.reviews is not allowed")):
        fresh_backend.drop_table("demo", "reviews")
    with pytest.raises(LakeLensError, match=re.escape("register_table of demo.reviews")):
        fresh_backend.register_table(fresh_backend.get_table("demo", "reviews"), replace=True)
    assert _files(fresh_backend.root) == before


def _s3_and_glue(backend: object) -> dict[str, str]:
    """Every S3 object of the lake (lake key -> ETag) and every Glue table (db.table -> update time), read with
    boto3 directly, not through LakeLens."""
    import boto3

    from tests.aws_fixtures import BUCKET, REGION

    url = backend.settings.endpoint_url  # type: ignore[attr-defined]
    s3 = boto3.client("s3", region_name=REGION, endpoint_url=url)
    glue = boto3.client("glue", region_name=REGION, endpoint_url=url)
    state: dict[str, str] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix="lake/"):
        for obj in page.get("Contents", []):
            state["s3:" + obj["Key"][len("lake/") :]] = obj["ETag"]
    for database in glue.get_databases()["DatabaseList"]:
        state["glue-db:" + database["Name"]] = ""
        for table in glue.get_tables(DatabaseName=database["Name"])["TableList"]:
            state[f"glue:{database['Name']}.{table['Name']}"] = str(table.get("UpdateTime"))
    return state


def _covers_aws(event: WriteEvent, name: str) -> bool:
    kind, _, target = name.partition(":")
    if kind == "s3":
        if event.action in ("write", "delete"):
            return target == event.target
        return event.action == "replace_folder" and target.startswith(event.target)
    if kind == "glue":
        return event.action in ("register_table", "drop_table") and event.target == target
    return event.action == "create_database" and event.target == target


def test_on_aws_every_object_and_table_written_is_heard_by_the_write_hooks(aws_backend: object, tmp_path: Path):
    from lib.lake import demo, ingest

    backend = aws_backend
    events: list[WriteEvent] = []
    backend.write_hooks.append(events.append)  # type: ignore[attr-defined]
    csv_path = _reviews_csv(tmp_path)
    for what, action in {
        "build the demo lake": lambda: demo.build(backend, 300),  # type: ignore[arg-type]
        "rebuild it smaller": lambda: demo.build(backend, 200),  # type: ignore[arg-type]
        "ingest a CSV": lambda: ingest.ingest_file(
            backend,  # type: ignore[arg-type]
            csv_path,
            database="shop",
            table="clothing",
            fmt="auto",
            curated=True,
        ),
        "drop a table": lambda: backend.drop_table("shop", "clothing"),  # type: ignore[attr-defined]
    }.items():
        events.clear()
        before = _s3_and_glue(backend)
        action()
        after = _s3_and_glue(backend)
        changed = {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}
        assert changed, f"{what}: changed nothing"
        uncovered = {name for name in changed if not any(_covers_aws(e, name) for e in events)}
        assert not uncovered, f"{what}: {sorted(uncovered)[:5]} changed without a write event"


@pytest.mark.slow
@pytest.mark.xdist_group("automl")  # the worker that trains the session's one job (tests/conftest.py)
def test_predictions_labels_job_records_and_history_are_heard_too(scored_lake_dir: Path, tmp_path: Path):
    from lib.automl import jobs, predict, review
    from lib.sql.history import History, HistoryEntry
    from tests.conftest import SCORED_TABLE, SHARED_JOB, copy_lake, local_settings

    backend = LocalBackend(local_settings(copy_lake(scored_lake_dir, tmp_path / "lake")))
    try:
        first = backend.run_query(f"SELECT review_id FROM {SCORED_TABLE} ORDER BY review_id LIMIT 1").frame
        review_id = str(first["review_id"].iloc[0])
        actions: dict[str, Callable[[], object]] = {
            "score a table": lambda: predict.run(
                backend, predict.plan(backend, SHARED_JOB, "demo.reviews", "demo.reviews_scored_again")
            ),
            "label a review": lambda: review.label(
                backend, review.open_queue(backend, SCORED_TABLE), review_id, "negative", who="write-path-test"
            ),
            "rewrite a job's status, as its runner does": lambda: jobs.write_status(
                backend, jobs.read_status(backend, SHARED_JOB)
            ),
            "record a query in the history": lambda: History(backend).record(
                HistoryEntry(sql="SELECT 1", status="succeeded")
            ),
        }
        for what, action in actions.items():
            events, uncovered = _watched(backend, action)
            assert events, f"{what}: changed the lake without a write event"
            assert not uncovered, f"{what}: wrote {sorted(uncovered)[:5]} around the backend's write methods"
    finally:
        backend.close()
