"""The AutoML page's pieces: job list, stages, leaderboard, candidate comparison and insights, try-it, start form.

Everything here draws records that :mod:`lib.automl` wrote (small JSON); nothing trains or reads table rows.
Classes named negative / neutral / positive keep LakeLens's sentiment colours on every chart.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from lib.automl import jobs
from lib.automl.metrics import OBJECTIVES
from lib.chart_suggest import SENTIMENT_COLORS

STATE_ICON = {
    "Completed": ":material/check_circle:",
    "Failed": ":material/error:",
    "Stopped": ":material/stop_circle:",
    "InProgress": ":material/progress_activity:",
    "Stopping": ":material/pending:",
}
_PALETTE = px.colors.qualitative.Safe
STAGE_TITLES = {
    "AnalyzingData": "Analyzing data",
    "FeatureEngineering": "Feature engineering",
    "ModelTuning": "Model tuning",
    "GeneratingExplainabilityReport": "Explainability report",
}


def class_colors(classes: Sequence[str]) -> dict[str, str]:
    """Sentiment classes keep their colours; any other class gets one from a colour-blind-safe palette."""
    out: dict[str, str] = {}
    others = iter(_PALETTE)
    for name in classes:
        out[name] = SENTIMENT_COLORS.get(name) or next(others, "#1f77b4")
    return out


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _seconds(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.1f} s" if value < 120 else f"{value / 60:.1f} min"


# -- jobs ---------------------------------------------------------------------------------------------------------
def jobs_frame(summaries: Sequence[jobs.JobSummary]) -> pd.DataFrame:
    rows = []
    for job in summaries:
        config, status = job.config, job.status
        state = "Stopping" if status.stop_requested and not status.terminal else status.status
        rows.append(
            {
                "job": config.name,
                "status": state,
                "stage": status.stage,
                "table": config.qualified_table,
                "label": f"sentiment from {config.label_column}"
                if config.label_source == "rating"
                else config.label_column,
                "objective": OBJECTIVES.get(config.objective, config.objective),
                "budget": f"{config.budget_s} s",
                "best": jobs.ESTIMATOR_LABELS.get(status.best_candidate or "", status.best_candidate or ""),
                "best value": status.best_objective,
                "took": _seconds(status.elapsed_s),
                "created": config.created[:19].replace("T", " "),
                "reason": status.failure_reason,
            }
        )
    return pd.DataFrame(rows)


def job_picker(frame: pd.DataFrame, selected: str | None, key: str) -> str | None:
    """The jobs as a table; clicking a row selects the job. Returns the selected job name."""
    event = st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key=key,
        column_config={
            "best value": st.column_config.NumberColumn("best so far", format="%.3f", help="Validation objective"),
            "reason": st.column_config.TextColumn("failure reason", width="medium"),
        },
    )
    rows = list(getattr(getattr(event, "selection", None), "rows", []) or [])
    clicked = str(frame.iloc[rows[0]]["job"]) if rows and rows[0] < len(frame) else None
    # A selection persists across reruns: act on it only when it changed, so the URL can name another job.
    if clicked and clicked != st.session_state.get(f"{key}.handled"):
        st.session_state[f"{key}.handled"] = clicked
        return clicked
    return selected


def stages(status: jobs.JobStatus) -> None:
    """Autopilot's stages as a row: done, current, waiting; how long each took."""
    done = {s.stage: s for s in status.stages}
    columns = st.columns(len(jobs.STAGES) + 1)
    for column, stage in zip(columns, [*jobs.STAGES, "Completed"], strict=True):
        record = done.get(stage)
        current = status.stage == stage and not status.terminal
        if stage == "Completed":
            icon = STATE_ICON.get(status.status, ":material/radio_button_unchecked:") if status.terminal else ""
            label = status.status if status.terminal else "Completed"
            column.markdown(f"{icon or ':material/radio_button_unchecked:'} **{label}**")
            continue
        if current:
            icon = ":material/progress_activity:"
        elif record and record.ended:
            icon = (
                ":material/check_circle:" if status.status != "Failed" or status.stage != stage else ":material/error:"
            )
        else:
            icon = ":material/radio_button_unchecked:"
        failed_here = status.status in ("Failed", "Stopped") and status.stages and status.stages[-1].stage == stage
        if failed_here:
            icon = STATE_ICON[status.status]
        seconds = None
        if record:
            start = jobs._parse(record.started)
            end = jobs._parse(record.ended) if record.ended else None
            if start and end:
                seconds = (end - start).total_seconds()
        column.markdown(f"{icon} **{STAGE_TITLES[stage]}**")
        column.caption(jobs.STAGE_TEXT[stage] + (f" · {_seconds(seconds)}" if seconds is not None else ""))


def progress_line(status: jobs.JobStatus, objective: str) -> str:
    if status.terminal:
        parts = [f"{STATE_ICON.get(status.status, '')} **{status.status}** after {_seconds(status.elapsed_s)}"]
    else:
        parts = [f"{STATE_ICON['InProgress']} **{status.stage}** · running for {_seconds(status.elapsed_s)}"]
    if status.trials:
        best = jobs.ESTIMATOR_LABELS.get(status.best_estimator or "", status.best_estimator or "")
        parts.append(
            f"{status.trials} trials, best {OBJECTIVES.get(objective, objective)} so far {_percent(status.best_objective)} ({best})"
        )
    if status.candidates_total:
        parts.append(f"candidates measured {status.candidates_done}/{status.candidates_total}")
    return " · ".join(parts)


# -- leaderboard and comparison -----------------------------------------------------------------------------------
def leaderboard_frame(candidates: Sequence[dict[str, Any]], best: str | None) -> pd.DataFrame:
    rows = []
    for c in candidates:
        rows.append(
            {
                "": "★ best" if c["name"] == best else "",
                "candidate": c["label"],
                "name": c["name"],
                "features": c.get("features_label", "word 1–2-grams"),
                "validation objective": c.get("validation_objective"),
                "test accuracy": c.get("test_accuracy"),
                "test macro F1": c.get("test_f1_macro"),
                "test ROC AUC (macro)": c.get("test_roc_auc_macro"),
                "trials": c.get("trials"),
                "training time (s)": c.get("refit_time_s", c.get("search_train_time_s")),
                "status": c.get("status"),
                "reason": c.get("failure_reason", ""),
                "hyperparameters": ", ".join(f"{k}={_short(v)}" for k, v in c.get("hyperparameters", {}).items()),
            }
        )
    frame = pd.DataFrame(rows)
    if not frame.empty:
        frame = frame.sort_values("validation objective", ascending=False, kind="stable").reset_index(drop=True)
    return frame


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def leaderboard(candidates: Sequence[dict[str, Any]], best: str | None, objective: str) -> None:
    frame = leaderboard_frame(candidates, best)
    name = OBJECTIVES.get(objective, objective)

    def highlight(row: pd.Series) -> list[str]:
        style = "font-weight: 700; background-color: rgba(44, 160, 44, 0.18)" if row[""] else ""
        return [style] * len(row)

    styled = frame.drop(columns=["name"]).style.apply(highlight, axis=1)
    st.dataframe(
        styled,
        hide_index=True,
        width="stretch",
        column_config={
            "validation objective": st.column_config.NumberColumn(f"validation {name}", format="%.3f"),
            "test accuracy": st.column_config.NumberColumn(format="%.3f"),
            "test macro F1": st.column_config.NumberColumn(format="%.3f"),
            "test ROC AUC (macro)": st.column_config.NumberColumn(format="%.3f"),
            "training time (s)": st.column_config.NumberColumn(format="%.2f"),
            "reason": st.column_config.TextColumn(help="Why a candidate was not measured"),
            "hyperparameters": st.column_config.TextColumn(width="large"),
        },
    )


def comparison_chart(candidates: Sequence[dict[str, Any]], baseline: dict[str, Any] | None) -> go.Figure:
    """Test accuracy and macro F1 of every candidate, with the majority-class baseline as dashed lines."""
    rows = []
    for c in candidates:
        if c.get("status") != "Completed":
            continue
        rows.append({"candidate": c["label"], "metric": "accuracy", "value": c["test_accuracy"]})
        rows.append({"candidate": c["label"], "metric": "macro F1", "value": c["test_f1_macro"]})
    frame = pd.DataFrame(rows)
    figure = px.bar(
        frame,
        x="candidate",
        y="value",
        color="metric",
        barmode="group",
        title="Test-set scores per candidate vs the majority baseline",
        labels={"value": "score on the test set (0–1)", "candidate": "candidate", "metric": ""},
        color_discrete_sequence=["#6a3d9a", "#1b9e77"],
        range_y=[0, 1],
    )
    if baseline:
        names = list(frame["candidate"].unique()) if not frame.empty else []
        for metric, color, dash in (("accuracy", "#6a3d9a", "dash"), ("f1_macro", "#1b9e77", "dot")):
            label = "accuracy" if metric == "accuracy" else "macro F1"
            figure.add_scatter(
                x=names,
                y=[baseline[metric]] * len(names),
                mode="lines",
                line={"color": color, "dash": dash, "width": 2},
                name=f"baseline {label} ({baseline[metric]:.2f}, always {baseline['class']})",
            )
    figure.update_layout(legend={"orientation": "h", "y": -0.2}, margin={"t": 60})
    return figure


def per_class_f1_chart(metrics_by_candidate: dict[str, dict[str, Any]]) -> go.Figure:
    rows = [
        {"candidate": label, "class": item["class"], "F1": item["f1"]}
        for label, report in metrics_by_candidate.items()
        for item in report["per_class"]
    ]
    frame = pd.DataFrame(rows)
    classes = list(dict.fromkeys(frame["class"])) if not frame.empty else []
    figure = px.bar(
        frame,
        x="candidate",
        y="F1",
        color="class",
        barmode="group",
        title="F1 per class and candidate (test set)",
        labels={"F1": "F1 score (0–1)", "candidate": "candidate"},
        color_discrete_map=class_colors(classes),
        category_orders={"class": classes},
        range_y=[0, 1],
    )
    figure.update_layout(legend={"orientation": "h", "y": -0.2})
    return figure


def side_by_side(metrics_by_candidate: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """One column per candidate, one row per measure: the table to read across in a meeting."""
    table: dict[str, dict[str, float | None]] = {}
    for label, report in metrics_by_candidate.items():
        column: dict[str, float | None] = {
            "accuracy": report["accuracy"],
            "balanced accuracy": report["balanced_accuracy"],
            "macro F1": report["f1_macro"],
            "ROC AUC (macro)": report["roc_auc_macro"],
        }
        for item in report["per_class"]:
            column[f"{item['class']}: precision"] = item["precision"]
            column[f"{item['class']}: recall"] = item["recall"]
            column[f"{item['class']}: F1"] = item["f1"]
        table[label] = column
    return pd.DataFrame(table)


# -- one candidate ------------------------------------------------------------------------------------------------
def per_class_frame(report: dict[str, Any]) -> pd.DataFrame:
    frame = pd.DataFrame(report["per_class"])
    total = pd.DataFrame(
        [
            {
                "class": "macro average",
                "precision": frame["precision"].mean(),
                "recall": frame["recall"].mean(),
                "f1": report["f1_macro"],
                "support": int(frame["support"].sum()),
            }
        ]
    )
    return pd.concat([frame, total], ignore_index=True)


def metrics_table(report: dict[str, Any]) -> None:
    st.dataframe(
        per_class_frame(report),
        hide_index=True,
        width="stretch",
        column_config={
            "precision": st.column_config.NumberColumn(
                format="%.3f", help="Of the reviews given this class, how many had it"
            ),
            "recall": st.column_config.NumberColumn(
                format="%.3f", help="Of the reviews of this class, how many were found"
            ),
            "f1": st.column_config.NumberColumn("F1", format="%.3f"),
            "support": st.column_config.NumberColumn("test reviews", format="%d"),
        },
    )


def confusion_chart(report: dict[str, Any], title_subject: str) -> go.Figure:
    """Counts, coloured by the share of each true class (so small classes are as readable as large ones)."""
    classes = report["classes"]
    counts = pd.DataFrame(report["confusion_matrix"], index=classes, columns=classes)
    shares = counts.div(counts.sum(axis=1).replace(0, 1), axis=0)
    text = [
        [f"{counts.iat[i, j]:,}<br>{shares.iat[i, j]:.0%}" for j in range(len(classes))] for i in range(len(classes))
    ]
    figure = go.Figure(
        go.Heatmap(
            z=shares.values,
            x=classes,
            y=classes,
            text=text,
            texttemplate="%{text}",
            colorscale="Greens",
            zmin=0,
            zmax=1,
            colorbar={"title": "share of<br>true class"},
            hovertemplate="true %{y}, predicted %{x}: %{text}<extra></extra>",
        )
    )
    figure.update_layout(
        title=f"Confusion matrix of {title_subject} (test set)",
        xaxis_title="predicted class",
        yaxis_title="true class",
        yaxis={"autorange": "reversed"},
        height=380,
    )
    return figure


def roc_chart(report: dict[str, Any], title_subject: str) -> go.Figure:
    colors = class_colors(report["classes"])
    figure = go.Figure()
    figure.add_scatter(x=[0, 1], y=[0, 1], mode="lines", line={"dash": "dash", "color": "#999"}, name="chance")
    for curve in report["roc"]:
        figure.add_scatter(
            x=curve["fpr"],
            y=curve["tpr"],
            mode="lines",
            name=f"{curve['class']} (AUC {curve['auc']:.3f})",
            line={"color": colors[curve["class"]], "width": 2.5},
        )
    figure.update_layout(
        title=f"ROC curves of {title_subject} (each class vs the rest)",
        xaxis_title="false positive rate (share of other reviews flagged)",
        yaxis_title="true positive rate (recall)",
        xaxis={"range": [0, 1]},
        yaxis={"range": [0, 1.02]},
        legend={"orientation": "h", "y": -0.25},
        height=420,
    )
    return figure


def pr_chart(report: dict[str, Any], title_subject: str) -> go.Figure:
    colors = class_colors(report["classes"])
    figure = go.Figure()
    for curve in report["pr"]:
        color = colors[curve["class"]]
        figure.add_scatter(
            x=curve["recall"],
            y=curve["precision"],
            mode="lines",
            name=f"{curve['class']} (AP {curve['average_precision']:.3f})",
            line={"color": color, "width": 2.5},
        )
        figure.add_hline(y=curve["prevalence"], line_dash="dot", line_color=color, opacity=0.6)
    figure.update_layout(
        title=f"Precision–recall curves of {title_subject}",
        xaxis_title="recall (share of the class found)",
        yaxis_title="precision (share of flagged reviews that are right)",
        xaxis={"range": [0, 1]},
        yaxis={"range": [0, 1.02]},
        legend={"orientation": "h", "y": -0.25},
        height=420,
    )
    return figure


def tokens_chart(insight: dict[str, Any], title_subject: str) -> go.Figure | None:
    rows = [
        {"class": block["class"], "token": token["token"], "weight": token["weight"]}
        for block in insight.get("classes", [])
        for token in block["tokens"][:10]
    ]
    if not rows:
        return None
    frame = pd.DataFrame(rows)
    classes = list(dict.fromkeys(frame["class"]))
    figure = px.bar(
        frame,
        x="weight",
        y="token",
        color="class",
        facet_col="class",
        orientation="h",
        color_discrete_map=class_colors(classes),
        category_orders={"class": classes},
        title=f"Words that push {title_subject} toward each class",
        labels={"weight": "coefficient on the TF-IDF value", "token": ""},
        facet_col_spacing=0.14,
    )
    figure.update_yaxes(matches=None, showticklabels=True, autorange="reversed")
    figure.update_xaxes(matches=None)
    figure.for_each_annotation(lambda a: a.update(text=a.text.split("=")[-1]))
    figure.update_layout(showlegend=False, height=420, margin={"l": 10})
    return figure


def tokens_caption(insight: dict[str, Any]) -> str:
    if insight.get("method") == "coefficients":
        return "Read from the model's own coefficients (a linear model)."
    fidelity = insight.get("fidelity")
    agree = f"; it agrees with the candidate on {fidelity:.0%} of the test set" if fidelity is not None else ""
    return (
        "Read from a linear surrogate trained to reproduce this candidate's answers"
        + agree
        + ". "
        + (insight.get("note") or "")
    ).strip()


def probability_chart(classes: Sequence[str], proba: Sequence[float]) -> go.Figure:
    frame = pd.DataFrame({"class": list(classes), "probability": [float(p) for p in proba]})
    figure = px.bar(
        frame,
        x="probability",
        y="class",
        orientation="h",
        color="class",
        color_discrete_map=class_colors(classes),
        range_x=[0, 1],
        title="Class probabilities for this review",
        labels={"probability": "probability (0–1)", "class": ""},
        text=frame["probability"].map(lambda p: f"{p:.0%}"),
    )
    figure.update_traces(textposition="outside", cliponaxis=False)
    figure.update_layout(showlegend=False, height=140 + 45 * len(classes), bargap=0.35)
    return figure


# -- whole sections the page composes -----------------------------------------------------------------------------
def url_get(name: str) -> str | None:
    value = st.query_params.get(name)
    return str(value) if value else None


def url_set(**values: str | None) -> None:
    for name, value in values.items():
        if value:
            st.query_params[name] = value
        elif name in st.query_params:
            del st.query_params[name]


def start_form(settings: Any) -> None:
    """Start a local job: table, columns, label, budget, objective. Bad input is refused before anything starts."""
    from components.feedback import friendly_errors
    from lib import data, sentiment

    with friendly_errors():
        names = [t.qualified_name for db in data.databases() for t in data.tables(db.name)]
    if not names:
        st.caption("No tables are registered yet; ingest a file on the Lake page first.")
        return
    linked = st.query_params.get("table")  # e.g. the Sentiment page's "Train a classifier on <balanced table>"
    default = linked if linked in names else "demo.reviews" if "demo.reviews" in names else names[0]
    table_name = st.selectbox("Table", names, index=names.index(default), key="automl.form.table")
    database, _, name = str(table_name).partition(".")
    with friendly_errors():
        table = data.table(database, name)
    guess = sentiment.detect_columns(table)
    columns = [c.name for c in table.all_columns]
    texts = [c.name for c in table.all_columns if sentiment.is_string(c.type)] or columns
    with st.form("automl.start"):
        left, right = st.columns(2)
        text = left.selectbox("Text column", texts, index=texts.index(guess.text) if guess.text in texts else 0)
        source = right.radio(
            "Label",
            ["rating", "column"],
            format_func=lambda v: (
                "Sentiment from a rating (1–2 → −1, 3 → 0, 4–5 → +1)" if v == "rating" else "An existing label column"
            ),
            index=0 if guess.rating else 1,
        )
        left2, right2 = st.columns(2)
        rating = left2.selectbox(
            "Rating column", columns, index=columns.index(guess.rating) if guess.rating in columns else 0
        )
        label = right2.selectbox(
            "Label column", columns, index=columns.index(guess.label) if guess.label in columns else 0
        )
        left3, mid3, right3 = st.columns(3)
        budget = left3.number_input(
            "Time budget (seconds)", min_value=10, max_value=jobs.MAX_BUDGET_S, value=60, step=10
        )
        objective = mid3.radio(
            "Objective", ["accuracy", "f1_macro"], format_func=lambda v: OBJECTIVES[v], horizontal=True
        )
        # The default name is made once per table and session: a value that changed on every rerun would make
        # Streamlit treat the field as a new widget and drop what the analyst typed.
        name_key = f"automl.form.name.{table_name}"
        if name_key not in st.session_state:
            st.session_state[name_key] = jobs.default_name(name)
        job_name = right3.text_input("Job name", max_chars=32, key=name_key)
        st.caption(
            f"Reads at most {settings.automl_max_rows:,} rows (LAKELENS_AUTOML_MAX_ROWS), splits them 70/15/15 "
            "(stratified) into training, validation and test sets, and lets FLAML search LightGBM, XGBoost, random "
            "forests, extra trees and linear models over TF-IDF features within the budget: word 1–2-grams alone, "
            "with character 2–5-grams (linear models) and with VADER's lexicon scores (LightGBM and linear models)."
        )
        submitted = st.form_submit_button("Start the job", icon=":material/play_arrow:", type="primary")
    if submitted:
        config = jobs.JobConfig(
            name=str(job_name).strip(),
            database=database,
            table=name,
            text_column=str(text),
            label_column=str(rating if source == "rating" else label),
            label_source="rating" if source == "rating" else "column",
            objective="f1_macro" if objective == "f1_macro" else "accuracy",
            budget_s=int(budget),
            max_rows=settings.automl_max_rows,
        )
        with friendly_errors():
            jobs.start_job(data.backend(), config)
            data.clear_automl()
            st.session_state["automl.form.close"] = True
            url_set(job=config.name, source="local", candidate=None)
            st.rerun()


def live_status(name: str, objective: str) -> None:
    """Status and stages; while the job runs, refreshed every second with a Stop button."""
    from components.feedback import friendly_errors
    from lib import data

    def body() -> None:
        with friendly_errors():
            status = jobs.read_status(data.backend(), name)
            if status.stop_requested and not status.terminal:
                status = jobs.enforce_stop(data.backend(), name)
            stages(status)
            st.markdown(progress_line(status, objective))
            if status.terminal:
                if st.session_state.get("automl.final") != name:
                    # The page was drawn while the job ran: draw it again, with the results.
                    st.session_state["automl.final"] = name
                    data.clear_automl()
                    st.rerun(scope="app")
                if status.status == "Failed":
                    st.error(status.failure_reason, icon=":material/error:")
                elif status.status == "Stopped":
                    st.warning(status.failure_reason or "Stopped.", icon=":material/stop_circle:")
                return
            if status.stop_requested:
                st.caption("Stop requested; the job stops after the trial it is running.")
            elif st.button("Stop the job", icon=":material/stop:", key=f"automl.stop.{name}"):
                jobs.request_stop(data.backend(), name)
                data.clear_automl()

    status = jobs.read_status(data.backend(), name)
    # Which job the page last drew in its final state; the fragment reruns the page once when it sees the job end.
    st.session_state["automl.final"] = name if status.terminal else None
    st.fragment(body, run_every=None if status.terminal else 1.0)()


def try_it(model: Any, label: str) -> None:
    st.session_state.setdefault("automl.try", "Stopped working after a week. Very disappointed with the quality.")
    text = st.text_area("A review", key="automl.try", height=100, help="Press Ctrl+Enter or click outside to ask again")
    if not str(text).strip():
        st.caption("Type a review to see what the candidate answers.")
        return
    proba = model.predict_proba([str(text)])[0]
    best = int(proba.argmax())
    st.markdown(f"**{label}** answers **{model.classes[best]}** ({proba[best]:.0%} probability).")
    st.plotly_chart(probability_chart(model.classes, proba), width="stretch")


# -- SageMaker Autopilot (aws backend) ----------------------------------------------------------------------------
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


def autopilot_reports(candidate: Any, reports: dict[str, Any]) -> None:
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


def score_form(name: str, config: jobs.JobConfig, candidates: Sequence[dict[str, Any]], best: str | None) -> None:
    """Score a table with a candidate of this finished job and write the answers back to the lake as a new table."""
    from components.feedback import friendly_errors
    from lib import data
    from lib.automl import predict
    from lib.sql import starter_query

    with friendly_errors():
        names = [t.qualified_name for db in data.databases() for t in data.tables(db.name)]
    if not names:
        return
    labels = {c["name"]: c["label"] for c in candidates}
    own = config.qualified_table
    with st.form(f"automl.score.{name}"):
        left, right = st.columns(2)
        table_name = left.selectbox(
            "Table to score",
            names,
            index=names.index(own) if own in names else 0,
            key=f"automl.score.table.{name}",
            help=f"Any table with the text column {config.text_column}; by default the one the job trained on.",
        )
        options = list(labels)
        candidate = right.selectbox(
            "Candidate",
            options,
            index=options.index(best) if best in options else 0,
            format_func=lambda n: labels[n] + (" (best)" if n == best else ""),
            key=f"automl.score.candidate.{name}",
        )
        left2, right2 = st.columns([3, 1])
        out_name = left2.text_input(
            "New table",
            value=f"{config.database}.{config.table}_scored",
            key=f"automl.score.out.{name}",
            help="database.table; written as Parquet under curated/<database>/<table>/ and registered in the catalog.",
        )
        replace = right2.checkbox("Replace it", key=f"automl.score.replace.{name}", help="If the table exists")
        st.caption(
            f"Every row keeps its columns and gains predicted_sentiment, confidence and one p_<class> column per "
            f"class, scored {predict.BATCH_ROWS:,} rows at a time. Reviews without text get no prediction (NULL)."
        )
        submitted = st.form_submit_button("Score and write the table", icon=":material/output:", type="primary")
    done_key = f"automl.scored.{name}"
    if submitted:
        st.session_state.pop(done_key, None)
        with friendly_errors():
            plan = predict.plan(
                data.backend(), name, str(table_name), str(out_name), candidate=str(candidate), replace=bool(replace)
            )
            model = data.automl_model(name, plan.candidate, plan.model_sha256)
            bar = st.progress(0.0, text=f"Scoring {plan.source.qualified_name} with {plan.candidate_label}…")
            result = predict.run(
                data.backend(), plan, model=model, progress=lambda f, message: bar.progress(min(f, 1.0), text=message)
            )
            bar.empty()
            data.clear()
            rating = config.label_column if config.label_source == "rating" else None
            st.session_state[done_key] = {
                "table": result.table.qualified_name,
                "location": result.table.location,
                "rows": result.rows,
                "without_text": result.without_text,
                "seconds": result.seconds,
                "candidate": plan.candidate_label,
                "starter": starter_query(result.table.database, result.table.name),
                "disagree": (
                    predict.disagreement_sql(result.table, rating)
                    if rating and any(c.name == rating for c in result.table.all_columns)
                    else None
                ),
            }
    done = st.session_state.get(done_key)
    if done:
        st.success(
            f"Wrote {done['rows']:,} rows scored by {done['candidate']} to **{done['table']}** ({done['location']}) "
            f"in {done['seconds']:.1f} s; {done['without_text']:,} reviews without text have no prediction.",
            icon=":material/check_circle:",
        )
        with st.container(horizontal=True):
            st.page_link(
                "pages/sql.py",
                label=f"Query {done['table']}",
                icon=":material/terminal:",
                query_params={"sql": done["starter"]},
            )
            if done["disagree"]:
                st.page_link(
                    "pages/sql.py",
                    label="Where the model and the stars disagree",
                    icon=":material/compare_arrows:",
                    query_params={"sql": done["disagree"]},
                )
            st.page_link(
                "pages/sentiment.py",
                label="Its predicted sentiment on the Sentiment page",
                icon=":material/sentiment_satisfied:",
                query_params={"table": done["table"], "label": "predicted_sentiment", "def": "label column"},
            )
