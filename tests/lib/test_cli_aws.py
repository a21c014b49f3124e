"""``python -m lib`` on the aws backend, against the AWS stand-in served on a local port: the demo lake built in
S3 and registered in Glue, queries printed and written to files as on the local backend."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from lib.backends.aws import AwsBackend
from lib.lake import demo
from tests.aws_fixtures import BUCKET, FAKE_SECRET, REGION, make_aws_settings
from tests.aws_standin import StandIn
from tests.lib.test_aws_parity import normal_csv

pytest_plugins = ("tests.aws_standin",)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def standin(aws_standin: StandIn) -> Iterator[StandIn]:
    aws_standin.reset()
    boto3.client("s3", region_name=REGION, endpoint_url=aws_standin.url).create_bucket(Bucket=BUCKET)
    yield aws_standin


def run_cli(*args: str, standin: StandIn, bucket: str = BUCKET) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "LAKELENS_BACKEND": "aws",
        "LAKELENS_S3_LAKE": f"s3://{bucket}/lake/",
        "LAKELENS_ENDPOINT_URL": standin.url,
        "LAKELENS_AWS_REGION": REGION,
    }
    return subprocess.run(
        [sys.executable, "-m", "lib", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_demo_builds_the_lake_in_s3_and_registers_it_in_glue(standin: StandIn) -> None:
    skipped = run_cli("demo", "--if-missing", standin=standin)  # what `make run` does: no writes unasked
    assert skipped.returncode == 0 and "built only when asked" in skipped.stdout
    assert "Contents" not in boto3.client("s3", region_name=REGION, endpoint_url=standin.url).list_objects_v2(
        Bucket=BUCKET
    )
    done = run_cli("demo", "--rows", "300", standin=standin)
    assert done.returncode == 0, done.stderr
    assert f"s3://{BUCKET}/lake/" in done.stdout
    backend = AwsBackend(make_aws_settings(standin.url))
    assert demo.exists(backend)
    counts = backend.run_query("SELECT (SELECT count(*) FROM demo.reviews) AS c, count(*) AS r FROM demo.reviews_raw")
    assert counts.frame.iloc[0].tolist() == [300, 300]
    keys = [o.key for o in backend.list_objects(demo.CURATED_PREFIX + "product_category=Books/").objects]
    assert keys == [demo.CURATED_PREFIX + "product_category=Books/part-0.parquet"]

    again = run_cli("demo", "--if-missing", standin=standin)
    assert again.returncode == 0 and "already present" in again.stdout

    smaller = run_cli("demo", "--rows", "40", standin=standin)  # a rebuild: fewer categories, no stale objects
    assert smaller.returncode == 0, smaller.stderr
    count = backend.run_query("SELECT count(*) AS n FROM demo.reviews").frame["n"].tolist()
    assert count == [40]
    partitions = backend.list_partitions("demo", "reviews", page_size=100).partitions
    folders = backend.list_objects(demo.CURATED_PREFIX).folders
    assert (
        len(folders)
        == len(partitions)
        == len(backend.run_query("SELECT DISTINCT product_category FROM demo.reviews").frame)
    )
    backend.close()


def test_demo_on_a_missing_bucket_is_one_line(standin: StandIn) -> None:
    done = run_cli("demo", "--rows", "10", standin=standin, bucket="no-such-bucket")
    assert done.returncode == 1
    assert "no-such-bucket" in done.stderr and "Traceback" not in done.stderr
    assert done.stderr.strip().count("\n") == 0
    assert FAKE_SECRET not in done.stderr + done.stdout


def test_query_writes_the_same_file_as_the_local_backend(standin: StandIn, tmp_path: Path) -> None:
    assert run_cli("demo", "--rows", "500", standin=standin).returncode == 0
    local_lake = tmp_path / "lake"
    built = subprocess.run(
        [sys.executable, "-m", "lib", "demo", "--rows", "500", "--root", str(local_lake)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert built.returncode == 0, built.stderr
    sql = (
        "SELECT product_category, count(*) AS n, avg(star_rating) AS mean, max(review_date) AS last "
        "FROM demo.reviews GROUP BY 1 ORDER BY 1"
    )
    aws_out, local_out = tmp_path / "aws.csv", tmp_path / "local.csv"
    done = run_cli("query", "--sql", sql, "--out", str(aws_out), standin=standin)
    assert done.returncode == 0, done.stderr
    local = subprocess.run(
        [sys.executable, "-m", "lib", "query", "--sql", sql, "--out", str(local_out), "--root", str(local_lake)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert local.returncode == 0, local.stderr
    assert normal_csv(aws_out.read_text()) == normal_csv(local_out.read_text())
    assert len(normal_csv(aws_out.read_text())) > 2
