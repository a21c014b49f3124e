"""A local AutoML job on the AutoML page: its status, the best candidate against the baseline, the leaderboard,
candidates side by side, scoring and the review queue, and one candidate in detail (metrics, curves, tokens, Try
it, test predictions). Records are read through lib.data, keyed by the job's last status update."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
import streamlit as st

from components.automl import review_queue, score_form
from components.automl import views as views
from components.feedback import friendly_errors
from components.reports.pins import pin_chart, pin_table
from lib import data
from lib.automl import jobs
from lib.automl.metrics import OBJECTIVES


def local_job(name: str) -> None:
    config = jobs.JobConfig.from_dict(data.automl_record(name, "job.json", ""))
    st.subheader(f"Job {name}")
    st.caption(
        f"{config.qualified_table} · text: {config.text_column} · label: {config.label_text} · objective: "
        f"{OBJECTIVES.get(config.objective, config.objective)} · budget {config.budget_s} s · created "
        f"{config.created[:19].replace('T', ' ')} UTC"
    )
    views.live_status(name, config.objective)
    status = jobs.read_status(data.backend(), name)
    if status.status != "Completed":
        return
    stamp = status.updated
    summary = data.automl_record(name, "data.json", stamp)
    candidates: list[dict[str, Any]] = data.automl_record(name, "candidates.json", stamp)
    done = [c for c in candidates if c.get("status") == "Completed"]
    best = next((c for c in candidates if c["name"] == status.best_candidate), done[0] if done else None)
    baseline = summary["baseline"]
    if best is None:
        st.warning("No candidate could be measured; see the failure reasons in the leaderboard.")
    else:
        st.markdown(
            f"Best candidate: **{best['label']}** (highest validation {OBJECTIVES[config.objective]}), measured on "
            f"{sum(v['test'] for v in summary['split'].values()):,} test reviews it never saw."
        )
        cells = st.columns(4)
        cells[0].metric(
            "Reviews used",
            f"{summary['rows_read']:,}",
            help="Rows read from the table (a sample when larger)",
            border=True,
        )
        cells[1].metric("Classes", len(summary["classes"]), help=", ".join(summary["classes"]), border=True)
        cells[2].metric(
            "Test accuracy",
            f"{best['test_accuracy']:.1%}",
            delta=f"{(best['test_accuracy'] - baseline['accuracy']) * 100:+.1f} pts vs always {baseline['class']}",
            help=f"Always answering {baseline['class']} scores {baseline['accuracy']:.1%}",
            border=True,
        )
        cells[3].metric(
            "Test macro F1",
            f"{best['test_f1_macro']:.3f}",
            delta=f"{best['test_f1_macro'] - baseline['f1_macro']:+.3f} vs always {baseline['class']}",
            help="The mean of the per-class F1 scores: every class counts the same, however rare",
            border=True,
        )
    st.markdown(f"#### Leaderboard · sorted by validation {OBJECTIVES[config.objective]}")
    views.leaderboard(candidates, status.best_candidate, config.objective)
    context = f"Job {name} on {config.qualified_table}, text {config.text_column}, label {config.label_text}"
    pin_table(
        f"Leaderboard of {name}", "AutoML", views.leaderboard_frame(candidates, status.best_candidate),
        key=f"automl.leaderboard.{name}", context=context,
    )  # fmt: skip
    if not done:
        return
    reports = {c["label"]: data.automl_record(name, f"candidates/{c['name']}/metrics.json", stamp) for c in done}
    st.markdown("#### Candidates side by side")
    left, right = st.columns(2)
    comparison = views.comparison_chart(done, baseline)
    left.plotly_chart(comparison, width="stretch")
    right.plotly_chart(views.per_class_f1_chart(reports), width="stretch")
    with left:
        pin_chart(
            f"Candidates of {name} against the baseline",
            "AutoML",
            comparison,
            key=f"automl.cmp.{name}",
            context=context,
        )
    with st.expander("Every measure, one column per candidate", icon=":material/table_chart:"):
        st.dataframe(views.side_by_side(reports), width="stretch", column_config=None)
    with st.expander("Score a table with this job and write the predictions to the lake", icon=":material/output:"):
        score_form.score_form(name, config, done, status.best_candidate)
    if st.toggle(
        "Review the model's doubts: label the reviews it is least sure of, then retrain",
        value=bool(views.url_get("review")),
        key=f"automl.review.{name}",
    ):
        with st.container(border=True):
            review_queue.section(name, config)
    else:
        views.url_set(review=None, queue=None)

    labels = {c["name"]: c["label"] for c in done}
    chosen = views.url_get("candidate")
    if chosen not in labels:
        chosen = best["name"] if best else next(iter(labels))
    picked = st.segmented_control(
        "Candidate", list(labels), format_func=lambda n: labels[n], default=chosen, key=f"automl.candidate.{name}"
    )
    picked = picked or chosen
    views.url_set(candidate=picked)
    candidate = next(c for c in done if c["name"] == picked)
    candidate_detail(name, candidate, stamp, summary)


def candidate_detail(name: str, candidate: dict[str, Any], stamp: str, summary: dict[str, Any]) -> None:
    label = candidate["label"]
    report = data.automl_record(name, f"candidates/{candidate['name']}/metrics.json", stamp)
    insight = data.automl_record(name, f"candidates/{candidate['name']}/explainability.json", stamp)
    st.markdown(f"#### {label}")
    st.caption(
        "Hyperparameters: "
        + ", ".join(f"{k} = {views.short(v)}" for k, v in candidate["hyperparameters"].items())
        + f" · refit in {candidate.get('refit_time_s', 0):.2f} s · {candidate.get('trials', 0)} trials in the search"
    )
    # Tabs that rerun when chosen: the model (for Try it) and the test predictions load only when opened, so a
    # finished job's page renders without unpickling a model.
    metrics_tab, curves_tab, tokens_tab, try_tab, predictions_tab = st.tabs(
        ["Metrics", "ROC and PR curves", "Top tokens", "Try it", "Test predictions"],
        key=f"automl.tabs.{name}",
        on_change="rerun",
    )
    with metrics_tab:
        left, right = st.columns([1, 1])
        with left:
            views.metrics_table(report)
            st.caption(
                f"Test set: {report['rows']:,} reviews never seen in training or in the search. Accuracy "
                f"{report['accuracy']:.1%}, balanced accuracy {report['balanced_accuracy']:.1%}."
            )
        confusion = views.confusion_chart(report, label)
        right.plotly_chart(confusion, width="stretch")
        with right:
            pin_chart(
                f"Confusion matrix of {label}", "AutoML", confusion, key=f"automl.cm.{name}.{label}", context=name
            )
    with curves_tab:
        left, right = st.columns(2)
        left.plotly_chart(views.roc_chart(report, label), width="stretch")
        right.plotly_chart(views.pr_chart(report, label), width="stretch")
        st.caption(
            "Dashed diagonal: a model guessing at random. Dotted lines: each class's share of the test set, the "
            "precision a random guess would get. AUC and average precision (AP) summarise each curve (1 is perfect)."
        )
    with tokens_tab:
        figure = views.tokens_chart(insight, label)
        if figure is None:
            st.caption(insight.get("note") or "No token moves this candidate toward a class.")
        else:
            st.plotly_chart(figure, width="stretch")
        st.caption(views.tokens_caption(insight))
        if insight.get("importance"):
            with st.expander("Feature importances of the trees (all classes together)"):
                st.dataframe(pd.DataFrame(insight["importance"]), hide_index=True, width="stretch")
    if try_tab.open:
        with try_tab, friendly_errors():
            model = data.automl_model(name, candidate["name"], candidate.get("model_sha256"))
            views.try_it(model, label)
    if predictions_tab.open:
        with predictions_tab, friendly_errors():
            predictions(name, candidate["name"])


def predictions(name: str, candidate: str) -> None:
    settings = data.settings()
    raw = data.backend().read(jobs.candidate_key(name, candidate, "predictions.parquet"))
    frame = pd.read_parquet(io.BytesIO(raw))
    wrong_only = st.toggle("Only the reviews it got wrong", value=True, key="automl.wrong")
    shown = frame[frame["label"] != frame["predicted"]] if wrong_only else frame
    shown = shown.sort_values("confidence", ascending=False)
    st.caption(
        f"{len(shown):,} of {len(frame):,} test reviews"
        + (
            f"; showing the {settings.max_rows:,} most confident (LAKELENS_MAX_ROWS)"
            if len(shown) > settings.max_rows
            else ""
        )
    )
    st.dataframe(shown.head(settings.max_rows), hide_index=True, width="stretch")
