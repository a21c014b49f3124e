"""SageMaker Autopilot on the aws backend: read jobs and candidates, read their reports, launch and stop jobs.

The shapes follow botocore's service model (``sagemaker`` 2017-07-24): ListAutoMLJobs, DescribeAutoMLJobV2,
ListCandidatesForAutoMLJob, CreateAutoMLJobV2 (text classification), StopAutoMLJob. Results are turned into small
dataclasses the page draws the same way as a local job: stages, a leaderboard, per-candidate metrics.

Reports: when Autopilot wrote them, each candidate's ``CandidateArtifactLocations`` point at S3 prefixes holding
the model insights (Model Monitor's model-quality JSON: confusion matrix, ROC and precision-recall curves) and the
explainability report (Clarify's ``analysis.json``: SHAP values per label). Both are optional; a missing or
unreadable report is reported as absent, not as an error.

Every function takes a boto3 client, so tests pass moto's or one wrapped in botocore's Stubber.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lib.automl.jobs import NAME_PATTERN
from lib.backends.base import Backend
from lib.errors import AutoMLError, BackendUnavailable, NotFound
from lib.settings import Settings

# Autopilot's metric names per objective of a local job.
METRIC_FOR_OBJECTIVE = {"accuracy": "Accuracy", "f1_macro": "F1macro"}
STAGES = ("Starting", "AnalyzingData", "FeatureEngineering", "ModelTuning", "GeneratingExplainabilityReport")
TERMINAL = ("Completed", "Failed", "Stopped")
MAX_REPORT_BYTES = 20 * 10**6


def client(settings: Settings, service: str = "sagemaker") -> Any:
    """A boto3 client for the configured region, profile and endpoint, with few retries and short timeouts."""
    import boto3
    from botocore.config import Config

    session = boto3.Session(profile_name=settings.aws_profile, region_name=settings.aws_region)
    config = Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=30)
    return session.client(service, endpoint_url=settings.endpoint_url, config=config)


def _call(operation: str, function: Any, **kwargs: Any) -> Any:
    """One SageMaker call; AWS's errors become one sentence that names the call."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return function(**kwargs)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = error.get("Code", "")
        message = error.get("Message", "") or str(exc)
        if (
            code in ("ResourceNotFound", "ResourceNotFoundException", "ValidationException")
            and "not found" in message.lower()
        ):
            raise NotFound(f"SageMaker has no such Autopilot job ({message}).") from None
        if code in ("AccessDeniedException", "AccessDenied", "UnrecognizedClientException"):
            raise BackendUnavailable(
                f"SageMaker refused {operation}: {message}. Check the credentials' permissions for SageMaker."
            ) from None
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if status >= 500 or message.lstrip().startswith("<"):
            raise BackendUnavailable(
                f"SageMaker could not answer {operation} (HTTP {status or code}); try again in a minute."
            ) from None
        raise AutoMLError(f"SageMaker {operation} failed: {code} {message}".strip()) from None
    except BotoCoreError as exc:
        raise BackendUnavailable(f"SageMaker could not be reached for {operation}: {exc}.") from None


def _iso(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value) if value else None


# -- jobs ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class JobSummary:
    name: str
    status: str
    stage: str
    created: str | None
    ended: str | None
    failure_reason: str = ""
    arn: str = ""

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL


def list_jobs(sagemaker: Any, *, limit: int = 100) -> list[JobSummary]:
    """Autopilot jobs, newest first (ListAutoMLJobs, paged up to ``limit``)."""
    out: list[JobSummary] = []
    token: str | None = None
    while len(out) < limit:
        kwargs: dict[str, Any] = {"SortBy": "CreationTime", "SortOrder": "Descending", "MaxResults": 100}
        if token:
            kwargs["NextToken"] = token
        page = _call("ListAutoMLJobs", sagemaker.list_auto_ml_jobs, **kwargs)
        for item in page.get("AutoMLJobSummaries", []):
            out.append(
                JobSummary(
                    name=item["AutoMLJobName"],
                    status=item.get("AutoMLJobStatus", ""),
                    stage=item.get("AutoMLJobSecondaryStatus", ""),
                    created=_iso(item.get("CreationTime")),
                    ended=_iso(item.get("EndTime")),
                    failure_reason=item.get("FailureReason", ""),
                    arn=item.get("AutoMLJobArn", ""),
                )
            )
        token = page.get("NextToken")
        if not token:
            break
    return out[:limit]


@dataclass(frozen=True)
class JobDetail:
    name: str
    status: str
    stage: str
    created: str | None
    ended: str | None
    modified: str | None
    failure_reason: str
    problem_type: str
    content_column: str | None
    target_column: str | None
    objective_metric: str | None
    completion: dict[str, Any]
    inputs: list[str]
    output: str
    role: str
    best_candidate: str | None
    notebooks: dict[str, str]
    partial_failures: list[str] = field(default_factory=list)

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL


def describe_job(sagemaker: Any, name: str) -> JobDetail:
    """DescribeAutoMLJobV2, flattened to what the page shows."""
    data = _call("DescribeAutoMLJobV2", sagemaker.describe_auto_ml_job_v2, AutoMLJobName=name)
    problem = data.get("AutoMLProblemTypeConfig") or {}
    kind = data.get("AutoMLProblemTypeConfigName") or (next(iter(problem), "") if problem else "")
    text = problem.get("TextClassificationJobConfig") or {}
    inner: dict[str, Any] = next(iter(problem.values()), {}) if problem else {}
    resolved = (data.get("ResolvedAttributes") or {}).get("CompletionCriteria") or {}
    objective = (
        data.get("AutoMLJobObjective") or (data.get("ResolvedAttributes") or {}).get("AutoMLJobObjective")
    ) or {}
    artifacts = data.get("AutoMLJobArtifacts") or {}
    return JobDetail(
        name=data.get("AutoMLJobName", name),
        status=data.get("AutoMLJobStatus", ""),
        stage=data.get("AutoMLJobSecondaryStatus", ""),
        created=_iso(data.get("CreationTime")),
        ended=_iso(data.get("EndTime")),
        modified=_iso(data.get("LastModifiedTime")),
        failure_reason=data.get("FailureReason", ""),
        problem_type=str(kind),
        content_column=text.get("ContentColumn"),
        target_column=text.get("TargetLabelColumn") or inner.get("TargetAttributeName"),
        objective_metric=objective.get("MetricName"),
        completion=dict(inner.get("CompletionCriteria") or resolved),
        inputs=[
            channel.get("DataSource", {}).get("S3DataSource", {}).get("S3Uri", "")
            for channel in data.get("AutoMLJobInputDataConfig", [])
        ],
        output=(data.get("OutputDataConfig") or {}).get("S3OutputPath", ""),
        role=data.get("RoleArn", ""),
        best_candidate=(data.get("BestCandidate") or {}).get("CandidateName"),
        notebooks={k: v for k, v in artifacts.items() if isinstance(v, str)},
        partial_failures=[
            m for p in data.get("PartialFailureReasons", []) if (m := p.get("PartialFailureMessage", ""))
        ],
    )


# -- candidates ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Candidate:
    name: str
    status: str
    objective_metric: str | None
    objective_value: float | None
    objective_status: str
    metrics: dict[str, float]
    steps: list[str]
    containers: list[str]
    explainability: str | None
    model_insights: str | None
    created: str | None
    ended: str | None
    failure_reason: str = ""


def list_candidates(sagemaker: Any, name: str, *, limit: int = 250) -> list[Candidate]:
    """ListCandidatesForAutoMLJob sorted by the final objective (best first), paged up to ``limit``."""
    out: list[Candidate] = []
    token: str | None = None
    while len(out) < limit:
        kwargs: dict[str, Any] = {
            "AutoMLJobName": name,
            "SortBy": "FinalObjectiveMetricValue",
            "SortOrder": "Descending",
            "MaxResults": 100,
        }
        if token:
            kwargs["NextToken"] = token
        page = _call("ListCandidatesForAutoMLJob", sagemaker.list_candidates_for_auto_ml_job, **kwargs)
        for item in page.get("Candidates", []):
            final = item.get("FinalAutoMLJobObjectiveMetric") or {}
            properties = item.get("CandidateProperties") or {}
            locations = properties.get("CandidateArtifactLocations") or {}
            scores: dict[str, float] = {}
            for datum in properties.get("CandidateMetrics", []):
                metric = datum.get("StandardMetricName") or datum.get("MetricName")
                if metric and datum.get("Value") is not None:
                    where = datum.get("Set", "")
                    scores[f"{metric} ({where.lower()})" if where else metric] = float(datum["Value"])
            out.append(
                Candidate(
                    name=item["CandidateName"],
                    status=item.get("CandidateStatus", ""),
                    objective_metric=final.get("MetricName"),
                    objective_value=float(final["Value"]) if final.get("Value") is not None else None,
                    objective_status=item.get("ObjectiveStatus", ""),
                    metrics=scores,
                    steps=[step.get("CandidateStepType", "") for step in item.get("CandidateSteps", [])],
                    containers=[c.get("Image", "") for c in item.get("InferenceContainers", [])],
                    explainability=locations.get("Explainability"),
                    model_insights=locations.get("ModelInsights"),
                    created=_iso(item.get("CreationTime")),
                    ended=_iso(item.get("EndTime")),
                    failure_reason=item.get("FailureReason", ""),
                )
            )
        token = page.get("NextToken")
        if not token:
            break
    return out[:limit]


# -- reports ------------------------------------------------------------------------------------------------------
def split_s3(uri: str) -> tuple[str, str]:
    match = re.match(r"^s3://([^/]+)/?(.*)$", uri or "")
    if not match:
        raise AutoMLError(f"{uri!r} is not an S3 location.")
    return match.group(1), match.group(2)


def _find_json(s3: Any, uri: str, names: tuple[str, ...]) -> dict[str, Any] | None:
    """The first JSON object under ``uri`` whose file name is one of ``names`` (or any .json), parsed."""
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, prefix = split_s3(uri)
    try:
        listing = s3.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1000)
        keys = [o["Key"] for o in listing.get("Contents", []) if o.get("Size", 0) <= MAX_REPORT_BYTES]
        json_keys = [k for k in keys if k.endswith(".json")]
        chosen = [k for k in json_keys if k.rsplit("/", 1)[-1] in names] or json_keys
        if not chosen:
            return None
        body = s3.get_object(Bucket=bucket, Key=sorted(chosen)[0])["Body"].read()
        data = json.loads(body)
    except (ClientError, BotoCoreError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _value(entry: Any) -> float | None:
    if isinstance(entry, dict) and "value" in entry:
        return float(entry["value"])
    if isinstance(entry, (int, float)):
        return float(entry)
    return None


def parse_model_insights(report: dict[str, Any]) -> dict[str, Any]:
    """Model Monitor's model-quality JSON → scalar metrics, confusion matrix, ROC and PR curves (where present)."""
    section = report.get("binary_classification_metrics") or report.get("multiclass_classification_metrics") or {}
    scalars = {k: v for k, v in ((k, _value(e)) for k, e in section.items()) if v is not None}
    matrix = section.get("confusion_matrix") or {}
    classes = sorted(matrix) if isinstance(matrix, dict) else []
    cells = [[int(matrix.get(t, {}).get(p, 0)) for p in classes] for t in classes] if classes else []
    roc = section.get("receiver_operating_characteristic_curve") or {}
    pr = section.get("precision_recall_curve") or {}
    return {
        "kind": "binary" if "binary_classification_metrics" in report else "multiclass" if section else "unknown",
        "metrics": scalars,
        "classes": classes,
        "confusion_matrix": cells,
        "roc": {"fpr": roc.get("false_positive_rates", []), "tpr": roc.get("true_positive_rates", [])} if roc else None,
        "pr": {"precision": pr.get("precisions", []), "recall": pr.get("recalls", [])} if pr else None,
    }


def parse_explainability(report: dict[str, Any], top: int = 15) -> dict[str, list[dict[str, Any]]]:
    """Clarify's ``analysis.json`` → for each label, the features or tokens with the largest mean |SHAP|."""
    out: dict[str, list[dict[str, Any]]] = {}
    shap = (report.get("explanations") or {}).get("kernel_shap") or {}
    for label, body in shap.items():
        if not isinstance(body, dict):
            continue
        values = body.get("global_top_shap_text") or body.get("global_shap_values") or {}
        if isinstance(values, dict):
            ranked = sorted(values.items(), key=lambda kv: -abs(float(kv[1])))[:top]
            out[str(label)] = [{"token": str(k), "weight": float(v)} for k, v in ranked]
    return out


def read_reports(s3: Any, candidate: Candidate) -> dict[str, Any]:
    """Both reports of a candidate, each ``None`` when Autopilot did not write it (or it cannot be read)."""
    insights = (
        _find_json(s3, candidate.model_insights, ("statistics.json", "report.json"))
        if candidate.model_insights
        else None
    )
    explanation = _find_json(s3, candidate.explainability, ("analysis.json",)) if candidate.explainability else None
    return {
        "model_insights": parse_model_insights(insights) if insights else None,
        "explainability": parse_explainability(explanation) if explanation else None,
    }


# -- launching and stopping ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LaunchPlan:
    """Everything CreateAutoMLJobV2 will be given, shown to the analyst before anything is written or started."""

    name: str
    table: str
    sql: str
    content_column: str
    target_column: str
    input_uri: str
    output_uri: str
    role_arn: str
    metric: str
    max_runtime_s: int
    max_candidates: int | None

    def request(self) -> dict[str, Any]:
        criteria: dict[str, Any] = {"MaxAutoMLJobRuntimeInSeconds": self.max_runtime_s}
        if self.max_candidates:
            criteria["MaxCandidates"] = self.max_candidates
        return {
            "AutoMLJobName": self.name,
            "AutoMLJobInputDataConfig": [
                {
                    "ChannelType": "training",
                    "ContentType": "text/csv;header=present",
                    "CompressionType": "None",
                    "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": self.input_uri}},
                }
            ],
            "OutputDataConfig": {"S3OutputPath": self.output_uri},
            "AutoMLProblemTypeConfig": {
                "TextClassificationJobConfig": {
                    "ContentColumn": self.content_column,
                    "TargetLabelColumn": self.target_column,
                    "CompletionCriteria": criteria,
                }
            },
            "AutoMLJobObjective": {"MetricName": self.metric},
            "RoleArn": self.role_arn,
        }


def plan_launch(
    settings: Settings,
    *,
    name: str,
    database: str,
    table: str,
    text_column: str,
    label_column: str,
    label_source: str = "column",
    objective: str = "accuracy",
    max_runtime_s: int = 3600,
    max_candidates: int | None = None,
    backend: Backend | None = None,
) -> LaunchPlan:
    """The job Autopilot would run; checks the name, role and runtime, and builds the export SQL (not run yet)."""
    from lib.automl import engine
    from lib.automl.jobs import JobConfig

    if not NAME_PATTERN.match(name or ""):
        raise AutoMLError(
            f"{name!r} is not a valid Autopilot job name: 1–32 letters, digits and hyphens, starting with a letter or digit."
        )
    if not settings.sagemaker_role_arn:
        raise AutoMLError(
            "Launching an Autopilot job needs the IAM role SageMaker runs it as: set LAKELENS_SAGEMAKER_ROLE_ARN."
        )
    if not settings.s3_lake:
        raise AutoMLError("Set LAKELENS_S3_LAKE: Autopilot's input and output are written inside the lake.")
    if max_runtime_s < 600:
        raise AutoMLError("Give Autopilot at least 600 s (10 minutes); text classification jobs take longer than that.")
    config = JobConfig(
        name=name,
        database=database,
        table=table,
        text_column=text_column,
        label_column=label_column,
        label_source="rating" if label_source == "rating" else "column",
        objective="f1_macro" if objective == "f1_macro" else "accuracy",
        budget_s=max(max_runtime_s, 10),
        max_rows=settings.automl_max_rows,
    )
    sql = ""
    if backend is not None:
        definition = backend.get_table(database, table)
        sql = engine.sample_sql(definition, config)
    base = f"{settings.s3_lake}automl/autopilot/{name}/"
    return LaunchPlan(
        name=name,
        table=f"{database}.{table}",
        sql=sql,
        content_column="text",
        target_column="label",
        input_uri=base + "input/",
        output_uri=base + "output/",
        role_arn=settings.sagemaker_role_arn,
        metric=METRIC_FOR_OBJECTIVE.get(config.objective, "Accuracy"),
        max_runtime_s=max_runtime_s,
        max_candidates=max_candidates,
    )


def export_training_csv(backend: Backend, plan: LaunchPlan, *, max_rows: int) -> tuple[str, int]:
    """Write the table's text and label columns as ``input/train.csv`` inside the lake; returns (key, rows)."""
    if not plan.sql:
        raise AutoMLError("The launch plan has no export query; plan it with the backend.")
    result = backend.run_query(plan.sql, max_rows=max_rows)
    frame = result.frame
    if frame.empty:
        raise AutoMLError(f"Table {plan.table} has no rows with both a text and a label; nothing to train on.")
    if frame["label"].nunique() < 2:
        raise AutoMLError(f"Every row of {plan.table} has the same label; a classifier needs at least two classes.")
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    writer.writerow([plan.content_column, plan.target_column])
    for text, label in zip(frame["text"], frame["label"], strict=True):
        writer.writerow([str(text), label.item() if hasattr(label, "item") else label])
    _, prefix = split_s3(plan.input_uri)
    _, lake_prefix = split_s3(backend.settings.s3_lake or "")
    key = prefix[len(lake_prefix) :] + "train.csv"
    backend.write(key, buffer.getvalue().encode("utf-8"), content_type="text/csv")
    return key, len(frame)


def launch(sagemaker: Any, backend: Backend, plan: LaunchPlan, *, max_rows: int) -> str:
    """Export the training CSV into the lake, then CreateAutoMLJobV2; returns the job's ARN."""
    export_training_csv(backend, plan, max_rows=max_rows)
    response = _call("CreateAutoMLJobV2", sagemaker.create_auto_ml_job_v2, **plan.request())
    return str(response["AutoMLJobArn"])


def stop(sagemaker: Any, name: str) -> None:
    """StopAutoMLJob: Autopilot moves the job to Stopping, then Stopped."""
    _call("StopAutoMLJob", sagemaker.stop_auto_ml_job, AutoMLJobName=name)
