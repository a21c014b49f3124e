"""Score a table with a finished job's candidate, from the AutoML page: the form, the progress and what to open next
(the new table on the SQL page, where the model and the stars disagree, its predicted sentiment on the Sentiment
page). The work is :mod:`lib.automl.predict`'s."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from lib.automl import jobs


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

            def show(fraction: float, message: str) -> None:
                bar.progress(min(fraction, 1.0), text=message)

            result = predict.run(data.backend(), plan, model=model, progress=show)
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
