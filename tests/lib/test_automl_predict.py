"""Predictions back to the lake on the local backend: a real 10-second job scores the demo reviews into a registered
Parquet table. Expected answers come from the stored model's own ``predict_proba`` on texts read with pyarrow from the
lake's files, and counts are worked out here with pandas; bad input is refused with one line and nothing written; a
failure while writing removes what it wrote; batches stay bounded.
"""

from __future__ import annotations

import io
import math
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pandas as pd
import pytest

from lib import sentiment
from lib.automl import jobs, predict
from lib.backends.aws import AwsBackend
from lib.backends.base import Backend
from lib.backends.local import LocalBackend
from lib.cli import commands as cli
from lib.errors import AutoMLError, NotFound
from lib.lake import demo
from tests.aws_fixtures import BUCKET, REGION, make_aws_settings
from tests.aws_standin import StandIn
from tests.conftest import (
    AUTOML_GROUP,
    DEMO_ROWS,
    SHARED_JOB,
    TrainedLake,
    copy_lake,
    lake_checksums,
    local_settings,
    read_curated,
)

pytest_plugins = ("tests.aws_standin",)

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group(AUTOML_GROUP)]

JOB = SHARED_JOB


@pytest.fixture(scope="module")
def lake(trained_lake_dir: TrainedLake, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the session's demo lake with one completed job (see tests/conftest.py)."""
    return copy_lake(trained_lake_dir.root, tmp_path_factory.mktemp("predict") / "lake")


@pytest.fixture
def backend(lake: Path, tmp_path: Path) -> Iterator[LocalBackend]:
    """A copy of the lake with the job, for a test that writes."""
    root = tmp_path / "lake"
    shutil.copytree(lake, root)
    backend = LocalBackend(local_settings(root))
    yield backend
    backend.close()


def _best(backend: Backend) -> dict[str, Any]:
    best = jobs.read_status(backend, JOB).best_candidate
    return next(c for c in jobs.read_json(backend, JOB, "candidates.json") if c["name"] == best)


def _output(root: Path, name: str) -> pd.DataFrame:
    folder = root / "curated" / "demo" / name
    return pd.read_parquet(folder).sort_values("review_id").reset_index(drop=True)


def _no_text(texts: pd.Series) -> pd.Series:
    return texts.isna() | (texts.fillna("").str.strip() == "")


def test_scores_every_row_with_the_models_own_answers(backend: LocalBackend) -> None:
    plan = predict.plan(backend, JOB, "demo.reviews", "demo.reviews_scored")
    result = predict.run(backend, plan, batch_rows=700)  # three batches and a bit on 2,000 reviews

    source = read_curated(backend.root).sort_values("review_id").reset_index(drop=True)
    out = _output(backend.root, "reviews_scored")
    assert len(out) == len(source) == result.rows
    classes = ["negative", "neutral", "positive"]
    probabilities = [f"p_{c}" for c in classes]
    assert list(out.columns) == [*source.columns, "predicted_sentiment", "confidence", *probabilities]
    pd.testing.assert_series_equal(out["review_body"], source["review_body"], check_dtype=False)

    missing = _no_text(source["review_body"])
    assert result.without_text == int(missing.sum()) > 0
    assert out.loc[missing, ["predicted_sentiment", "confidence", *probabilities]].isna().all().all()

    best = _best(backend)
    model = jobs.load_model(backend, JOB, best["name"], best["model_sha256"])
    expected = model.predict_proba(source.loc[~missing, "review_body"].tolist())
    got = out.loc[~missing, probabilities].to_numpy()
    np.testing.assert_allclose(got, expected, atol=1e-9)
    assert out.loc[~missing, "predicted_sentiment"].tolist() == [classes[i] for i in expected.argmax(axis=1)]
    np.testing.assert_allclose(out.loc[~missing, "confidence"], expected.max(axis=1), atol=1e-9)

    # registered: the SQL engine reads it, with the comments and the source in its parameters
    table = backend.get_table("demo", "reviews_scored")
    assert table.location == "lake://curated/demo/reviews_scored/" and table.format == "parquet"
    assert table.parameters["lakelens.automl_job"] == JOB
    counted = backend.run_query("SELECT count(*) AS n, count(predicted_sentiment) AS p FROM demo.reviews_scored")
    assert counted.frame.iloc[0].tolist() == [len(source), int((~missing).sum())]


def test_batches_stay_bounded_and_cover_every_text(backend: LocalBackend) -> None:
    best = _best(backend)
    model = jobs.load_model(backend, JOB, best["name"], best["model_sha256"])
    seen: list[int] = []

    class Watching:
        def predict_proba(self, texts: list[str]) -> Any:
            seen.append(len(texts))
            return model.predict_proba(texts)

    plan = predict.plan(backend, JOB, "demo.reviews", "demo.scored_small_batches")
    result = predict.run(backend, plan, batch_rows=128, model=Watching())
    assert max(seen) <= 128
    assert len(seen) >= math.ceil(result.scored / 128) and sum(seen) == result.scored
    source = read_curated(backend.root, ["review_body"])
    assert result.scored == int((~_no_text(source["review_body"])).sum())


def test_the_sentiment_page_takes_predicted_sentiment_as_its_label(backend: LocalBackend) -> None:
    predict.run(backend, predict.plan(backend, JOB, "demo.reviews", "demo.reviews_scored"))
    table = backend.get_table("demo", "reviews_scored")
    mapping = sentiment.detect_columns(table)
    assert mapping.label == "predicted_sentiment" and mapping.rating == "star_rating"
    spec = sentiment.Spec(table, mapping, "label")
    frame = sentiment.tidy_counts(backend.run_query(sentiment.counts_sql(spec), max_rows=10_000).frame, spec)
    got = frame.groupby("name")["reviews"].sum().to_dict()
    out = _output(backend.root, "reviews_scored")
    expected = out["predicted_sentiment"].value_counts().to_dict()
    assert {k: v for k, v in got.items() if k in expected} == expected


def test_sql_shows_where_the_model_and_the_stars_disagree(backend: LocalBackend) -> None:
    predict.run(backend, predict.plan(backend, JOB, "demo.reviews", "demo.reviews_scored"))
    table = backend.get_table("demo", "reviews_scored")
    frame = backend.run_query(predict.disagreement_sql(table, "star_rating"), max_rows=100).frame
    out = _output(backend.root, "reviews_scored")
    stars = np.select([out["star_rating"] <= 2, out["star_rating"] == 3], ["negative", "neutral"], "positive")
    disagree = out[out["predicted_sentiment"].notna() & (out["predicted_sentiment"] != stars)]
    expected = disagree.groupby(["star_rating", "predicted_sentiment"]).size()
    got = frame.set_index(["star_rating", "predicted_sentiment"])["reviews"]
    assert got.sort_index().to_dict() == expected.sort_index().to_dict()
    assert len(disagree) > 0 and got.tolist() == sorted(got.tolist(), reverse=True)


def test_cli_scores_a_table(backend: LocalBackend, capsys: pytest.CaptureFixture[str]) -> None:
    where = ["--root", str(backend.root), "--job", JOB, "--table", "demo.reviews"]
    code = cli.main(["automl", "predict", *where, "--out-table", "demo.cli_scored"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    rows = len(read_curated(backend.root, ["review_id"]))
    assert (
        captured.out.startswith("demo.cli_scored\tlake://curated/demo/cli_scored/") and f"{rows:,} rows" in captured.out
    )
    assert len(_output(backend.root, "cli_scored")) == rows


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--job", "no-such-job", "--table", "demo.reviews", "--out-table", "demo.x"], "no AutoML job no-such-job"),
        (["--job", "running", "--table", "demo.reviews", "--out-table", "demo.x"], "still running"),
        (["--job", JOB, "--table", "demo.nothing", "--out-table", "demo.x"], "nothing"),
        (["--job", JOB, "--table", "demo.notext", "--out-table", "demo.x"], "no column review_body"),
        (["--job", JOB, "--table", "demo.reviews", "--out-table", "demo.taken"], "already exists"),
        (["--job", JOB, "--table", "demo.reviews", "--out-table", "demo.reviews"], "table of their own"),
        (["--job", JOB, "--table", "demo.reviews", "--out-table", "demo.x", "--candidate", "knn"], "no completed"),
        (["--job", JOB, "--table", "demo.reviews", "--out-table", "demo.Bad-Name"], "not a valid Glue name"),
    ],
    ids=["unknown-job", "unfinished-job", "missing-table", "no-text-column", "taken", "same", "candidate", "name"],
)
def test_cli_refuses_bad_input_with_one_line_and_writes_nothing(
    backend: LocalBackend, capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    jobs.create_job(backend, jobs.JobConfig("running", "demo", "reviews", "review_body", "star_rating", "rating"))
    predict.run(backend, predict.plan(backend, JOB, "demo.reviews", "demo.taken"))
    backend.run_query("SELECT 1")  # the engine's own files settle before the checksums
    from lib.catalog import Column, parquet_table

    backend.register_table(
        parquet_table("demo", "notext", [Column("star_rating", "int")], "lake://curated/demo/notext/")
    )
    before = lake_checksums(backend.root)
    code = cli.main(["automl", "predict", "--root", str(backend.root), *arguments])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert err[-1].startswith("error: ") and message in err[-1] and "Traceback" not in "\n".join(err)
    assert lake_checksums(backend.root) == before


def test_a_failure_while_registering_removes_what_it_wrote(
    backend: LocalBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = lake_checksums(backend.root)
    plan = predict.plan(backend, JOB, "demo.reviews", "demo.broken")

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OSError("disk full")

    monkeypatch.setattr(backend, "register_table", refuse)
    with pytest.raises(AutoMLError, match="everything it wrote was removed"):
        predict.run(backend, plan)
    assert lake_checksums(backend.root) == before
    assert not (backend.root / "curated" / "demo" / "broken").exists()


def test_replace_swaps_the_files_and_a_failed_replace_keeps_the_old_table(
    backend: LocalBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    predict.run(backend, predict.plan(backend, JOB, "demo.reviews", "demo.again"))
    first = sorted((backend.root / "curated" / "demo" / "again").iterdir())
    with pytest.raises(AutoMLError, match="already exists"):
        predict.plan(backend, JOB, "demo.reviews", "demo.again")
    predict.run(backend, predict.plan(backend, JOB, "demo.reviews", "demo.again", replace=True))
    second = sorted((backend.root / "curated" / "demo" / "again").iterdir())
    assert len(first) == len(second) == 1 and first != second
    rows = len(read_curated(backend.root, ["review_id"]))
    assert backend.run_query("SELECT count(*) AS n FROM demo.again").frame["n"].iloc[0] == rows

    def files(root: object) -> dict[str, str]:
        # the data, and the catalog's records without their update time (a restore writes the old table anew)
        return {k: v for k, v in lake_checksums(backend.root).items() if not k.startswith("_lakelens/catalog/")}

    def table_shape() -> tuple[object, ...]:
        old = backend.get_table("demo", "again")
        return (old.columns, old.location, old.partition_keys, old.parameters)

    before, shape = files(backend.root), table_shape()
    plan = predict.plan(backend, JOB, "demo.reviews", "demo.again", replace=True)

    def fail_delete(key: str) -> None:
        raise OSError("permission denied")

    real_delete = backend.delete
    monkeypatch.setattr(backend, "delete", lambda key: fail_delete(key) if key in plan.stale else real_delete(key))
    with pytest.raises(AutoMLError, match="everything it wrote was removed"):
        predict.run(backend, plan)
    monkeypatch.undo()
    assert files(backend.root) == before and table_shape() == shape
    assert backend.run_query("SELECT count(*) AS n FROM demo.again").frame["n"].iloc[0] == rows


def test_probability_columns_are_glue_names() -> None:
    assert predict.probability_column("negative") == "p_negative"
    assert predict.probability_column("5 Stars!") == "p_5_stars"


# -- the aws backend: read through Athena, Parquet to S3, registered in Glue (the AWS stand-in) --------------------


@pytest.fixture
def aws(aws_standin: StandIn, lake: Path) -> Iterator[AwsBackend]:
    """The demo lake built on the stand-in (same seed and rows as the local one) with the local job's records
    copied under automl/, as if the job had run against this lake."""
    aws_standin.reset()
    boto3.client("s3", region_name=REGION, endpoint_url=aws_standin.url).create_bucket(Bucket=BUCKET)
    backend = AwsBackend(make_aws_settings(aws_standin.url))
    demo.build(backend, DEMO_ROWS)
    for path in sorted((lake / "automl" / JOB).rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            backend.write(str(path.relative_to(lake)), path.read_bytes())
    yield backend
    backend.close()


def _s3_keys(backend: AwsBackend, prefix: str) -> list[str]:
    s3 = boto3.client("s3", region_name=REGION, endpoint_url=backend.settings.endpoint_url)
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=f"lake/{prefix}")
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def test_aws_scores_through_athena_into_s3_and_glue(aws: AwsBackend, demo_lake_dir: Path) -> None:
    plan = predict.plan(aws, JOB, "demo.reviews", "demo.reviews_scored")
    result = predict.run(aws, plan, batch_rows=700)
    keys = _s3_keys(aws, "curated/demo/reviews_scored/")
    assert len(keys) == 1 and keys[0].endswith(".parquet")
    glue = boto3.client("glue", region_name=REGION, endpoint_url=aws.settings.endpoint_url)
    stored = glue.get_table(DatabaseName="demo", Name="reviews_scored")["Table"]
    assert stored["StorageDescriptor"]["Location"] == f"s3://{BUCKET}/lake/curated/demo/reviews_scored/"
    body = boto3.client("s3", region_name=REGION, endpoint_url=aws.settings.endpoint_url).get_object(
        Bucket=BUCKET, Key=keys[0]
    )["Body"]
    out = pd.read_parquet(io.BytesIO(body.read())).sort_values("review_id").reset_index(drop=True)

    source = read_curated(demo_lake_dir).sort_values("review_id").reset_index(drop=True)  # the same demo rows
    assert len(out) == len(source) == result.rows
    assert out["review_id"].tolist() == source["review_id"].tolist()
    missing = _no_text(source["review_body"])
    assert out.loc[missing, "predicted_sentiment"].isna().all() and result.without_text == int(missing.sum())
    best = _best(aws)
    model = jobs.load_model(aws, JOB, best["name"], best["model_sha256"])
    expected = model.predict_proba(source.loc[~missing, "review_body"].tolist())
    np.testing.assert_allclose(
        out.loc[~missing, ["p_negative", "p_neutral", "p_positive"]].to_numpy(), expected, atol=1e-9
    )
    # Athena (the stand-in's) reads the new table through Glue
    counted = aws.run_query("SELECT count(*) AS n, count(predicted_sentiment) AS p FROM demo.reviews_scored")
    assert counted.frame.iloc[0].tolist() == [len(source), int((~missing).sum())]


def test_aws_failure_removes_the_object_and_registers_nothing(aws: AwsBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = predict.plan(aws, JOB, "demo.reviews", "demo.broken")
    monkeypatch.setattr(aws, "register_table", lambda *a, **k: (_ for _ in ()).throw(OSError("Glue is down")))
    with pytest.raises(AutoMLError, match="everything it wrote was removed"):
        predict.run(aws, plan)
    monkeypatch.undo()
    assert _s3_keys(aws, "curated/demo/broken/") == []
    with pytest.raises(NotFound):
        aws.get_table("demo", "broken")
