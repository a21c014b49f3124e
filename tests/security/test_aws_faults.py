"""AWS faults the backend tests do not cover yet, each shown as one clear sentence with the app still usable after.

tests/lib/test_aws_backend.py already covers NoSuchBucket, AccessDenied on the bucket and on listing, Glue
EntityNotFoundException, throttling retried and throttling past the retries (Glue), an unreachable endpoint, missing
credentials, an unknown profile, Athena FAILED with its reason, CANCELLED, a timeout, syntax errors and an unknown
workgroup; tests/security/conftest.py counts those from their passing reports. Here: faults during previews and
downloads, S3 throttling and server errors, read timeouts, Glue throttling and denial on the tables of a database,
an expired session, Athena throttling, and the pages: Athena FAILED on the SQL page followed by a query that works,
and Glue refusing the home page followed by a home page that works.

Faults are injected at the HTTP layer with botocore's ``before-send`` event, below the retry handler, so a
throttled or failing request goes through exactly the retries a real one would (a Stubber answers above them).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import awswrangler as wr
import pytest
import streamlit as st
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError, ReadTimeoutError
from botocore.retries.standard import ExponentialBackoff
from streamlit.testing.v1 import AppTest

import lib.backends.aws as aws_module
from lib.backends.aws import AwsBackend
from lib.catalog import Column, parquet_table
from lib.errors import BackendUnavailable, NotFound
from lib.lake.preview import preview_object
from lib.settings import Settings
from tests.aws_fixtures import BUCKET, FAKE_ACCESS_KEY, FAKE_SECRET, column, seed_athena_results
from tests.security.conftest import Ledger

pytest_plugins = ("tests.aws_fixtures",)

ROOT = Path(__file__).resolve().parents[2]
CSV_KEY = "raw/reviews/part-0.csv"
CSV = b"review_id,star_rating\nr1,5\nr2,1\nr3,4\n"


class _Body:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body

    def read(self, *_: Any) -> bytes:
        return self._body


def inject(client: Any, operation: str, *, status: int, code: str, times: int = 1) -> list[str]:
    """Answer the next ``times`` requests of ``operation`` with AWS's error ``code``; returns every request sent."""
    sent: list[str] = []
    service = client.meta.service_model.service_id.hyphenize()

    def before_send(request: Any, **_: Any) -> AWSResponse | None:
        sent.append(request.url)
        if len(sent) > times:
            return None
        if service == "s3":
            body = f"<Error><Code>{code}</Code><Message>{code} (injected)</Message></Error>".encode()
            headers: dict[str, str] = {}
        else:
            body = json.dumps({"__type": code, "message": f"{code} (injected)"}).encode()
            headers = {"x-amzn-ErrorType": code}
        return AWSResponse(request.url, status, headers, _Body(body))

    client.meta.events.register(f"before-send.{service}.{operation}", before_send)
    return sent


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries without botocore's sleeps, so a test of five retries takes milliseconds."""
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0.0)


@pytest.fixture
def lake(aws_backend: AwsBackend) -> AwsBackend:
    aws_backend.write(CSV_KEY, CSV, content_type="text/csv")
    return aws_backend


def one_clear_sentence(error: BaseException) -> str:
    message = str(error)
    assert message and "\n" not in message and len(message) < 400, message
    assert FAKE_SECRET not in message and FAKE_ACCESS_KEY not in message
    return message


def test_access_denied_on_get_object_during_a_preview(lake: AwsBackend, ledger: Ledger) -> None:
    sent = inject(lake._client("s3"), "GetObject", status=403, code="AccessDenied")
    with pytest.raises(BackendUnavailable) as denied:
        preview_object(lake, CSV_KEY)
    assert one_clear_sentence(denied.value) == (
        f"AWS refused access when trying to read s3://{BUCKET}/lake/{CSV_KEY}: check the IAM policy of the "
        "credentials in use."
    )
    preview = preview_object(lake, CSV_KEY)  # the fault was one request: the next preview works
    assert preview.frame is not None and preview.frame["review_id"].tolist() == ["r1", "r2", "r3"]
    assert len(sent) == 2  # AccessDenied is final: not retried
    ledger.add("aws", "S3 AccessDenied on GetObject during a preview")


def test_an_object_deleted_after_listing_is_not_found_on_download(lake: AwsBackend, ledger: Ledger) -> None:
    inject(lake._client("s3"), "GetObject", status=404, code="NoSuchKey")
    with pytest.raises(NotFound) as missing:
        lake.read(CSV_KEY)
    assert one_clear_sentence(missing.value) == f"There is no object {CSV_KEY!r} in the lake."
    assert lake.read(CSV_KEY) == CSV
    ledger.add("aws", "S3 NoSuchKey on GetObject during a download")


def test_s3_slow_down_is_retried(lake: AwsBackend, ledger: Ledger) -> None:
    sent = inject(lake._client("s3"), "ListObjectsV2", status=503, code="SlowDown", times=2)
    page = lake.list_objects("raw/reviews/")
    assert [o.key for o in page.objects] == [CSV_KEY]
    assert len(sent) == 3
    ledger.add("aws", "S3 SlowDown on ListObjectsV2, retried")


def test_s3_internal_errors_past_the_retries_say_try_again(lake: AwsBackend, ledger: Ledger) -> None:
    sent = inject(lake._client("s3"), "HeadObject", status=500, code="InternalError", times=99)
    with pytest.raises(BackendUnavailable) as error:
        lake.stat(CSV_KEY)
    assert "internal error" in one_clear_sentence(error.value) and "try again" in str(error.value)
    assert len(sent) == 1 + aws_module.MAX_RETRIES
    ledger.add("aws", "S3 InternalError on HeadObject past the retries")


def test_a_read_timeout_says_which_endpoint(lake: AwsBackend, moto_server: str, ledger: Ledger) -> None:
    attempts: list[str] = []

    def time_out(request: Any, **_: Any) -> None:
        attempts.append(request.url)
        raise ReadTimeoutError(endpoint_url=request.url)

    lake._client("s3").meta.events.register("before-send.s3.GetObject", time_out)
    with pytest.raises(BackendUnavailable) as error:
        lake.read(CSV_KEY)
    message = one_clear_sentence(error.value)
    assert message.startswith(f"{moto_server} did not answer") and "try again" in message
    assert len(attempts) == 1 + aws_module.MAX_RETRIES
    ledger.add("aws", "S3 read timeout on GetObject")


def test_glue_throttling_on_get_tables_is_retried(lake: AwsBackend, ledger: Ledger) -> None:
    lake.register_table(parquet_table("demo", "reviews", [Column("star_rating", "int")], lake.to_s3_location("c/")))
    sent = inject(lake._client("glue"), "GetTables", status=400, code="ThrottlingException", times=3)
    assert [t.name for t in lake.list_tables("demo")] == ["reviews"]
    assert len(sent) == 4
    ledger.add("aws", "Glue ThrottlingException on GetTables, retried")


def test_glue_access_denied_on_get_tables(lake: AwsBackend, ledger: Ledger) -> None:
    lake.create_database("demo")
    inject(lake._client("glue"), "GetTables", status=400, code="AccessDeniedException")
    with pytest.raises(BackendUnavailable) as denied:
        lake.list_tables("demo")
    assert "AWS refused access" in one_clear_sentence(denied.value)
    assert lake.list_tables("demo") == []
    ledger.add("aws", "Glue AccessDeniedException on GetTables")


def test_an_expired_session_says_log_in_again(lake: AwsBackend, moto_server: str, ledger: Ledger) -> None:
    seed_athena_results(moto_server, [([column("n", "bigint")], [["n"], ["3"]])])
    inject(lake._client("athena"), "GetQueryExecution", status=400, code="ExpiredTokenException")
    with pytest.raises(BackendUnavailable) as expired:
        lake.run_query("SELECT 3 AS n")
    assert one_clear_sentence(expired.value) == (
        "The AWS session has expired: log in again (e.g. `aws sso login`) and retry."
    )
    ledger.add("aws", "Athena ExpiredTokenException")


def test_athena_throttling_past_the_retries_says_wait(
    lake: AwsBackend, monkeypatch: pytest.MonkeyPatch, ledger: Ledger
) -> None:
    def throttled(**_: Any) -> str:
        error = {"Error": {"Code": "TooManyRequestsException", "Message": "Rate exceeded"}}
        raise ClientError(error, "StartQueryExecution")  # type: ignore[arg-type]

    monkeypatch.setattr(wr.athena, "start_query_execution", throttled)
    with pytest.raises(BackendUnavailable) as error:
        lake.run_query("SELECT 1")
    assert "kept throttling" in one_clear_sentence(error.value) and "wait a minute" in str(error.value)
    ledger.add("aws", "Athena TooManyRequestsException on StartQueryExecution")


# -- the pages ----------------------------------------------------------------------------------------------
@pytest.fixture
def app_on_aws(aws_settings: Settings, moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsBackend]:
    """demo.reviews (two Parquet partitions) in S3 and Glue, and the app pointed at them."""
    backend = AwsBackend(aws_settings)
    from tests.aws_fixtures import seed_small_reviews

    seed_small_reviews(backend)
    monkeypatch.chdir(ROOT)
    for name, value in {
        "LAKELENS_BACKEND": "aws",
        "LAKELENS_S3_LAKE": str(aws_settings.s3_lake),
        "LAKELENS_ENDPOINT_URL": moto_server,
        "LAKELENS_AWS_REGION": aws_settings.aws_region,
    }.items():
        monkeypatch.setenv(name, value)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield backend
    st.cache_data.clear()
    st.cache_resource.clear()
    backend.close()


class FailFirstQuery:
    """The backend's Athena client, with the first query it is asked about reported FAILED with a reason."""

    def __init__(self, real: Any, reason: str) -> None:
        self.real, self.reason = real, reason
        self.failed: str | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def get_query_execution(self, **kwargs: Any) -> Any:
        answer = self.real.get_query_execution(**kwargs)
        self.failed = self.failed or kwargs["QueryExecutionId"]
        if kwargs["QueryExecutionId"] == self.failed:
            answer["QueryExecution"]["Status"].update(State="FAILED", StateChangeReason=self.reason)
        return answer


def run_sql(at: AppTest, sql: str) -> None:
    at.session_state["sql.text"] = sql
    at.session_state["sql.code"] = sql
    at.button(key="sql.run_button").click().run()
    deadline = time.monotonic() + 60
    while "sql.run" in at.session_state and at.session_state["sql.run"] is not None:
        assert time.monotonic() < deadline, "the query never finished"
        time.sleep(0.2)
        at.run()


def test_athena_failed_on_the_sql_page_then_the_next_query_works(
    app_on_aws: AwsBackend, moto_server: str, monkeypatch: pytest.MonkeyPatch, ledger: Ledger
) -> None:
    reason = "HIVE_BAD_DATA: Error parsing field value 'x' for field 0: For input string: \"x\""
    original = AwsBackend._client
    scripted: dict[str, FailFirstQuery] = {}

    def client(self: AwsBackend, service: Any) -> Any:
        real = original(self, service)
        if service != "athena":
            return real
        return scripted.setdefault("athena", FailFirstQuery(real, reason))

    monkeypatch.setattr(AwsBackend, "_client", client)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/sql.py").run()
    assert not at.exception
    run_sql(at, "SELECT star_rating FROM demo.reviews")
    assert not at.exception
    assert [e.value for e in at.error] == [f"The query failed: {reason}."]
    assert not at.dataframe

    seed_athena_results(moto_server, [([column("n", "bigint")], [["n"], ["5"]])])
    run_sql(at, "SELECT count(*) AS n FROM demo.reviews")
    assert not at.exception and not at.error
    assert at.dataframe[0].value["n"].tolist() == [5]
    ledger.add("aws", "Athena FAILED on the SQL page, next query works")


def test_glue_refusing_the_home_page_is_one_message_then_it_recovers(
    app_on_aws: AwsBackend, monkeypatch: pytest.MonkeyPatch, ledger: Ledger
) -> None:
    original = AwsBackend._client
    denied: list[list[str]] = []

    def client(self: AwsBackend, service: Any) -> Any:
        real = original(self, service)
        if service == "glue" and not denied:
            denied.append(inject(real, "GetDatabases", status=400, code="AccessDeniedException"))
        return real

    monkeypatch.setattr(AwsBackend, "_client", client)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and errors[0].startswith("AWS refused access when trying to list the Glue databases")
    one_clear_sentence(errors[0])
    st.cache_data.clear()  # the analyst fixes the policy and reloads
    at.run()
    assert not at.exception and not at.error
    assert {m.label: m.value for m in at.metric}["Tables"] == "1"
    ledger.add("aws", "Glue AccessDeniedException on the home page, then recovery")
