"""The AutoML page through AppTest: a finished local job (leaderboard, insights, Try it, URL state), the start
form (refusal and a real start with Stop), empty states, and a stubbed Autopilot job on the aws backend."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from botocore.response import StreamingBody
from botocore.stub import Stubber
from streamlit.testing.v1 import AppTest

from lib.automl import autopilot, jobs
from lib.backends.local import LocalBackend
from tests.conftest import AUTOML_GROUP, SHARED_JOB, TrainedLake, copy_lake, local_settings, read_curated
from tests.lib.test_autopilot import ANALYSIS, MODEL_QUALITY, WHEN, _candidate, _offline_client

pytest_plugins = ("tests.aws_fixtures",)

ROOT = Path(__file__).resolve().parents[2]
JOB = SHARED_JOB

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group(AUTOML_GROUP)]


def _fresh_caches() -> None:
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture(scope="module")
def trained_lake(trained_lake_dir: TrainedLake, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This module's copy of the session's lake with a finished job (tests/conftest.py)."""
    return copy_lake(trained_lake_dir.root, tmp_path_factory.mktemp("automl-page") / "lake")


@pytest.fixture
def local_app(trained_lake: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("LAKELENS_LAKE_ROOT", str(trained_lake))
    monkeypatch.setenv("LAKELENS_BACKEND", "local")
    _fresh_caches()
    yield trained_lake


def _open(**params: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("pages/automl.py")
    for name, value in params.items():
        at.query_params[name] = value
    return at.run()


def _records(lake: Path, record: str) -> Any:
    return json.loads((lake / "automl" / JOB / record).read_text())


def _plotly(at: AppTest) -> list[dict[str, Any]]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def test_finished_job_shows_leaderboard_best_first_and_insights(local_app: Path) -> None:
    at = _open(job=JOB)
    assert not at.exception
    candidates = _records(local_app, "candidates.json")
    status = _records(local_app, "status.json")
    board = next(df.value for df in at.dataframe if "candidate" in getattr(df.value, "columns", []))
    board = board.data if hasattr(board, "data") else board  # a Styler
    expected = sorted(candidates, key=lambda c: -c["validation_objective"])
    assert list(board["candidate"]) == [c["label"] for c in expected]
    assert board.iloc[0][""] == "★ best" and (board[""] == "★ best").sum() == 1
    measured = (board["status"] == "Completed").to_numpy()
    assert list(board["test accuracy"][measured]) == pytest.approx(
        [c["test_accuracy"] for c in expected if c["status"] == "Completed"]
    )
    # a candidate the budget left no time to refit says so in the leaderboard
    assert list(board["reason"][~measured]) == [c["failure_reason"] for c in expected if c["status"] != "Completed"]
    best = next(c for c in candidates if c["name"] == status["best_candidate"])
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Test accuracy"] == f"{best['test_accuracy']:.1%}"
    text = " ".join(md.value for md in at.markdown)
    assert f"Best candidate: **{best['label']}**" in text
    assert at.query_params["candidate"] == best["name"]
    # The best candidate's confusion matrix is drawn from its record.
    report = _records(local_app, f"candidates/{best['name']}/metrics.json")
    heatmaps = [fig for fig in _plotly(at) if fig["data"] and fig["data"][0]["type"] == "heatmap"]
    assert heatmaps and heatmaps[0]["data"][0]["text"][0][0].startswith(f"{report['confusion_matrix'][0][0]:,}")


def test_any_candidate_from_the_url_gets_its_own_insights(local_app: Path) -> None:
    candidates = _records(local_app, "candidates.json")
    other = [c for c in candidates if c["status"] == "Completed"][-1]
    at = _open(job=JOB, candidate=other["name"])
    assert not at.exception
    assert f"#### {other['label']}" in [md.value for md in at.markdown]
    report = _records(local_app, f"candidates/{other['name']}/metrics.json")
    table = next(df.value for df in at.dataframe if "precision" in getattr(df.value, "columns", []))
    assert list(table["class"])[:-1] == report["classes"]
    assert list(table["f1"])[:-1] == pytest.approx([row["f1"] for row in report["per_class"]])
    titles = [fig["layout"]["title"]["text"] for fig in _plotly(at)]
    assert any(t.startswith(f"ROC curves of {other['label']}") for t in titles)
    assert any(t.startswith(f"Words that push {other['label']}") for t in titles)


def test_try_it_answers_a_typed_review(local_app: Path) -> None:
    at = _open(job=JOB)
    assert not any(t.key == "automl.try" for t in at.text_area)  # the model loads only when its tab is opened
    at.session_state[f"automl.tabs.{JOB}"] = "Try it"
    at.run()
    at.text_area(key="automl.try").set_value("Complete waste of money. It broke the first time I used it.").run()
    assert not at.exception
    answer = next(md.value for md in at.markdown if " answers **" in md.value)
    assert "answers **negative**" in answer
    at.text_area(key="automl.try").set_value("Absolutely love it. Exceeded my expectations.").run()
    assert "answers **positive**" in next(md.value for md in at.markdown if " answers **" in md.value)


def test_unknown_job_in_the_url_is_a_warning(local_app: Path) -> None:
    at = _open(job="no-such-job")
    assert not at.exception
    assert any("no job no-such-job" in w.value for w in at.warning)


def test_no_jobs_is_an_empty_state(demo_lake_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("LAKELENS_LAKE_ROOT", str(demo_lake_dir))
    _fresh_caches()
    at = _open()
    assert not at.exception
    assert any("No local jobs yet" in c.value for c in at.caption)


def test_start_form_refuses_a_label_that_is_not_one_and_starts_a_real_job(
    fresh_backend: LocalBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("LAKELENS_LAKE_ROOT", str(fresh_backend.root))
    _fresh_caches()
    at = _open()
    at.toggle(key="automl.form.open").set_value(True).run()
    form = at.get("form")[0]
    assert form is not None
    # review_headline has 30 distinct values: not a label. Refused before anything starts.
    at.radio[0].set_value("column")
    label_box = next(sb for sb in at.selectbox if sb.label == "Label column")
    label_box.set_value("review_headline")
    submit = next(b for b in at.button if b.label == "Start the job")
    submit.click().run()
    assert not at.exception
    assert any("classes" in e.value and "review_headline" in e.value for e in at.error), [e.value for e in at.error]
    assert not (fresh_backend.root / "automl").exists()
    # A sentiment from the rating, a 10-second budget: the job starts in its own process and the URL names it.
    at.radio[0].set_value("rating")
    next(ni for ni in at.number_input if ni.label == "Time budget (seconds)").set_value(10)
    name_box = next(ti for ti in at.text_input if ti.label == "Job name")
    name_box.set_value("from-the-form")
    next(b for b in at.button if b.label == "Start the job").click().run()
    assert not at.exception
    assert at.query_params["job"] == "from-the-form"
    status = jobs.read_status(fresh_backend, "from-the-form")
    assert status.status in ("InProgress", "Completed")
    # The job needs seconds to load its libraries, so it is still running: the page offers Stop, and Stop works.
    assert any("Starting" in md.value or "AnalyzingData" in md.value for md in at.markdown)
    next(b for b in at.button if b.label == "Stop the job").click().run()
    assert not at.exception
    assert jobs.stop_requested(fresh_backend, "from-the-form")
    final = jobs.wait(fresh_backend, "from-the-form", timeout_s=240)
    assert final.status == "Stopped"


@pytest.fixture
def writable_app(trained_lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the lake with the finished job, for a test that writes a table."""
    root = tmp_path / "lake"
    shutil.copytree(trained_lake, root)
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("LAKELENS_LAKE_ROOT", str(root))
    monkeypatch.setenv("LAKELENS_BACKEND", "local")
    _fresh_caches()
    yield root


def _page_links(at: AppTest) -> dict[str, str]:
    from urllib.parse import parse_qs

    links = {}
    for element in at.get("page_link"):
        proto = element.proto
        links[proto.label] = parse_qs(proto.query_string).get("sql", [""])[0] if proto.query_string else ""
    return links


def test_score_a_table_from_the_page_writes_it_and_links_to_sql(writable_app: Path) -> None:
    import pandas as pd

    at = _open(job=JOB)
    assert not at.exception
    assert at.selectbox(key=f"automl.score.table.{JOB}").value == "demo.reviews"  # the job's own table
    at.text_input(key=f"automl.score.out.{JOB}").set_value("demo.from_page")
    next(b for b in at.button if b.label == "Score and write the table").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    out = pd.read_parquet(writable_app / "curated" / "demo" / "from_page")
    source = read_curated(writable_app, ["review_id", "review_body"])
    no_text = int((source["review_body"].fillna("").str.strip() == "").sum())
    assert len(out) == len(source) and int(out["predicted_sentiment"].isna().sum()) == no_text
    success = " ".join(s.value for s in at.success)
    assert f"Wrote {len(source):,} rows" in success and "demo.from_page" in success
    assert f"{no_text:,} reviews without text" in success
    links = _page_links(at)
    assert "demo" in links["Query demo.from_page"] and "from_page" in links["Query demo.from_page"]
    assert "predicted_sentiment" in links["Where the model and the stars disagree"]
    # the Sentiment page link opens the new table with predicted_sentiment as its label
    from urllib.parse import parse_qs

    link = next(e.proto for e in at.get("page_link") if e.proto.label.startswith("Its predicted sentiment"))
    params = {k: v[0] for k, v in parse_qs(link.query_string).items()}
    assert params == {"table": "demo.from_page", "label": "predicted_sentiment", "def": "label column"}
    sentiment_page = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    sentiment_page.switch_page("pages/sentiment.py")
    for key, value in params.items():
        sentiment_page.query_params[key] = value
    sentiment_page.run()
    assert not sentiment_page.exception
    assert next(sb for sb in sentiment_page.selectbox if sb.label == "Label").value == "predicted_sentiment"
    shown = {m.label: m.value for m in sentiment_page.metric}
    assert shown["Reviews"] == f"{len(source):,}" and shown["No sentiment"] == f"{no_text:,}"
    positive = (out["predicted_sentiment"] == "positive").sum() / out["predicted_sentiment"].notna().sum()
    assert shown["Positive"] == f"{positive:.1%}"
    # a second click without Replace is refused with one message and changes nothing
    before = sorted(p.name for p in (writable_app / "curated" / "demo" / "from_page").iterdir())
    next(b for b in at.button if b.label == "Score and write the table").click().run()
    assert not at.exception
    assert any("already exists" in e.value for e in at.error)
    assert sorted(p.name for p in (writable_app / "curated" / "demo" / "from_page").iterdir()) == before


# -- aws backend: an Autopilot job read through stubbed clients ---------------------------------------------------


def _body(payload: dict[str, Any]) -> StreamingBody:
    raw = json.dumps(payload).encode()
    return StreamingBody(io.BytesIO(raw), len(raw))


def test_autopilot_job_on_the_aws_backend(aws_settings: Any, moto_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("LAKELENS_BACKEND", "aws")
    monkeypatch.setenv("LAKELENS_S3_LAKE", aws_settings.s3_lake)
    monkeypatch.setenv("LAKELENS_ENDPOINT_URL", moto_server)
    sagemaker = _offline_client("sagemaker")
    s3 = _offline_client("s3")
    monkeypatch.setattr(autopilot, "client", lambda settings, service="sagemaker": s3 if service == "s3" else sagemaker)
    _fresh_caches()
    summary = {
        "AutoMLJobName": "reviews-autopilot",
        "AutoMLJobArn": "arn:aws:sagemaker:us-east-1:123456789012:automl-job/reviews-autopilot",
        "AutoMLJobStatus": "Completed",
        "AutoMLJobSecondaryStatus": "Completed",
        "CreationTime": WHEN,
        "EndTime": WHEN,
        "LastModifiedTime": WHEN,
    }
    describe = {
        **{k: v for k, v in summary.items() if k != "EndTime"},
        "AutoMLJobInputDataConfig": [
            {"ChannelType": "training", "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://in/"}}}
        ],
        "OutputDataConfig": {"S3OutputPath": "s3://out/"},
        "RoleArn": "arn:aws:iam::123456789012:role/sm",
        "AutoMLProblemTypeConfig": {
            "TextClassificationJobConfig": {"ContentColumn": "text", "TargetLabelColumn": "label"}
        },
        "AutoMLProblemTypeConfigName": "TextClassification",
        "AutoMLJobObjective": {"MetricName": "Accuracy"},
        "BestCandidate": _candidate("c-best", 0.91, with_reports=True),
    }
    with Stubber(sagemaker) as sm_stub, Stubber(s3) as s3_stub:
        sm_stub.add_response("list_auto_ml_jobs", {"AutoMLJobSummaries": [summary]})
        sm_stub.add_response("describe_auto_ml_job_v2", describe)
        sm_stub.add_response(
            "list_candidates_for_auto_ml_job",
            {"Candidates": [_candidate("c-best", 0.91, with_reports=True), _candidate("c-two", 0.85)]},
        )
        prefix = "job/documentation/"
        s3_stub.add_response(
            "list_objects_v2", {"Contents": [{"Key": prefix + "model_monitor/c-best/statistics.json", "Size": 9}]}
        )
        s3_stub.add_response("get_object", {"Body": _body(MODEL_QUALITY)})
        s3_stub.add_response(
            "list_objects_v2", {"Contents": [{"Key": prefix + "explainability/c-best/analysis.json", "Size": 9}]}
        )
        s3_stub.add_response("get_object", {"Body": _body(ANALYSIS)})
        at = _open(job="reviews-autopilot", source="autopilot")
        assert not at.exception, at.exception
        assert not at.error, [e.value for e in at.error]
        assert "Autopilot job reviews-autopilot" in [s.value for s in at.subheader]
        jobs_table = next(df.value for df in at.dataframe if "job" in getattr(df.value, "columns", []))
        assert list(jobs_table["job"]) == ["reviews-autopilot"]
        board = next(
            df.value
            for df in at.dataframe
            if "candidate" in getattr(getattr(df.value, "data", df.value), "columns", [])
        )
        board = board.data if hasattr(board, "data") else board
        assert list(board["candidate"]) == ["c-best", "c-two"] and board.iloc[0][""] == "★ best"
        measures = next(df.value for df in at.dataframe if "measure" in getattr(df.value, "columns", []))
        assert dict(zip(measures["measure"], measures["value"], strict=True))["accuracy"] == pytest.approx(0.85)
        figures = _plotly(at)
        heat = next(f for f in figures if f["data"][0]["type"] == "heatmap")
        assert heat["data"][0]["text"][0][0].startswith("40")
        assert any(f["layout"]["title"]["text"].startswith("Words that push c-best") for f in figures)
        sm_stub.assert_no_pending_responses()
        s3_stub.assert_no_pending_responses()


def test_autopilot_launch_asks_for_confirmation_then_exports_and_creates(
    aws_settings: Any, moto_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lib.backends.aws import AwsBackend
    from lib.catalog import Column, parquet_table
    from tests.aws_fixtures import BUCKET, column, seed_athena_results

    monkeypatch.chdir(ROOT)
    for name, value in {
        "LAKELENS_BACKEND": "aws",
        "LAKELENS_S3_LAKE": aws_settings.s3_lake,
        "LAKELENS_ENDPOINT_URL": moto_server,
        "LAKELENS_SAGEMAKER_ROLE_ARN": "arn:aws:iam::123456789012:role/sm",
    }.items():
        monkeypatch.setenv(name, value)
    backend = AwsBackend(aws_settings)
    backend.register_table(
        parquet_table(
            "demo",
            "reviews",
            [Column("review_body", "string"), Column("star_rating", "int")],
            f"s3://{BUCKET}/lake/curated/reviews/",
        )
    )
    _fresh_caches()
    at = _open()
    assert not at.exception, at.exception
    next(ti for ti in at.text_input if ti.label == "Job name").set_value("from-the-page")
    next(b for b in at.button if b.label == "Review the launch").click().run()
    assert not at.exception
    # The confirmation: the query, where the data and the outputs go, the whole request. Nothing created yet.
    text = " ".join(md.value for md in at.markdown)
    assert f"s3://{BUCKET}/lake/automl/autopilot/from-the-page/input/train.csv" in text
    assert f"s3://{BUCKET}/lake/automl/autopilot/from-the-page/output/" in text
    assert "arn:aws:iam::123456789012:role/sm" in text
    assert any('AS "text"' in code.value for code in at.code)
    request = json.loads(at.json[0].value)
    assert request["AutoMLProblemTypeConfig"]["TextClassificationJobConfig"]["TargetLabelColumn"] == "label"
    assert autopilot.list_jobs(autopilot.client(aws_settings)) == []
    seed_athena_results(
        moto_server,
        [
            (
                [column("text", "varchar"), column("label", "integer")],
                [["text", "label"], ["Love it", "1"], ["Broke", "-1"]],
            )
        ],
    )
    next(b for b in at.button if b.label == "Launch on SageMaker").click().run()
    assert not at.exception
    assert [job.name for job in autopilot.list_jobs(autopilot.client(aws_settings))] == ["from-the-page"]
    assert backend.read("automl/autopilot/from-the-page/input/train.csv").decode().splitlines()[0] == "text,label"
    assert at.query_params["job"] == "from-the-page" and at.query_params["source"] == "autopilot"
    assert "Autopilot job from-the-page" in [s.value for s in at.subheader]
    # moto does not implement ListCandidatesForAutoMLJob: one sentence, no server page pasted in.
    assert all("<" not in e.value for e in at.error)
    backend.close()


# -- the review queue: one review at a time, answers written to the labels table ------------------------------------
def _queue_order(root: Path, done: set[str] = frozenset(), disagree: bool = False) -> list[str]:  # type: ignore[assignment]
    """The queue by hand: the scored rows with a prediction, lowest confidence first (ties by id), one per review id."""
    import numpy as np
    import pandas as pd

    frame = pd.read_parquet(root / "curated" / "demo" / "reviews_scored")
    rows = frame[frame["predicted_sentiment"].notna() & ~frame["review_id"].isin(done)]
    if disagree:
        r = pd.to_numeric(rows["star_rating"], errors="coerce")
        stars = pd.Series(np.select([r < 3, r == 3, r > 3], ["negative", "neutral", "positive"], ""), index=rows.index)
        rows = rows[r.notna() & (rows["predicted_sentiment"] != stars)]
    ordered = rows.sort_values(["confidence", "review_id"], kind="mergesort")["review_id"].tolist()
    return list(dict.fromkeys(ordered))


def _card_text(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown)


def test_review_queue_labels_the_least_confident_review_and_shows_progress(writable_app: Path) -> None:
    import pandas as pd

    from lib.automl import predict

    backend = LocalBackend(local_settings(writable_app))
    predict.run(backend, predict.plan(backend, JOB, "demo.reviews", "demo.reviews_scored"))
    backend.close()
    order = _queue_order(writable_app)
    at = _open(job=JOB, review="demo.reviews_scored")
    assert not at.exception, at.exception
    assert at.toggle(key=f"automl.review.{JOB}").value is True  # the link opens the queue
    assert f"Review **{order[0]}**" in _card_text(at)
    # the words shown as carrying the prediction are words of this review's text
    import re

    frame = pd.read_parquet(writable_app / "curated" / "demo" / "reviews_scored")
    text = str(frame.drop_duplicates("review_id").set_index("review_id").loc[order[0], "review_body"]).lower()
    why = next(c.value for c in at.caption if c.value.startswith("Words that carry"))
    words = re.findall(r"([^\s,:]+) \+\d\.\d\d", why.split("):", 1)[1])
    assert words and all(re.search(rf"\b{re.escape(w)}\b", text) for w in words), (why, text)
    shown = {m.label: m.value for m in at.metric}
    assert shown["Labelled"] == "0" and shown["Left in your queue"] == f"{len(order):,}"
    at.text_input(key="review.who").set_value("erin").run()
    next(b for b in at.button if b.label == "Negative").click().run()
    assert not at.exception, at.exception
    files = list((writable_app / "curated" / "demo" / "reviews_scored_labels").glob("*.parquet"))
    stored = pd.concat([pd.read_parquet(f) for f in files])
    assert stored[["review_id", "label", "labelled_by"]].values.tolist() == [[order[0], "negative", "erin"]]
    assert f"Review **{order[1]}**" in _card_text(at)
    shown = {m.label: m.value for m in at.metric}
    assert shown["Labelled"] == "1" and shown["Left in your queue"] == f"{len(order) - 1:,}"
    next(b for b in at.button if b.label == "Skip").click().run()
    assert f"Review **{order[2]}**" in _card_text(at)
    assert {m.label: m.value for m in at.metric}["Labelled"] == "1"  # a skip is not a label
    # Back twice: the skipped review, then the first one, which is answered again; the latest answer counts
    at.button(key="review.back").click().run()
    assert f"Review **{order[1]}**" in _card_text(at) and "You answered **skip**" in " ".join(
        c.value for c in at.caption
    )
    at.button(key="review.back").click().run()
    assert f"Review **{order[0]}**" in _card_text(at)
    assert at.button(key="review.back").disabled  # nothing further back
    next(b for b in at.button if b.label == "Positive").click().run()
    assert not at.exception, at.exception
    files = list((writable_app / "curated" / "demo" / "reviews_scored_labels").glob("*.parquet"))
    stored = pd.concat([pd.read_parquet(f) for f in files]).sort_values("label_id")
    assert stored[["review_id", "label"]].values.tolist() == [
        [order[0], "negative"],
        [order[1], "skip"],
        [order[0], "positive"],
    ]
    assert f"Review **{order[1]}**" in _card_text(at)  # the queue goes on from where Back took it
    shown = {m.label: m.value for m in at.metric}
    assert shown["Labelled"] == "1" and shown["Agree with the model"] == (
        "100%" if stored["predicted_sentiment"].iloc[-1] == "positive" else "0%"
    )
    assert at.query_params["review"] == "demo.reviews_scored"

    disagree = _queue_order(writable_app, {order[0], order[1]}, disagree=True)
    at2 = _open(job=JOB, review="demo.reviews_scored", queue="disagree")
    assert not at2.exception
    at2.text_input(key="review.who").set_value("erin").run()
    assert f"Review **{disagree[0]}**" in _card_text(at2)
    # retrain from the page: a new job with the labels, opened in the URL
    at2.text_input(key="review.retrain.name").set_value("page-relabel")
    next(b for b in at2.button if b.label == "Start the job").click().run()
    assert not at2.exception, at2.exception
    assert at2.query_params["job"] == "page-relabel" and "review" not in at2.query_params
    config = json.loads((writable_app / "automl" / "page-relabel" / "job.json").read_text())
    assert config["labels_table"] == "demo.reviews_scored_labels" and config["parent_job"] == JOB
    backend = LocalBackend(local_settings(writable_app))
    assert jobs.wait(backend, "page-relabel", timeout_s=240).status == "Completed"
    backend.close()
