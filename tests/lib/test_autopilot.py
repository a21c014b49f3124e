"""SageMaker Autopilot: create/describe/list/stop against moto (the four calls it implements); candidates and
reports through botocore's Stubber, which checks every request and response against the service model."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from lib.automl import autopilot
from lib.backends.aws import AwsBackend
from lib.catalog import Column, parquet_table
from lib.errors import AutoMLError, BackendUnavailable
from lib.settings import Settings
from tests.aws_fixtures import BUCKET, column, make_aws_settings, seed_athena_results

pytest_plugins = ("tests.aws_fixtures",)

ROLE = "arn:aws:iam::123456789012:role/service-role/AmazonSageMaker-ExecutionRole"
WHEN = datetime(2021, 6, 1, 12, 0, tzinfo=UTC)


def _offline_client(service: str) -> Any:
    return boto3.client(service, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")


# -- against moto -------------------------------------------------------------------------------------------------


def _reviews(backend: AwsBackend) -> None:
    backend.register_table(
        parquet_table(
            "demo",
            "reviews",
            [Column("review_body", "string"), Column("star_rating", "int")],
            f"s3://{BUCKET}/lake/curated/reviews/",
        )
    )


def test_launch_exports_the_table_then_creates_lists_describes_and_stops_the_job(
    moto_server: str, aws_settings: Settings
) -> None:
    settings = make_aws_settings(moto_server, LAKELENS_SAGEMAKER_ROLE_ARN=ROLE)
    backend = AwsBackend(settings)
    sagemaker = autopilot.client(settings)
    _reviews(backend)
    plan = autopilot.plan_launch(
        settings,
        name="reviews-sentiment",
        database="demo",
        table="reviews",
        text_column="review_body",
        label_column="star_rating",
        label_source="rating",
        max_runtime_s=3600,
        backend=backend,
    )
    # What the confirmation shows: the export query, where the data and the outputs go, the whole request.
    assert plan.input_uri == f"s3://{BUCKET}/lake/automl/autopilot/reviews-sentiment/input/"
    assert plan.output_uri == f"s3://{BUCKET}/lake/automl/autopilot/reviews-sentiment/output/"
    assert '"review_body" AS "text"' in plan.sql and "LIMIT" in plan.sql
    request = plan.request()
    text_config = request["AutoMLProblemTypeConfig"]["TextClassificationJobConfig"]
    assert text_config == {
        "ContentColumn": "text",
        "TargetLabelColumn": "label",
        "CompletionCriteria": {"MaxAutoMLJobRuntimeInSeconds": 3600},
    }
    rows = [["Great value for the money.", "1"], ['Broke, "badly", in a week', "-1"], ["It is okay.", "0"]]
    seed_athena_results(
        moto_server, [([column("text", "varchar"), column("label", "integer")], [["text", "label"], *rows])]
    )
    arn = autopilot.launch(sagemaker, backend, plan, max_rows=1000)
    assert arn.endswith("automl-job/reviews-sentiment")

    exported = backend.read("automl/autopilot/reviews-sentiment/input/train.csv").decode()
    assert list(csv.reader(io.StringIO(exported))) == [["text", "label"], *rows]

    listed = autopilot.list_jobs(sagemaker)
    assert [job.name for job in listed] == ["reviews-sentiment"]
    detail = autopilot.describe_job(sagemaker, "reviews-sentiment")
    assert detail.problem_type == "TextClassification"
    assert (detail.content_column, detail.target_column) == ("text", "label")
    assert detail.inputs == [plan.input_uri] and detail.output == plan.output_uri
    assert detail.completion == {"MaxAutoMLJobRuntimeInSeconds": 3600}
    assert detail.role == ROLE and detail.partial_failures == []

    autopilot.stop(sagemaker, "reviews-sentiment")
    assert autopilot.describe_job(sagemaker, "reviews-sentiment").status in ("Stopping", "Stopped")
    backend.close()


def test_launch_needs_a_role_a_valid_name_and_a_real_runtime(moto_server: str, aws_settings: Settings) -> None:
    base = {"database": "demo", "table": "reviews", "text_column": "review_body", "label_column": "star_rating"}
    with pytest.raises(AutoMLError, match="LAKELENS_SAGEMAKER_ROLE_ARN"):
        autopilot.plan_launch(aws_settings, name="ok-name", **base)
    settings = make_aws_settings(moto_server, LAKELENS_SAGEMAKER_ROLE_ARN=ROLE)
    with pytest.raises(AutoMLError, match="not a valid Autopilot job name"):
        autopilot.plan_launch(settings, name="under_scores", **base)
    with pytest.raises(AutoMLError, match="at least 600 s"):
        autopilot.plan_launch(settings, name="ok-name", max_runtime_s=60, **base)


def test_export_refuses_a_single_class(moto_server: str, aws_settings: Settings) -> None:
    settings = make_aws_settings(moto_server, LAKELENS_SAGEMAKER_ROLE_ARN=ROLE)
    backend = AwsBackend(settings)
    _reviews(backend)
    plan = autopilot.plan_launch(
        settings,
        name="one-class",
        database="demo",
        table="reviews",
        text_column="review_body",
        label_column="star_rating",
        backend=backend,
    )
    seed_athena_results(
        moto_server,
        [([column("text", "varchar"), column("label", "integer")], [["text", "label"], ["a", "5"], ["b", "5"]])],
    )
    with pytest.raises(AutoMLError, match="same label"):
        autopilot.launch(autopilot.client(settings), backend, plan, max_rows=100)
    assert backend.list_objects("automl/autopilot/one-class/input/").objects == []
    backend.close()


# -- through botocore's Stubber -----------------------------------------------------------------------------------


def _candidate(name: str, value: float, *, with_reports: bool = False) -> dict[str, Any]:
    item: dict[str, Any] = {
        "CandidateName": name,
        "FinalAutoMLJobObjectiveMetric": {"Type": "Maximize", "MetricName": "Accuracy", "Value": value},
        "ObjectiveStatus": "Succeeded",
        "CandidateSteps": [
            {
                "CandidateStepType": "AWS::SageMaker::TrainingJob",
                "CandidateStepArn": f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{name}",
                "CandidateStepName": name,
            }
        ],
        "CandidateStatus": "Completed",
        "InferenceContainers": [
            {
                "Image": "123.dkr.ecr.us-east-1.amazonaws.com/autogluon:latest",
                "ModelDataUrl": f"s3://out/{name}/model.tar.gz",
            }
        ],
        "CreationTime": WHEN,
        "EndTime": WHEN,
        "LastModifiedTime": WHEN,
        "CandidateProperties": {
            "CandidateMetrics": [
                {"MetricName": "Accuracy", "StandardMetricName": "Accuracy", "Value": value, "Set": "Validation"},
                {"MetricName": "F1macro", "StandardMetricName": "F1macro", "Value": value - 0.2, "Set": "Validation"},
            ]
        },
    }
    if with_reports:
        item["CandidateProperties"]["CandidateArtifactLocations"] = {
            "Explainability": f"s3://out/job/documentation/explainability/{name}",
            "ModelInsights": f"s3://out/job/documentation/model_monitor/{name}",
        }
    return item


def test_candidates_are_read_page_by_page_best_first() -> None:
    sagemaker = _offline_client("sagemaker")
    expected = {
        "AutoMLJobName": "reviews",
        "SortBy": "FinalObjectiveMetricValue",
        "SortOrder": "Descending",
        "MaxResults": 100,
    }
    with Stubber(sagemaker) as stub:
        stub.add_response(
            "list_candidates_for_auto_ml_job",
            {
                "Candidates": [_candidate("c-best", 0.91, with_reports=True), _candidate("c-two", 0.88)],
                "NextToken": "page2",
            },
            expected,
        )
        stub.add_response(
            "list_candidates_for_auto_ml_job",
            {"Candidates": [_candidate("c-three", 0.80)]},
            {**expected, "NextToken": "page2"},
        )
        candidates = autopilot.list_candidates(sagemaker, "reviews")
        stub.assert_no_pending_responses()
    assert [c.name for c in candidates] == ["c-best", "c-two", "c-three"]
    best = candidates[0]
    assert (best.objective_metric, best.objective_value) == ("Accuracy", 0.91)
    assert best.metrics == {"Accuracy (validation)": 0.91, "F1macro (validation)": pytest.approx(0.71)}
    assert best.steps == ["AWS::SageMaker::TrainingJob"]
    assert best.model_insights == "s3://out/job/documentation/model_monitor/c-best"
    assert candidates[1].explainability is None


MODEL_QUALITY = {
    "version": 0.0,
    "binary_classification_metrics": {
        "confusion_matrix": {"0": {"0": 40, "1": 10}, "1": {"0": 5, "1": 45}},
        "recall": {"value": 0.9, "standard_deviation": 0.01},
        "precision": {"value": 0.818, "standard_deviation": 0.01},
        "accuracy": {"value": 0.85, "standard_deviation": 0.01},
        "auc": {"value": 0.93, "standard_deviation": 0.01},
        "receiver_operating_characteristic_curve": {
            "false_positive_rates": [0.0, 0.2, 1.0],
            "true_positive_rates": [0.0, 0.9, 1.0],
        },
        "precision_recall_curve": {"precisions": [1.0, 0.818, 0.5], "recalls": [0.0, 0.9, 1.0]},
    },
}
ANALYSIS = {
    "version": "1.0",
    "explanations": {
        "kernel_shap": {
            "label0": {"global_top_shap_text": {"broke": 0.31, "refund": 0.22, "great": -0.05}},
            "label1": {"global_top_shap_text": {"love": 0.4, "great": 0.35, "broke": -0.6}},
        }
    },
}


def _body(payload: dict[str, Any]) -> StreamingBody:
    raw = json.dumps(payload).encode()
    return StreamingBody(io.BytesIO(raw), len(raw))


def test_reports_are_read_from_the_candidates_s3_locations() -> None:
    s3 = _offline_client("s3")
    candidate = autopilot.Candidate(
        name="c-best",
        status="Completed",
        objective_metric="Accuracy",
        objective_value=0.91,
        objective_status="Succeeded",
        metrics={},
        steps=[],
        containers=[],
        explainability="s3://out/job/documentation/explainability/c-best",
        model_insights="s3://out/job/documentation/model_monitor/c-best",
        created=None,
        ended=None,
    )
    with Stubber(s3) as stub:
        stub.add_response(
            "list_objects_v2",
            {
                "Contents": [
                    {"Key": "job/documentation/model_monitor/c-best/output/report.pdf", "Size": 9000},
                    {"Key": "job/documentation/model_monitor/c-best/output/statistics.json", "Size": 900},
                ]
            },
            {"Bucket": "out", "Prefix": "job/documentation/model_monitor/c-best", "MaxKeys": 1000},
        )
        stub.add_response(
            "get_object",
            {"Body": _body(MODEL_QUALITY)},
            {"Bucket": "out", "Key": "job/documentation/model_monitor/c-best/output/statistics.json"},
        )
        stub.add_response(
            "list_objects_v2",
            {"Contents": [{"Key": "job/documentation/explainability/c-best/output/analysis.json", "Size": 500}]},
            {"Bucket": "out", "Prefix": "job/documentation/explainability/c-best", "MaxKeys": 1000},
        )
        stub.add_response(
            "get_object",
            {"Body": _body(ANALYSIS)},
            {"Bucket": "out", "Key": "job/documentation/explainability/c-best/output/analysis.json"},
        )
        reports = autopilot.read_reports(s3, candidate)
        stub.assert_no_pending_responses()
    insights = reports["model_insights"]
    assert insights["kind"] == "binary"
    assert insights["metrics"] == {"recall": 0.9, "precision": 0.818, "accuracy": 0.85, "auc": 0.93}
    assert insights["classes"] == ["0", "1"] and insights["confusion_matrix"] == [[40, 10], [5, 45]]
    assert insights["roc"] == {"fpr": [0.0, 0.2, 1.0], "tpr": [0.0, 0.9, 1.0]}
    tokens = reports["explainability"]
    assert [t["token"] for t in tokens["label1"]] == ["broke", "love", "great"]  # by |SHAP|, largest first
    assert tokens["label0"][0] == {"token": "broke", "weight": 0.31}


def test_missing_reports_are_absent_not_errors() -> None:
    s3 = _offline_client("s3")
    candidate = autopilot.Candidate(
        "c", "Completed", None, None, "Pending", {}, [], [], "s3://out/x/", None, None, None
    )
    with Stubber(s3) as stub:
        stub.add_client_error("list_objects_v2", "AccessDenied", "Access Denied", 403)
        assert autopilot.read_reports(s3, candidate) == {"model_insights": None, "explainability": None}


def test_describe_reads_the_documented_shape() -> None:
    sagemaker = _offline_client("sagemaker")
    response = {
        "AutoMLJobName": "reviews",
        "AutoMLJobArn": "arn:aws:sagemaker:us-east-1:123456789012:automl-job/reviews",
        "AutoMLJobInputDataConfig": [
            {"ChannelType": "training", "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://in/"}}}
        ],
        "OutputDataConfig": {"S3OutputPath": "s3://out/"},
        "RoleArn": ROLE,
        "AutoMLJobObjective": {"MetricName": "Accuracy"},
        "AutoMLProblemTypeConfig": {
            "TextClassificationJobConfig": {
                "ContentColumn": "review_body",
                "TargetLabelColumn": "sentiment",
                "CompletionCriteria": {"MaxCandidates": 3},
            }
        },
        "AutoMLProblemTypeConfigName": "TextClassification",
        "CreationTime": WHEN,
        "LastModifiedTime": WHEN,
        "AutoMLJobStatus": "Failed",
        "AutoMLJobSecondaryStatus": "Failed",
        "FailureReason": "ClientError: the target column has one class",
        "BestCandidate": _candidate("c-best", 0.9),
    }
    with Stubber(sagemaker) as stub:
        stub.add_response("describe_auto_ml_job_v2", response, {"AutoMLJobName": "reviews"})
        detail = autopilot.describe_job(sagemaker, "reviews")
    assert detail.terminal and detail.failure_reason.startswith("ClientError")
    assert (detail.content_column, detail.target_column, detail.objective_metric) == (
        "review_body",
        "sentiment",
        "Accuracy",
    )
    assert detail.completion == {"MaxCandidates": 3} and detail.best_candidate == "c-best"


def test_aws_errors_become_one_sentence() -> None:
    sagemaker = _offline_client("sagemaker")
    with Stubber(sagemaker) as stub:
        stub.add_client_error("stop_auto_ml_job", "ValidationException", "Job is already stopped", 400)
        stub.add_client_error("list_auto_ml_jobs", "AccessDeniedException", "not authorized", 403)
        with pytest.raises(AutoMLError, match="StopAutoMLJob failed: ValidationException Job is already stopped"):
            autopilot.stop(sagemaker, "reviews")
        with pytest.raises(BackendUnavailable, match="refused ListAutoMLJobs"):
            autopilot.list_jobs(sagemaker)
