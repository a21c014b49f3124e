"""The review queue on both backends: a real 10-second job scores the demo reviews, people label its doubts, and a new
job trains with their labels first.

Expected values come from pandas over the lake's own files (the scored Parquet table, the labels' Parquet objects,
the curated reviews read with pyarrow): the queue's order, what is left for whom, the latest answer per review, the
class counts a retrain trains on. Concurrent labelling runs in two processes with their own backends, as two
analysts' servers would.
"""

from __future__ import annotations

import io
import json
import multiprocessing
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import numpy as np
import pandas as pd
import pytest

from lib.automl import engine, explain, jobs, predict, review
from lib.backends.aws import AwsBackend
from lib.backends.local import LocalBackend
from lib.cli import commands as cli
from lib.errors import AutoMLError
from lib.lake import demo
from tests.aws_fixtures import BUCKET, REGION, make_aws_settings
from tests.aws_standin import StandIn
from tests.conftest import (
    AUTOML_GROUP,
    DEMO_ROWS,
    SCORED_TABLE,
    SHARED_JOB,
    copy_lake,
    lake_checksums,
    local_settings,
    read_curated,
)

pytest_plugins = ("tests.aws_standin",)

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group(AUTOML_GROUP)]

JOB = SHARED_JOB
SCORED = SCORED_TABLE


@pytest.fixture(scope="module")
def lake(scored_lake_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the session's demo lake with a completed job and the demo reviews scored by it (tests/conftest.py)."""
    return copy_lake(scored_lake_dir, tmp_path_factory.mktemp("review") / "lake")


@pytest.fixture
def backend(lake: Path, tmp_path: Path) -> Iterator[LocalBackend]:
    root = tmp_path / "lake"
    shutil.copytree(lake, root)
    backend = LocalBackend(local_settings(root))
    yield backend
    backend.close()


def _scored(root: Path) -> pd.DataFrame:
    return pd.read_parquet(root / "curated" / "demo" / "reviews_scored")


def _stars(rating: pd.Series) -> pd.Series:
    """The course's sentiment of a star rating, by hand."""
    r = pd.to_numeric(rating, errors="coerce")
    return pd.Series(
        np.select([r < 3, r == 3, r > 3], ["negative", "neutral", "positive"], default=None), index=rating.index
    ).where(r.notna(), None)


def _expected_queue(frame: pd.DataFrame, done: set[str] = frozenset(), disagree: bool = False) -> list[str]:  # type: ignore[assignment]
    rows = frame[frame["predicted_sentiment"].notna() & ~frame["review_id"].isin(done)]
    if disagree:
        stars = _stars(rows["star_rating"])
        rows = rows[stars.notna() & (rows["predicted_sentiment"] != stars)]
    ordered = rows.sort_values(["confidence", "review_id"], kind="mergesort")["review_id"].tolist()
    return list(dict.fromkeys(ordered))  # an exact duplicate (same review id) is one review


def _labels(root: Path, name: str = "reviews_scored_labels") -> pd.DataFrame:
    folder = root / "curated" / "demo" / name
    files = sorted(p for p in folder.glob("*.parquet"))
    return pd.concat([pd.read_parquet(p) for p in files], ignore_index=True) if files else pd.DataFrame()


def _latest(labels: pd.DataFrame) -> pd.Series:
    """Each review's label: its latest answer that is not skip (by label_id), worked out with pandas."""
    answered = labels[labels["label"] != "skip"].sort_values("label_id")
    return answered.groupby("review_id")["label"].last()


# -- the queue ------------------------------------------------------------------------------------------------------
def test_the_queue_is_the_least_confident_first_and_disagreements_on_request(backend: LocalBackend) -> None:
    queue = review.open_queue(backend, SCORED)
    assert (queue.id_column, queue.rating_column, queue.text_column) == ("review_id", "star_rating", "review_body")
    assert queue.classes == ("negative", "neutral", "positive") and queue.labels is None
    frame = _scored(backend.root)
    doubt = review.next_reviews(backend, queue, "doubt", who="alice", limit=15)
    assert [r["review_id"] for r in doubt] == _expected_queue(frame)[:15]
    assert doubt[0]["confidence"] == pytest.approx(frame["confidence"].min())
    first = frame.set_index("review_id").loc[doubt[0]["review_id"]]
    assert doubt[0]["text"] == first["review_body"] and doubt[0]["rating"] == first["star_rating"]
    disagree = review.next_reviews(backend, queue, "disagree", who="alice", limit=15)
    assert [r["review_id"] for r in disagree] == _expected_queue(frame, disagree=True)[:15]
    assert all(r["predicted_sentiment"] != r["stars_sentiment"] for r in disagree)
    state = review.progress(backend, queue, "disagree", who="alice")
    assert state["reviews_with_prediction"] == frame.loc[frame["predicted_sentiment"].notna(), "review_id"].nunique()
    assert state["left_in_queue"] == len(_expected_queue(frame, disagree=True))
    assert state["labelled"] == 0 and state["agreement"] is None


def test_answers_leave_the_queue_skips_only_for_the_skipper_and_the_latest_answer_counts(
    backend: LocalBackend,
) -> None:
    queue = review.open_queue(backend, SCORED)
    frame = _scored(backend.root)
    order = _expected_queue(frame)
    predicted = frame.set_index("review_id")["predicted_sentiment"]
    a, b, c, d = order[:4]
    t0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    queue, _ = review.label(backend, queue, a, "negative", who="alice", predicted=predicted[a], when=t0)
    queue, _ = review.label(backend, queue, b, "skip", who="alice", when=t0 + timedelta(seconds=1))
    queue, _ = review.label(backend, queue, c, "positive", who="bob", predicted=predicted[c], when=t0)
    # bob corrects alice's answer for a later on: the latest answer is a's label
    queue, _ = review.label(backend, queue, a, "neutral", who="bob", predicted=predicted[a], when=t0 + timedelta(1))
    assert backend.get_table("demo", "reviews_scored_labels").parameters["lakelens.labels_for"] == SCORED
    listed = review.scored_tables(backend.list_tables("demo"), JOB)
    assert [t.qualified_name for t in listed] == [SCORED]  # the labels table is no queue of its own
    with pytest.raises(AutoMLError, match=r"holds the labels of demo\.reviews_scored"):
        review.open_queue(backend, "demo.reviews_scored_labels")

    alice = [r["review_id"] for r in review.next_reviews(backend, queue, who="alice", limit=3)]
    bob = [r["review_id"] for r in review.next_reviews(backend, queue, who="bob", limit=3)]
    assert alice == _expected_queue(frame, {a, b, c})[:3] and alice[0] == d
    assert bob == _expected_queue(frame, {a, c})[:3] and bob[0] == b  # alice's skip stays in bob's queue

    labels = _labels(backend.root)
    assert len(labels) == 4 and labels["label_id"].is_unique
    latest = _latest(labels)
    assert latest.to_dict() == {a: "neutral", c: "positive"}
    state = review.progress(backend, queue, who="alice")
    assert state["labelled"] == len(latest) == 2
    assert state["by_label"] == latest.value_counts().to_dict()
    agree = sum(latest[i] == predicted[i] for i in latest.index)
    assert state["agree_with_model"] == agree and state["agreement"] == pytest.approx(agree / 2)
    assert state["disputed"] == 1  # a has two different answers
    by = {p["labelled_by"]: (p["answers"], p["skips"]) for p in state["labellers"]}
    assert by == {"alice": (2, 1), "bob": (2, 0)}
    assert state["left_in_queue"] == len(_expected_queue(frame, {a, b, c}))
    recent = review.recent(backend, queue)
    # newest first: bob's correction (a day later), alice's skip (a second later), then the two at t0
    assert [(r["review_id"], r["label"]) for r in recent[:2]] == [(a, "neutral"), (b, "skip")]
    assert {(r["review_id"], r["label"]) for r in recent[2:]} == {(a, "negative"), (c, "positive")}
    texts = frame.drop_duplicates("review_id").set_index("review_id")["review_body"]
    assert all(r["text"] == (texts[r["review_id"]] or "")[:160] or r["text"] is None for r in recent)
    assert recent[0]["text"] == str(texts[a])[:160]


def _label_many(args: tuple[str, str, list[str], str]) -> int:
    root, who, ids, answer = args
    backend = LocalBackend(local_settings(Path(root)))
    queue = review.open_queue(backend, SCORED)  # opened before any label exists: both register the table
    for review_id in ids:
        queue, _ = review.label(backend, queue, review_id, answer, who=who)
    backend.close()
    return len(ids)


def test_two_analysts_labelling_at_once_lose_nothing(backend: LocalBackend) -> None:
    order = _expected_queue(_scored(backend.root))
    shared = order[:10]  # both label these, differently
    alice_ids = shared + order[10:40]
    bob_ids = shared + order[40:70]
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        written = pool.map(
            _label_many,
            [(str(backend.root), "alice", alice_ids, "positive"), (str(backend.root), "bob", bob_ids, "negative")],
        )
    assert written == [40, 40]
    labels = _labels(backend.root)
    assert len(labels) == 80 and labels["label_id"].is_unique
    assert labels.groupby("labelled_by")["review_id"].apply(set).to_dict() == {
        "alice": set(alice_ids),
        "bob": set(bob_ids),
    }
    state = review.progress(backend, review.open_queue(backend, SCORED), who="carol")
    latest = _latest(labels)
    assert state["labelled"] == len(latest) == 70
    assert state["by_label"] == latest.value_counts().to_dict()
    assert state["disputed"] == 10


def test_bad_answers_are_refused_and_nothing_is_written(backend: LocalBackend) -> None:
    queue = review.open_queue(backend, SCORED)
    before = lake_checksums(backend.root)
    review_id = _expected_queue(_scored(backend.root))[0]
    for bad in (
        dict(review_id=review_id, answer="great", who="alice"),
        dict(review_id=review_id, answer="positive", who="  "),
        dict(review_id="", answer="positive", who="alice"),
        dict(review_id="x\x00y", answer="positive", who="alice"),
        dict(review_id="x" * 600, answer="positive", who="alice"),
        dict(review_id=review_id, answer="positive", who="a" * 200),
    ):
        with pytest.raises(AutoMLError):
            review.label(backend, queue, bad["review_id"], bad["answer"], who=bad["who"])
    assert lake_checksums(backend.root) == before
    with pytest.raises(AutoMLError, match="holds no predictions"):
        review.open_queue(backend, "demo.reviews")
    with pytest.raises(AutoMLError, match="no column nope"):
        review.open_queue(backend, SCORED, id_column="nope")
    assert lake_checksums(backend.root) == before


def test_a_table_that_is_not_the_queues_labels_is_refused(backend: LocalBackend) -> None:
    with pytest.raises(AutoMLError, match="is not the labels table"):
        review.open_queue(backend, SCORED, labels_table="demo.reviews")


def test_the_words_shown_are_the_ones_whose_removal_lowers_the_prediction(backend: LocalBackend) -> None:
    best = jobs.read_status(backend, JOB).best_candidate
    record = next(c for c in jobs.read_json(backend, JOB, "candidates.json") if c["name"] == best)
    model = jobs.load_model(backend, JOB, best, record["model_sha256"])
    text = "Terrible quality, it broke after one day. The box was blue."
    cls = model.classes[int(np.argmax(model.predict_proba([text])[0]))]
    words = explain.token_influence(model, text, cls, top=3)
    assert words, "a review with clear words has words that carry its answer"
    index = list(model.classes).index(cls)
    base = model.predict_proba([text])[0][index]
    for entry in words:
        import re

        without = re.sub(rf"\b{entry['token']}\b", " ", text, flags=re.IGNORECASE)
        assert base - model.predict_proba([without])[0][index] == pytest.approx(entry["weight"], abs=1e-4)
    assert [w["weight"] for w in words] == sorted((w["weight"] for w in words), reverse=True)
    assert explain.token_influence(model, "   ", cls) == []


# -- retraining with the labels -------------------------------------------------------------------------------------
def test_a_retrain_takes_peoples_labels_first(backend: LocalBackend) -> None:
    queue = review.open_queue(backend, SCORED)
    frame = _scored(backend.root)
    stars = _stars(frame["star_rating"])
    has_text = frame["review_body"].fillna("").str.strip() != ""
    # people call 25 positive-star reviews negative, and one of them neutral afterwards; 5 answers are skips
    flipped = frame.loc[has_text & (stars == "positive"), "review_id"].head(25).tolist()
    skipped = frame.loc[has_text & (stars == "negative"), "review_id"].head(5).tolist()
    for review_id in flipped:
        queue, _ = review.label(backend, queue, review_id, "negative", who="alice")
    queue, _ = review.label(backend, queue, flipped[0], "neutral", who="bob")
    for review_id in skipped:
        queue, _ = review.label(backend, queue, review_id, "skip", who="alice")

    config = review.retrain_config(backend, queue, name="relabelled", budget_s=10)
    assert (config.labels_table, config.id_column, config.parent_job) == (
        "demo.reviews_scored_labels",
        "review_id",
        JOB,
    )
    assert (config.table, config.label_column, config.label_source) == ("reviews", "star_rating", "rating")

    # what the retrain trains on, by hand: the curated reviews with the latest answers in place of the stars
    source = read_curated(backend.root, ["review_id", "review_body", "star_rating"])
    expected = _stars(source["star_rating"]).copy()
    latest = _latest(_labels(backend.root))
    override = source["review_id"].map(latest)
    expected = override.where(override.notna(), expected)
    with_text = source["review_body"].fillna("").str.strip() != ""
    counts = expected[with_text].value_counts().to_dict()
    profile = engine.profile(backend, config)
    assert {c.name: c.rows for c in profile.classes} == counts
    assert profile.human_labels == int((override.notna() & with_text).sum()) == 25
    base = _stars(source["star_rating"])
    assert profile.changed_labels == int((override.notna() & with_text & (override != base)).sum()) == 25

    jobs.start_job(backend, config)
    status = jobs.wait(backend, "relabelled", timeout_s=240)
    assert status.status == "Completed", status.failure_reason
    data_record = jobs.read_json(backend, "relabelled", "data.json")
    assert data_record["human_labels"] == 25 and data_record["labels_table"] == "demo.reviews_scored_labels"
    assert data_record["profile"]["classes"] == [
        {"value": v, "name": n, "rows": counts[n]} for v, n in ((-1, "negative"), (0, "neutral"), (1, "positive"))
    ]
    (entry,) = review.retrained(backend, queue)
    best = {
        job: next(
            c["test_accuracy"]
            for c in jobs.read_json(backend, job, "candidates.json")
            if c["name"] == jobs.read_status(backend, job).best_candidate
        )
        for job in (JOB, "relabelled")
    }
    assert entry["test_accuracy"] == best["relabelled"] and entry["parent_test_accuracy"] == best[JOB]
    assert entry["change_pts"] == pytest.approx(round((best["relabelled"] - best[JOB]) * 100, 2))
    assert review.progress(backend, queue)["retrained"][0]["job"] == "relabelled"


def test_retraining_without_labels_or_without_the_id_column_is_refused(backend: LocalBackend, tmp_path: Path) -> None:
    from lib.lake import ingest

    queue = review.open_queue(backend, SCORED)
    with pytest.raises(AutoMLError, match=r"No review of demo\.reviews_scored is labelled yet"):
        review.retrain_config(backend, queue)
    csv = tmp_path / "no_ids.csv"
    csv.write_text("text,stars\n" + "".join(f"review number {i},{1 + i % 5}\n" for i in range(60)), "utf-8")
    ingest.ingest_file(backend, csv, database="demo", table="no_ids")
    other = jobs.JobConfig(
        name="no-ids", database="demo", table="no_ids", text_column="text", label_column="stars", label_source="rating"
    )
    jobs.create_job(backend, other)
    queue, _ = review.label(backend, queue, _expected_queue(_scored(backend.root))[0], "positive", who="alice")
    with pytest.raises(AutoMLError, match=r"demo\.no_ids, which has no column review_id"):
        review.retrain_config(backend, queue, parent="no-ids")


# -- the CLI ----------------------------------------------------------------------------------------------------------
def test_cli_queue_label_labels(backend: LocalBackend, capsys: pytest.CaptureFixture[str]) -> None:
    where = ["--table", SCORED, "--root", str(backend.root)]
    assert cli.main(["automl", "queue", *where, "--limit", "3", "--who", "dana"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["review_id"] for r in rows] == _expected_queue(_scored(backend.root))[:3]
    assert (
        cli.main(["automl", "label", *where, "--id", rows[0]["review_id"], "--label", "positive", "--who", "dana"]) == 0
    )
    answer = json.loads(capsys.readouterr().out)
    assert answer["label"] == "positive" and answer["labelled_by"] == "dana"
    stored = _labels(backend.root)
    assert stored[["review_id", "label", "labelled_by"]].values.tolist() == [[rows[0]["review_id"], "positive", "dana"]]
    assert stored["predicted_sentiment"].tolist() == [rows[0]["predicted_sentiment"]]
    assert cli.main(["automl", "labels", *where, "--who", "dana"]) == 0
    state = json.loads(capsys.readouterr().out)
    assert state["labelled"] == 1 and state["by_label"] == {"positive": 1}
    assert state["agreement"] == (1.0 if rows[0]["predicted_sentiment"] == "positive" else 0.0)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["label", "--id", "x' OR '1'='1", "--label", "positive"], "has no review with review_id"),
        (["label", "--id", "R1", "--label", "great"], "not 'great'"),
        (["queue", "--who", " "], "Say who is labelling"),
        (["retrain"], "No review of demo.reviews_scored is labelled yet"),
    ],
)
def test_cli_refuses_bad_input_with_one_line(
    backend: LocalBackend, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    before = lake_checksums(backend.root)
    verb, *rest = argv
    code = cli.main(["automl", verb, "--table", SCORED, "--root", str(backend.root), *rest])
    err = capsys.readouterr().err.strip()
    assert code == 1 and "\n" not in err and err.startswith("error: ") and message in err
    assert lake_checksums(backend.root) == before


def test_cli_refuses_a_table_without_predictions(backend: LocalBackend, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["automl", "queue", "--table", "demo.reviews", "--root", str(backend.root)])
    err = capsys.readouterr().err.strip()
    assert code == 1 and "holds no predictions" in err and "\n" not in err


# -- the aws backend: the queue through Athena, the labels as S3 objects and a Glue table (the AWS stand-in) ---------
@pytest.fixture
def aws(aws_standin: StandIn, lake: Path) -> Iterator[AwsBackend]:
    """The demo lake on the stand-in (same seed and rows as the local one), the job's records copied under
    automl/, and the reviews scored on aws."""
    aws_standin.reset()
    boto3.client("s3", region_name=REGION, endpoint_url=aws_standin.url).create_bucket(Bucket=BUCKET)
    backend = AwsBackend(make_aws_settings(aws_standin.url))
    demo.build(backend, DEMO_ROWS)
    for path in sorted((lake / "automl" / JOB).rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            backend.write(str(path.relative_to(lake)), path.read_bytes())
    predict.run(backend, predict.plan(backend, JOB, "demo.reviews", SCORED))
    yield backend
    backend.close()


def _s3_labels(backend: AwsBackend) -> pd.DataFrame:
    s3 = boto3.client("s3", region_name=REGION, endpoint_url=backend.settings.endpoint_url)
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="lake/curated/demo/reviews_scored_labels/").get("Contents", [])
    frames = [pd.read_parquet(io.BytesIO(s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read())) for o in listed]
    return pd.concat(frames, ignore_index=True)


def test_aws_queue_labels_and_retrain_query(aws: AwsBackend, lake: Path) -> None:
    frame = _scored(lake)  # the local scoring of the same rows with the same model
    queue = review.open_queue(aws, SCORED)
    doubt = review.next_reviews(aws, queue, who="alice", limit=5)
    assert [r["review_id"] for r in doubt] == _expected_queue(frame)[:5]
    disagree = review.next_reviews(aws, queue, "disagree", who="alice", limit=5)
    assert [r["review_id"] for r in disagree] == _expected_queue(frame, disagree=True)[:5]
    ids = [r["review_id"] for r in doubt]
    for review_id, answer in zip(ids, ["negative", "neutral", "positive", "skip", "positive"], strict=True):
        queue, _ = review.label(aws, queue, review_id, answer, who="alice")
    queue, _ = review.label(aws, queue, ids[4], "negative", who="bob")
    glue = boto3.client("glue", region_name=REGION, endpoint_url=aws.settings.endpoint_url)
    table = glue.get_table(DatabaseName="demo", Name="reviews_scored_labels")["Table"]
    assert table["StorageDescriptor"]["Location"] == f"s3://{BUCKET}/lake/curated/demo/reviews_scored_labels/"
    labels = _s3_labels(aws)
    assert len(labels) == 6 and labels["label_id"].is_unique
    latest = _latest(labels)
    assert latest.to_dict() == {ids[0]: "negative", ids[1]: "neutral", ids[2]: "positive", ids[4]: "negative"}
    state = review.progress(aws, queue, who="alice")
    assert state["labelled"] == 4 and state["by_label"] == latest.value_counts().to_dict() and state["disputed"] == 1
    left = [r["review_id"] for r in review.next_reviews(aws, queue, who="alice", limit=3)]
    assert left == _expected_queue(frame, set(ids))[:3]

    config = review.retrain_config(aws, queue, name="aws-relabel", budget_s=10)
    source = read_curated(lake, ["review_id", "review_body", "star_rating"])
    override = source["review_id"].map(latest)
    expected = override.where(override.notna(), _stars(source["star_rating"]))
    with_text = source["review_body"].fillna("").str.strip() != ""
    profile = engine.profile(aws, config)  # the training query, through Athena
    counts = expected[with_text].value_counts().to_dict()
    assert {c.name: c.rows for c in profile.classes} == counts
    assert profile.human_labels == int((override.notna() & with_text).sum())

    # the retrain itself: a training process reading through Athena, its records in S3
    jobs.start_job(aws, config)
    status = jobs.wait(aws, "aws-relabel", timeout_s=240)
    assert status.status == "Completed", status.failure_reason
    record = jobs.read_json(aws, "aws-relabel", "data.json")
    assert record["human_labels"] == profile.human_labels and record["labels_table"] == "demo.reviews_scored_labels"
    assert {c["name"]: c["rows"] for c in record["profile"]["classes"]} == counts
    (entry,) = review.retrained(aws, queue)
    assert entry["job"] == "aws-relabel" and entry["parent_job"] == JOB and entry["change_pts"] is not None


def test_aws_the_page_labels_the_least_confident_review_into_s3(
    aws: AwsBackend, lake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    root = Path(__file__).resolve().parents[2]
    monkeypatch.chdir(root)
    monkeypatch.delenv("LAKELENS_LAKE_ROOT", raising=False)
    for name, value in {
        "LAKELENS_BACKEND": "aws",
        "LAKELENS_S3_LAKE": f"s3://{BUCKET}/lake/",
        "LAKELENS_ENDPOINT_URL": aws.settings.endpoint_url or "",
        "LAKELENS_AWS_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    st.cache_data.clear()
    st.cache_resource.clear()
    order = _expected_queue(_scored(lake))
    at = AppTest.from_file(str(root / "app.py"), default_timeout=90).run()
    at.switch_page("pages/automl.py")
    at.query_params["job"] = JOB
    at.query_params["review"] = SCORED
    at.run()
    assert not at.exception, at.exception
    assert f"Review **{order[0]}**" in " ".join(m.value for m in at.markdown)
    at.text_input(key="review.who").set_value("fay").run()
    next(b for b in at.button if b.label == "Positive").click().run()
    assert not at.exception, at.exception
    labels = _s3_labels(aws)
    assert labels[["review_id", "label", "labelled_by"]].values.tolist() == [[order[0], "positive", "fay"]]
    assert f"Review **{order[1]}**" in " ".join(m.value for m in at.markdown)
    assert {m.label: m.value for m in at.metric}["Labelled"] == "1"


def test_a_name_with_quotes_is_a_value_not_sql(backend: LocalBackend) -> None:
    queue = review.open_queue(backend, SCORED)
    order = _expected_queue(_scored(backend.root))
    hostile = "o'brien' OR '1'='1"
    queue, answer = review.label(backend, queue, order[0], "skip", who=hostile)
    assert answer.labelled_by == hostile and _labels(backend.root)["labelled_by"].tolist() == [hostile]
    mine = [r["review_id"] for r in review.next_reviews(backend, queue, who=hostile, limit=2)]
    theirs = [r["review_id"] for r in review.next_reviews(backend, queue, who="o'brien", limit=2)]
    assert mine == order[1:3] and theirs == order[:2]  # the skip is the hostile name's own, nobody else's
