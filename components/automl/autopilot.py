"""The AutoML page's SageMaker Autopilot pieces (aws backend): the job list, the launch form, a job and its
candidates' reports. The local jobs' pieces, which these reuse, are in :mod:`components.automl_views`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd
import streamlit as st

from components.automl.views import (
    STATE_ICON,
    confusion_chart,
    job_picker,
    roc_chart,
    tokens_chart,
    url_get,
    url_set,
)
from lib.automl import jobs
from lib.automl.metrics import OBJECTIVES

if TYPE_CHECKING:
    from lib.automl.autopilot import Candidate


def autopilot_section(selected: str | None) -> str | None:
    """Autopilot jobs as a table (ListAutoMLJobs); returns the job the analyst clicked, if any."""
    from components.feedback import friendly_errors
    from lib import data

    st.markdown("#### SageMaker Autopilot jobs")
    picked = None
    with friendly_errors():
        summaries = data.autopilot_jobs()
        if summaries:
            frame = pd.DataFrame(
                [
                    {
                        "job": s.name,
                        "status": s.status,
                        "stage": s.stage,
                        "created": (s.created or "")[:19].replace("T", " "),
                        "ended": (s.ended or "")[:19].replace("T", " "),
                        "reason": s.failure_reason,
                    }
                    for s in summaries
                ]
            )
            picked = job_picker(frame, selected, key="automl.autopilot.jobs")
        else:
            st.caption("No Autopilot jobs in this account and region.")
    with st.expander("Launch an Autopilot job", icon=":material/rocket_launch:"):
        autopilot_launch_form()
    return picked


def autopilot_launch_form() -> None:
    from components.feedback import friendly_errors
    from lib import data, sentiment
    from lib.automl import autopilot

    settings = data.settings()
    pending: autopilot.LaunchPlan | None = st.session_state.get("automl.autopilot.plan")
    if pending is not None:
        st.markdown("**Check the job before it starts** — SageMaker bills for the time it runs.")
        st.markdown(
            f"1. LakeLens runs this query and writes its result (at most {settings.automl_max_rows:,} rows) as "
            f"`{pending.input_uri}train.csv`:"
        )
        st.code(pending.sql, language="sql")
        st.markdown(
            f"2. Autopilot trains text classifiers on `{pending.content_column}` → `{pending.target_column}` "
            f"for at most {pending.max_runtime_s:,} s, optimising {pending.metric}, as role `{pending.role_arn}`.\n"
            f"3. Models, candidate definitions and reports go to `{pending.output_uri}`."
        )
        st.json(pending.request(), expanded=False)
        launch, cancel = st.columns(2)
        if launch.button("Launch on SageMaker", icon=":material/rocket_launch:", type="primary"):
            with friendly_errors():
                autopilot.launch(data.sagemaker(), data.backend(), pending, max_rows=settings.automl_max_rows)
                st.session_state.pop("automl.autopilot.plan", None)
                data.clear_automl()
                url_set(job=pending.name, source="autopilot", candidate=None)
                st.rerun()
        if cancel.button("Cancel", icon=":material/close:"):
            st.session_state.pop("automl.autopilot.plan", None)
            st.rerun()
        return
    with friendly_errors():
        names = [t.qualified_name for db in data.databases() for t in data.tables(db.name)]
    if not names:
        st.caption("No tables are registered yet.")
        return
    table_name = st.selectbox("Table", names, key="automl.autopilot.table")
    database, _, name = str(table_name).partition(".")
    with friendly_errors():
        table = data.table(database, name)
    guess = sentiment.detect_columns(table)
    columns = [c.name for c in table.all_columns]
    with st.form("automl.autopilot.form"):
        left, right = st.columns(2)
        text = left.selectbox("Text column", columns, index=columns.index(guess.text) if guess.text in columns else 0)
        source = right.radio(
            "Label",
            ["rating", "column"],
            format_func=lambda v: "Sentiment from a rating" if v == "rating" else "An existing label column",
        )
        rating = left.selectbox(
            "Rating column", columns, index=columns.index(guess.rating) if guess.rating in columns else 0
        )
        label = right.selectbox(
            "Label column", columns, index=columns.index(guess.label) if guess.label in columns else 0
        )
        runtime = left.number_input("Longest run (seconds)", min_value=600, max_value=72 * 3600, value=3600, step=600)
        candidates = right.number_input("Most candidates (0: Autopilot decides)", min_value=0, max_value=250, value=0)
        objective = left.radio(
            "Objective", ["accuracy", "f1_macro"], format_func=lambda v: OBJECTIVES[v], horizontal=True
        )
        name_key = f"automl.autopilot.name.{table_name}"
        if name_key not in st.session_state:
            st.session_state[name_key] = jobs.default_name(name)
        job_name = right.text_input("Job name", max_chars=32, key=name_key)
        review = st.form_submit_button("Review the launch", icon=":material/fact_check:")
    if review:
        with friendly_errors():
            plan = autopilot.plan_launch(
                settings,
                name=str(job_name).strip(),
                database=database,
                table=name,
                text_column=str(text),
                label_column=str(rating if source == "rating" else label),
                label_source=str(source),
                objective=str(objective),
                max_runtime_s=int(runtime),
                max_candidates=int(candidates) or None,
                backend=data.backend(),
            )
            st.session_state["automl.autopilot.plan"] = plan
            st.rerun()


def autopilot_job(name: str) -> None:
    """One Autopilot job: configuration, stage, Stop, candidates sorted by the objective, and their reports."""
    from components.feedback import friendly_errors
    from lib import data
    from lib.automl import autopilot

    detail = data.autopilot_job(name)
    st.subheader(f"Autopilot job {name}")
    st.caption(
        f"{detail.problem_type or 'problem type not set'} · text: {detail.content_column or '–'} · label: "
        f"{detail.target_column or '–'} · objective: {detail.objective_metric or 'Autopilot default'} · "
        f"limits: {', '.join(f'{k} {v}' for k, v in detail.completion.items()) or 'none'}"
    )
    st.markdown(
        f"{STATE_ICON.get(detail.status, '')} **{detail.status}** · {detail.stage} · created "
        f"{(detail.created or '')[:19].replace('T', ' ')}"
        + (f" · ended {(detail.ended or '')[:19].replace('T', ' ')}" if detail.ended else "")
    )
    st.caption(f"Input: {', '.join(detail.inputs) or '–'} · output: {detail.output or '–'}")
    if detail.failure_reason:
        st.error(detail.failure_reason, icon=":material/error:")
    for reason in detail.partial_failures:
        st.warning(reason, icon=":material/warning:")
    running = not detail.terminal and detail.status != "Stopping"
    if running and st.button("Stop this Autopilot job", icon=":material/stop:", key=f"automl.autopilot.stop.{name}"):
        with friendly_errors():
            autopilot.stop(data.sagemaker(), name)
            data.clear_automl()
            st.rerun()
    with friendly_errors():
        candidates = data.autopilot_candidates(name, detail.modified or "")
        if not candidates:
            st.caption("Autopilot has no candidates for this job yet.")
            return
        metric_names = sorted({m for c in candidates for m in c.metrics})
        frame = pd.DataFrame(
            [
                {
                    "": "★ best" if c.name == detail.best_candidate else "",
                    "candidate": c.name,
                    "status": c.status,
                    f"objective ({c.objective_metric or detail.objective_metric or ''})": c.objective_value,
                    **{m: c.metrics.get(m) for m in metric_names},
                }
                for c in candidates
            ]
        )

        def highlight(row: pd.Series) -> list[str]:
            style = "font-weight: 700; background-color: rgba(44, 160, 44, 0.18)" if row[""] else ""
            return [style] * len(row)

        st.markdown("#### Candidates · sorted by the final objective")
        st.dataframe(frame.style.apply(highlight, axis=1).format(precision=4), hide_index=True, width="stretch")
        names = [c.name for c in candidates]
        chosen = url_get("candidate")
        picked = st.selectbox(
            "Candidate", names, index=names.index(chosen) if chosen in names else 0, key=f"automl.ap.cand.{name}"
        )
        url_set(candidate=str(picked))
        candidate = next(c for c in candidates if c.name == picked)
        reports = data.autopilot_reports(candidate)
        autopilot_reports(candidate, reports)


def autopilot_reports(candidate: Candidate, reports: dict[str, Any]) -> None:
    insights = reports.get("model_insights")
    explanation = reports.get("explainability")
    if not insights and not explanation:
        st.caption(
            "Autopilot wrote no model-insights or explainability report for this candidate (it writes them for the "
            "best candidate of a completed job)."
        )
        return
    if insights:
        st.markdown("#### Model insights (Autopilot's report)")
        scalars = insights["metrics"]
        if scalars:
            st.dataframe(
                pd.DataFrame({"measure": list(scalars), "value": list(scalars.values())}),
                hide_index=True,
                width="content",
            )
        left, right = st.columns(2)
        if insights["classes"]:
            left.plotly_chart(
                confusion_chart(
                    {"classes": insights["classes"], "confusion_matrix": insights["confusion_matrix"]}, candidate.name
                ),
                width="stretch",
            )
        if insights.get("roc") and insights["roc"]["fpr"]:
            report = {
                "classes": ["positive class"],
                "roc": [
                    {
                        "class": "positive class",
                        "auc": float(scalars.get("auc", float("nan"))),
                        "fpr": insights["roc"]["fpr"],
                        "tpr": insights["roc"]["tpr"],
                    }
                ],
            }
            right.plotly_chart(roc_chart(report, candidate.name), width="stretch")
    if explanation:
        st.markdown("#### Explainability (Autopilot's SHAP report)")
        figure = tokens_chart(
            {"classes": [{"class": label, "tokens": tokens} for label, tokens in explanation.items()]}, candidate.name
        )
        if figure is not None:
            st.plotly_chart(figure, width="stretch")
