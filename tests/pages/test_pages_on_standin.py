"""The Sentiment page through AppTest on both backends over the same demo lake: on aws against the AWS stand-in,
whose Athena runs the page's SQL. Every chart's data, every metric and every table must be the same."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from lib.backends.aws import AwsBackend
from lib.backends.local import LocalBackend
from lib.lake import demo
from tests.aws_fixtures import BUCKET, REGION, make_aws_settings
from tests.aws_standin import StandIn
from tests.conftest import local_settings
from tests.lib.test_aws_parity import assert_same, normal
from tests.pages.test_sentiment_page import ROOT, metrics, sentiment_page, values

pytest_plugins = ("tests.aws_standin",)

ROWS = 2_000


@pytest.fixture(scope="module")
def lakes(aws_standin: StandIn, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[str, str]]]:
    """The environment of each backend, after building the demo lake on it."""
    aws_standin.reset()
    boto3.client("s3", region_name=REGION, endpoint_url=aws_standin.url).create_bucket(Bucket=BUCKET)
    aws = AwsBackend(make_aws_settings(aws_standin.url))
    demo.build(aws, ROWS)
    aws.close()
    root = tmp_path_factory.mktemp("pages-parity") / "lake"
    local = LocalBackend(local_settings(root))
    demo.build(local, ROWS)
    local.close()
    yield {
        "local": {"LAKELENS_BACKEND": "local", "LAKELENS_LAKE_ROOT": str(root)},
        "aws": {
            "LAKELENS_BACKEND": "aws",
            "LAKELENS_S3_LAKE": f"s3://{BUCKET}/lake/",
            "LAKELENS_ENDPOINT_URL": aws_standin.url,
            "LAKELENS_AWS_REGION": REGION,
        },
    }


def plain(value: Any) -> Any:
    """Plotly JSON with its typed arrays ({"dtype", "bdata"}) decoded, so int32 and int64 encodings compare."""
    if isinstance(value, dict):
        if "bdata" in value and "dtype" in value:
            return values(value)
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def what_the_page_shows(env: dict[str, str], monkeypatch: pytest.MonkeyPatch, params: dict[str, str]) -> Any:
    with monkeypatch.context() as patch:
        patch.chdir(ROOT)
        for name in ("LAKELENS_LAKE_ROOT", "LAKELENS_S3_LAKE", "LAKELENS_ENDPOINT_URL"):
            patch.delenv(name, raising=False)
        for name, value in env.items():
            patch.setenv(name, value)
        at = sentiment_page(params)
        if env["LAKELENS_BACKEND"] == "aws":
            at.button(key="sentiment.allow_scans").click().run()  # on aws the analyst starts the queries
        assert not at.exception, at.exception
        assert not at.error, [e.value for e in at.error]
        charts = {}
        for element in at.get("plotly_chart"):
            spec = json.loads(element.proto.spec)
            charts[spec["layout"]["title"]["text"]] = plain(spec["data"])
        return {
            "metrics": metrics(at),
            "charts": charts,
            "tables": [t.value for t in at.table],
            "frames": [d.value for d in at.dataframe],
            "warnings": [w.value for w in at.warning],
        }


@pytest.mark.parametrize(
    "params",
    [{}, {"def": "binary"}, {"table": "demo.reviews_raw"}],
    ids=["curated, 3 classes", "binary", "raw zone"],
)
def test_the_sentiment_page_shows_the_same_on_both_backends(
    lakes: dict[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch, params: dict[str, str]
) -> None:
    local = what_the_page_shows(lakes["local"], monkeypatch, params)
    aws = what_the_page_shows(lakes["aws"], monkeypatch, params)
    assert len(local["charts"]) >= 6 and local["metrics"]["Reviews"] == f"{ROWS:,}"
    assert_same(normal(local), normal(aws), "sentiment page")
