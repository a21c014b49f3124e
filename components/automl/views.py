"""The AutoML page's pieces: job list, stages, leaderboard, candidate comparison and insights, try-it, start form.

Everything here draws records that :mod:`lib.automl` wrote (small JSON); nothing trains or reads table rows.
Classes named negative / neutral / positive keep LakeLens's sentiment colours on every chart.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from lib.automl import jobs
from lib.automl.metrics import OBJECTIVES
from lib.charts import SENTIMENT_COLORS

if TYPE_CHECKING:
    from lib.automl.engine import TextModel
    from lib.settings import Settings

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
            start = jobs.parse_time(record.started)
            end = jobs.parse_time(record.ended) if record.ended else None
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
                "hyperparameters": ", ".join(f"{k}={short(v)}" for k, v in c.get("hyperparameters", {}).items()),
            }
        )
    frame = pd.DataFrame(rows)
    if not frame.empty:
        frame = frame.sort_values("validation objective", ascending=False, kind="stable").reset_index(drop=True)
    return frame


def short(value: Any) -> str:
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
    count_cells, share_cells = counts.to_numpy(), shares.to_numpy()
    text = [
        [f"{count_cells[i, j]:,}<br>{share_cells[i, j]:.0%}" for j in range(len(classes))] for i in range(len(classes))
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


def start_form(settings: Settings) -> None:
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


def try_it(model: TextModel, label: str) -> None:
    st.session_state.setdefault("automl.try", "Stopped working after a week. Very disappointed with the quality.")
    text = st.text_area("A review", key="automl.try", height=100, help="Press Ctrl+Enter or click outside to ask again")
    if not str(text).strip():
        st.caption("Type a review to see what the candidate answers.")
        return
    proba = model.predict_proba([str(text)])[0]
    best = int(proba.argmax())
    st.markdown(f"**{label}** answers **{model.classes[best]}** ({proba[best]:.0%} probability).")
    st.plotly_chart(probability_chart(model.classes, proba), width="stretch")
