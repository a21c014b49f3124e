"""Curating on aws: Athena's CTAS (and INSERT INTO per 100 partitions) against the AWS stand-in, whose Athena runs
the statements and, like Athena, refuses more than 100 partitions in one. Expected numbers come from pandas reading
the raw objects straight out of (moto's) S3."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import boto3
import pandas as pd
import pytest

from lib.backends.aws import AwsBackend
from lib.catalog import Column, delimited_table
from lib.errors import IngestError, TableNotFound
from lib.lake import curate
from tests.aws_fixtures import BUCKET, REGION, make_aws_settings
from tests.aws_standin import StandIn

pytest_plugins = ("tests.aws_standin",)

ROWS = 1_000
CODES = 250  # codes c000..c249 (one row in ten has none): 226 partitions, written by a CTAS and two INSERT INTOs


@pytest.fixture
def backend(aws_standin: StandIn) -> Iterator[AwsBackend]:
    aws_standin.reset()
    boto3.client("s3", region_name=REGION, endpoint_url=aws_standin.url).create_bucket(Bucket=BUCKET)
    aws = AwsBackend(make_aws_settings(aws_standin.url))
    # a raw TSV table: a code with 250 values (one row in ten without one) and a number
    lines = ["code\tn"] + [f"{'' if i % 10 == 9 else f'c{i % CODES:03d}'}\t{i}" for i in range(ROWS)]
    aws.write("raw/shop/codes/codes.tsv", ("\n".join(lines) + "\n").encode())
    aws.create_database("shop")
    table = delimited_table(
        "shop",
        "codes_raw",
        [Column("code", "string"), Column("n", "int")],
        aws.to_s3_location("raw/shop/codes/"),
        delimiter="\t",
    )
    aws.register_table(table)
    yield aws
    aws.close()


def raw_frame(aws: AwsBackend) -> pd.DataFrame:
    body = aws.read("raw/shop/codes/codes.tsv")
    return pd.read_csv(io.BytesIO(body), sep="\t", quoting=csv.QUOTE_NONE, keep_default_na=False, na_values=[])


def objects(aws: AwsBackend, prefix: str) -> list[str]:
    s3 = boto3.client("s3", region_name=REGION, endpoint_url=aws.settings.endpoint_url)
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=f"lake/{prefix}")
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def test_ctas_then_insert_into_per_100_partitions(backend: AwsBackend) -> None:
    plan = curate.plan_curate(backend, "shop.codes_raw", "shop.codes", partition_by="code")
    assert plan.columns[-1].name == "code"  # Athena wants the partition key last
    seen: list[str] = []
    result = curate.curate(backend, plan, progress=lambda fraction, message: seen.append(message))
    assert len(result.statements) == 1 + 3  # the DISTINCT, the CTAS and two INSERT INTOs
    assert any("CTAS" in m for m in seen) and any("INSERT INTO (partitions batch 3 of 3)" in m for m in seen)
    table = backend.get_table("shop", "codes")
    assert table.location.startswith(f"s3://{BUCKET}/lake/curated/shop/codes/run-")
    assert [k.name for k in table.partition_keys] == ["code"] and table.format == "parquet"
    frame = raw_frame(backend)
    # on Athena (LazySimpleSerDe) an empty field is ''; Hive writes '' (and NULL) to its default partition, which
    # reads back as NULL
    frame["code"] = frame["code"].replace("", "<null>")
    expected = frame.groupby("code")["n"].agg(["count", "sum"])
    partitions = backend.list_partitions("shop", "codes", page_size=1000).partitions
    assert len(partitions) == len(expected) > 200  # more than two statements of 100 partitions
    got = (
        backend.run_query("SELECT code, count(*) AS count, sum(n) AS sum FROM shop.codes GROUP BY 1", max_rows=1000)
        .frame.fillna({"code": "<null>"})
        .set_index("code")
    )
    assert got.sort_index().astype("int64").to_dict() == expected.sort_index().astype("int64").to_dict()
    with pytest.raises(TableNotFound):  # the work table took the final name
        backend.get_table("shop", "codes__lakelens_gone")


def test_a_failing_statement_removes_the_half_made_table(backend: AwsBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    """Athena refuses a statement that writes more than 100 partitions: nothing is left behind."""
    monkeypatch.setattr(curate, "ATHENA_PARTITIONS_PER_STATEMENT", 100)
    plan = curate.plan_curate(backend, "shop.codes_raw", "shop.codes", partition_by="code")
    batches = curate.partition_batches(plan, [f"c{i:03d}" for i in range(CODES)] + [""])

    def too_big(plan: curate.CuratePlan, values: list[object]) -> list[str]:
        return [batches[0], " OR ".join(batches[1:])]  # the second holds 151 partitions

    monkeypatch.setattr(curate, "partition_batches", too_big)
    with pytest.raises(IngestError, match="the half-made table and its files were removed") as caught:
        curate.curate(backend, plan)
    assert "100" in str(caught.value)
    assert [t.name for t in backend.list_tables("shop")] == ["codes_raw"]
    assert objects(backend, "curated/shop/codes/") == []


def test_replacing_swaps_the_table_and_removes_the_old_files(backend: AwsBackend) -> None:
    plan = curate.plan_curate(backend, "shop.codes_raw", "shop.codes")
    curate.curate(backend, plan)
    first = objects(backend, "curated/shop/codes/")
    with pytest.raises(IngestError, match="already exists"):
        curate.curate(backend, plan)
    curate.curate(backend, plan, replace_existing=True)
    second = objects(backend, "curated/shop/codes/")
    assert first and second and not set(first) & set(second)  # the old run's files are gone
    n = backend.run_query("SELECT count(*) AS n FROM shop.codes").frame["n"][0]
    assert n == ROWS
